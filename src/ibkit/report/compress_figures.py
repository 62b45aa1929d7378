"""Figure of a compression run: units kept per gated layer."""

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


def render_compression_figure(run_dir: str | Path) -> list[Path]:
    """``figures/units_kept.png`` from ``compression.csv`` when the run has one."""
    run_dir = Path(run_dir)
    table = run_dir / "compression.csv"
    if not table.is_file():
        return []
    path = run_dir / "figures" / "units_kept.png"
    path.parent.mkdir(exist_ok=True)
    _figure(plot_units_kept(read_table(table))).savefig(path, dpi=120, bbox_inches="tight")
    return [path]
