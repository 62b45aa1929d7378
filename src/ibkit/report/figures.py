"""Figures of a run. Axes in, artists out: functions take ``ax=None`` and never show.

Uses matplotlib's object API (``Figure``), so no GUI backend is needed or changed.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

SPLIT_STYLE = {"train": "-", "val": "--", "test": ":"}


def read_metrics(path: str | Path) -> list[dict[str, float]]:
    """Read ``metrics.csv`` into rows of floats (empty cells left out); RunDirError if a row
    is cut short (a file damaged outside ibkit)."""
    from ibkit._errors import RunDirError
    from ibkit.report.vib_figures import read_table

    rows = read_table(path)
    short = [i + 2 for i, r in enumerate(rows) if None in r.values() or None in r]
    if short:
        raise RunDirError(f"'{path}' is damaged: line {short[0]} has fewer or more cells than "
                          "the header.")
    return [{k: v for k, v in row.items() if isinstance(v, float)} for row in rows]


def _new_axes(ax: Axes | None) -> Axes:
    return Figure(figsize=(5, 3.5)).add_subplot() if ax is None else ax


def plot_metric(rows: list[dict[str, float]], metric: str, ax: Axes | None = None,
                scale: float = 1.0, label: str | None = None) -> Axes:
    """Plot ``<split>_<metric>`` against epoch for every split present.

    Args:
        rows: metric rows as read by :func:`read_metrics`.
        metric: for example ``"loss"`` or ``"acc"``.
        ax: axes to draw on; a new figure's axes when None.
        scale: multiply values (for example 100 for per cent).
        label: y-axis label; ``metric`` when None.
    """
    ax = _new_axes(ax)
    epochs = [r["epoch"] for r in rows]
    for split, style in SPLIT_STYLE.items():
        key = f"{split}_{metric}"
        if rows and key in rows[0]:
            ax.plot(epochs, [r[key] * scale for r in rows], style, label=split)
    ax.set_xlabel("epoch")
    ax.set_ylabel(label or metric)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax


def plot_bounds(rows: list[dict[str, float]], ax: Axes | None = None, split: str = "val") -> Axes:
    """The VIB bounds per epoch in bits: I(Z;X) upper (mean KL) and I(Z;Y) lower (H(Y) - CE);
    for a CEB run, the residual I(X;Z|Y) upper bound in place of the first."""
    ax = _new_axes(ax)
    epochs = [r["epoch"] for r in rows]
    ceb = bool(rows) and f"{split}_kl_bits" not in rows[0] and f"{split}_residual_bits" in rows[0]
    key, name = ((f"{split}_residual_bits", "I(X;Z|Y) upper bound") if ceb
                 else (f"{split}_kl_bits", "I(Z;X) upper bound"))
    ax.plot(epochs, [r[key] for r in rows], "-", label=name)
    ax.set_yscale("log")
    ax.set_ylabel(f"{name} (bits)")
    twin = ax.twinx()
    twin.plot(epochs, [r[f"{split}_izy_lower_bits"] for r in rows], "-", color="C1",
              label="I(Z;Y) lower bound")
    twin.set_ylabel("I(Z;Y) lower bound (bits)", color="C1")
    ax.set_xlabel("epoch")
    ax.set_title(f"bounds on the {split} set")
    ax.grid(alpha=0.3)
    return ax


def learning_curves_figure(rows: list[dict[str, float]], title: str = "") -> Figure:
    """Loss and error (per cent, log scale) per epoch for train, validation and test (without
    accuracies, the objective's first metric instead of the error); for a VIB run, a third
    panel with both information bounds per epoch."""
    vib = bool(rows) and "val_izy_lower_bits" in rows[0]
    fig = Figure(figsize=(15 if vib else 10, 3.8), layout="constrained")
    axes = fig.subplots(1, 3 if vib else 2)
    plot_metric(rows, "loss", axes[0], label="loss (objective)")
    if rows and "train_acc" not in rows[0]:  # no class scores: the objective's first metric
        metric = next((k[6:] for k in rows[0] if k.startswith("train_") and k != "train_loss"),
                      "loss")
        plot_metric(rows, metric, axes[1])
    else:
        error_rows = [{k: (1 - v if k.endswith("_acc") else v) for k, v in r.items()}
                      for r in rows]
        plot_metric(error_rows, "acc", axes[1], scale=100.0, label="error (%)")
        axes[1].set_yscale("log")
    if vib:
        plot_bounds(rows, axes[2])
    fig.suptitle(title)
    return fig


def render_figures(run_dir: str | Path) -> list[Path]:
    """(Re-)draw a run's figures from its ``metrics.csv`` into ``figures/``; return the paths."""
    run_dir = Path(run_dir)
    rows = read_metrics(run_dir / "metrics.csv")
    out = run_dir / "figures"
    out.mkdir(exist_ok=True)
    path = out / "learning_curves.png"
    learning_curves_figure(rows, title=run_dir.name).savefig(path, dpi=120)
    from ibkit.report.compress_figures import render_compression_figure
    from ibkit.report.plane_figures import render_plane_figures
    from ibkit.report.teacher_figures import render_teacher_figures
    from ibkit.report.vae_figures import render_samples
    from ibkit.report.vib_figures import render_embedding

    return [path, *render_embedding(run_dir), *render_plane_figures(run_dir),
            *render_compression_figure(run_dir), *render_samples(run_dir),
            *render_teacher_figures(run_dir)]
