"""Figures of a run. Axes in, artists out: functions take ``ax=None`` and never show.

Uses matplotlib's object API (``Figure``), so no GUI backend is needed or changed.
"""

from __future__ import annotations

import csv
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

SPLIT_STYLE = {"train": "-", "val": "--", "test": ":"}


def read_metrics(path: str | Path) -> list[dict[str, float]]:
    """Read ``metrics.csv`` into rows of floats."""
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


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


def learning_curves_figure(rows: list[dict[str, float]], title: str = "") -> Figure:
    """Loss and error (per cent, log scale) per epoch for train, validation and test."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax_loss, ax_err = fig.subplots(1, 2)
    plot_metric(rows, "loss", ax_loss, label="loss (objective)")
    error_rows = [{k: (1 - v if k.endswith("_acc") else v) for k, v in r.items()} for r in rows]
    plot_metric(error_rows, "acc", ax_err, scale=100.0, label="error (%)")
    ax_err.set_yscale("log")
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
    return [path]
