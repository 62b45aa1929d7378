"""Small helpers shared by the figure modules."""

from __future__ import annotations

import csv
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure


def _figure(ax: Axes) -> Figure:
    """The top-level figure that ``ax`` is drawn on (what ``savefig`` is called on)."""
    fig = ax.figure
    if not isinstance(fig, Figure):  # a sub-figure: its root figure
        fig = fig.figure
    if not isinstance(fig, Figure):
        raise TypeError(f"The axes {ax!r} belong to no figure.")
    return fig


def _stat(row: dict, metric: str) -> tuple[float, float]:
    """(mean, standard deviation) of ``metric`` in a summary row (``METRIC_mean``,
    ``METRIC_std``), or (value, 0) in a row of one run."""
    if f"{metric}_mean" in row:
        return float(row[f"{metric}_mean"]), float(row[f"{metric}_std"])
    return float(row[metric]), 0.0


def read_table(path: str | Path) -> list[dict[str, float | str]]:
    """Read a CSV, converting numeric cells to floats."""
    def cell(v: str) -> float | str:
        try:
            return float(v)
        except (ValueError, TypeError):  # text, or None for a cell missing from a short row
            return v

    with open(path, newline="") as f:
        return [{k: cell(v) for k, v in r.items()} for r in csv.DictReader(f)]
