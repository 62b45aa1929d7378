"""Figures and the run report: the only sub-package that imports matplotlib."""

from ibkit.report.compress_figures import (
    compression_mi_figure,
    plot_units_kept,
    render_compression_figure,
)
from ibkit.report.figures import (
    learning_curves_figure,
    plot_bounds,
    plot_metric,
    read_metrics,
    render_figures,
)
from ibkit.report.html import html_report, sweep_html_report
from ibkit.report.html_plane import plane_svg
from ibkit.report.hybrid_figures import (
    compare_tradeoffs,
    plot_elbo_vs_kl,
    render_hybrid_sweep,
    samples_grid_figure,
)
from ibkit.report.plane_figures import (
    plane_figure,
    plot_dynamics,
    plot_partitions,
    plot_plane,
    render_plane_figures,
)
from ibkit.report.robustness_figures import render_robustness_figures, robustness_figure
from ibkit.report.summary import format_summary, read_summary
from ibkit.report.vib_figures import (
    plot_embedding,
    plot_error_vs_beta,
    plot_ib_tradeoff,
    read_table,
    render_embedding,
    render_sweep_figures,
)

__all__ = [
    "compression_mi_figure",
    "html_report",
    "plane_svg",
    "sweep_html_report",
    "render_robustness_figures",
    "robustness_figure",
    "compare_tradeoffs",
    "plot_elbo_vs_kl",
    "render_hybrid_sweep",
    "samples_grid_figure",
    "plot_units_kept",
    "render_compression_figure",
    "plane_figure",
    "plot_dynamics",
    "plot_partitions",
    "plot_plane",
    "render_plane_figures",
    "plot_bounds",
    "plot_embedding",
    "plot_error_vs_beta",
    "plot_ib_tradeoff",
    "read_table",
    "render_embedding",
    "render_sweep_figures",
    "format_summary",
    "learning_curves_figure",
    "plot_metric",
    "read_metrics",
    "read_summary",
    "render_figures",
]
