"""Figures and the run report: the only sub-package that imports matplotlib."""

from ibkit.report.figures import (
    learning_curves_figure,
    plot_metric,
    read_metrics,
    render_figures,
)
from ibkit.report.summary import format_summary, read_summary

__all__ = [
    "format_summary",
    "learning_curves_figure",
    "plot_metric",
    "read_metrics",
    "read_summary",
    "render_figures",
]
