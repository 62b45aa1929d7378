"""Small helpers shared by the figure modules."""

from __future__ import annotations

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
