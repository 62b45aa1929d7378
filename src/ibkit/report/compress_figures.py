"""Figures of a compression run: units kept per gated layer, and the gates over training with
the information of the first hidden layer (VIBNet, Dai et al. 2018, Figure 2)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ibkit.report._axes import _figure
from ibkit.report.vib_figures import read_table


def plot_units_kept(rows: Sequence[dict], ax: Axes | None = None) -> Axes:
    """Bars of units per gate (grey) and units kept (colour), labelled with the kept share."""
    ax = Figure(figsize=(6, 3.5)).add_subplot() if ax is None else ax
    names = [str(r["gate"]).removesuffix("_gate") for r in rows]
    ax.bar(names, [r["units"] for r in rows], color="0.85", label="units")
    bars = ax.bar(names, [r["kept"] for r in rows], color="C0", label="kept")
    for bar, r in zip(bars, rows, strict=True):
        ax.annotate(f"{int(r['kept'])} ({r['kept_pct']:.1f} %)", (bar.get_x() + bar.get_width() / 2,
                    bar.get_height()), ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("units (log scale)")
    ax.set_title("units kept per gated layer")
    ax.legend(fontsize=8)
    return ax


def compression_mi_figure(trace: Sequence[dict], plane: Sequence[dict] = (),
                          first: str | None = None) -> Figure:
    """Figure 2 of Dai et al.: per epoch, the fraction of units kept by each gate (left
    axis) and, for the first hidden layer's gate ``first`` (default: the first gate that is
    not ``input_gate``), I(h1; x) in bits (right axis): the gate's KL bound from ``trace``
    (gates.csv) and, where ``plane`` (plane.csv rows) has that layer, each estimator's value."""
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    names = list(dict.fromkeys(str(r["gate"]) for r in trace))
    first = first or next((n for n in names if n != "input_gate"), names[0])
    for i, name in enumerate(names):
        rows = [r for r in trace if r["gate"] == name]
        ax.plot([r["epoch"] for r in rows], [100 * float(r["kept_frac"]) for r in rows],
                color=f"C{i}", label=f"{name.removesuffix('_gate')} kept")
    ax.set_xlabel("epoch")
    ax.set_ylabel("units kept (%)")
    ax.set_ylim(0, 105)
    mi = ax.twinx()
    bound = [r for r in trace if r["gate"] == first]
    mi.plot([r["epoch"] for r in bound], [float(r["kl_bits"]) for r in bound], "k--",
            label=f"I(h1; x) <= KL of {first} (bits)")
    layer = [r for r in plane if r.get("layer") == first]
    for j, est in enumerate(dict.fromkeys(str(r["estimator"]) for r in layer)):
        pts = sorted((int(r["epoch"]), float(r["I_XT_bits"])) for r in layer
                     if r["estimator"] == est)
        mi.plot([e for e, _ in pts], [v for _, v in pts], color="k", alpha=0.5 + 0.25 * j,
                label=f"I(h1; x), {est} (bits)")
    mi.set_yscale("log")  # the KL bound starts thousands of bits above any estimate
    mi.set_ylabel("I(h1; x) (bits, log scale)")
    lines = ax.get_legend_handles_labels()
    more = mi.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="center right")
    ax.set_title("units kept and the information of the first hidden layer (Dai et al. Fig. 2)",
                 fontsize=9)
    return fig


def render_compression_figure(run_dir: str | Path) -> list[Path]:
    """``figures/units_kept.png`` from ``compression.csv`` and ``figures/compression_mi.png``
    from ``gates.csv`` (with ``plane.csv`` where the run has one), when the run has them."""
    run_dir = Path(run_dir)
    out = []
    table = run_dir / "compression.csv"
    if table.is_file():
        path = run_dir / "figures" / "units_kept.png"
        path.parent.mkdir(exist_ok=True)
        _figure(plot_units_kept(read_table(table))).savefig(path, dpi=120, bbox_inches="tight")
        out.append(path)
    trace = run_dir / "gates.csv"
    if trace.is_file() and read_table(trace):
        plane = read_table(run_dir / "plane.csv") if (run_dir / "plane.csv").is_file() else []
        path = run_dir / "figures" / "compression_mi.png"
        path.parent.mkdir(exist_ok=True)
        compression_mi_figure(read_table(trace), plane).savefig(path, dpi=120,
                                                                bbox_inches="tight")
        out.append(path)
    return out
