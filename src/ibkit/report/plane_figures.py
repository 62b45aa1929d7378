"""Figures of the information plane: trajectories per layer coloured by epoch, the optimal
IB curve, gradient signal and noise, the partition cells of a layer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ibkit.plane import PlanePoint, read_points
from ibkit.report._axes import _figure
from ibkit.report.vib_figures import read_table

CMAP = "viridis"


def _error_bars(ax: Axes, points: Sequence[PlanePoint]) -> None:
    """+/- 1.96 standard errors (a 95 % interval) on each coordinate that has one: one
    ``errorbar`` call per coordinate for all the points that have it."""
    for axis in ("x", "y"):
        attr = "I_XT_stderr_bits" if axis == "x" else "I_TY_stderr_bits"
        with_err = [p for p in points if getattr(p, attr) is not None]
        if with_err:
            err = [1.96 * getattr(p, attr) for p in with_err]
            ax.errorbar([p.I_XT_bits for p in with_err], [p.I_TY_bits for p in with_err],
                        xerr=err if axis == "x" else None, yerr=err if axis == "y" else None,
                        fmt="none", ecolor="0.5", lw=0.6, zorder=1)


def plot_plane(points: Sequence[PlanePoint], estimator: str, ax: Axes | None = None,
               curve: Sequence[dict] | None = None, colorbar: bool = True) -> Axes:
    """One estimator's plane: I(T;Y) against I(X;T) in bits, one line per layer, points
    coloured by epoch on a log scale, 95 % error bars where the estimator gives standard
    errors, the optimal IB curve (rows of ``optimal_curve.csv``) dashed where given."""
    ax = Figure(figsize=(5.5, 4.5)).add_subplot() if ax is None else ax
    pts = [p for p in points if p.estimator == estimator]
    if not pts:
        ax.set_title(f"{estimator}: no points")
        return ax
    last = max(p.epoch for p in pts)
    norm = LogNorm(vmin=1, vmax=max(last + 1, 2))
    layers = list(dict.fromkeys(p.layer for p in pts))
    sc = None
    for layer in layers:
        lp = sorted((p for p in pts if p.layer == layer), key=lambda p: p.epoch)
        xs, ys = [p.I_XT_bits for p in lp], [p.I_TY_bits for p in lp]
        ax.plot(xs, ys, color="0.75", lw=0.8, zorder=1)
        sc = ax.scatter(xs, ys, c=[p.epoch + 1 for p in lp], cmap=CMAP, norm=norm, s=14,
                        zorder=2, edgecolors="none")
        _error_bars(ax, lp)
        ax.annotate(layer, (xs[-1], ys[-1]), fontsize=7, xytext=(3, -8),
                    textcoords="offset points")
    if curve:
        xs, ys = [r["I_XT_bits"] for r in curve], [r["I_TY_bits"] for r in curve]
        right = max(p.I_XT_bits for p in pts)
        if right > xs[-1]:  # the curve is flat at I(X;Y) beyond its last point
            xs, ys = [*xs, right], [*ys, ys[-1]]
        ax.plot(xs, ys, "k--", lw=1, label="optimal IB curve")
        ax.legend(loc="lower right", fontsize=8)
    kind = pts[0].kind.replace("_", " ")
    ax.set_xlabel(f"I(X;T) [bits] ({kind})")
    ax.set_ylabel(f"I(T;Y) [bits] ({pts[0].I_TY_kind.replace('_', ' ')})")
    ax.set_title(estimator)
    if colorbar and sc is not None:
        ax.figure.colorbar(sc, ax=ax, label="epoch + 1")
    return ax


def plane_figure(points: Sequence[PlanePoint], curve: Sequence[dict] | None = None,
                 title: str = "") -> Figure:
    """One panel per estimator."""
    names = list(dict.fromkeys(p.estimator for p in points))
    fig = Figure(figsize=(5.2 * len(names), 4.4), layout="constrained")
    for i, name in enumerate(names):
        plot_plane(points, name, fig.add_subplot(1, len(names), i + 1), curve)
    if title:
        fig.suptitle(title)
    return fig


def plot_dynamics(rows: Sequence[dict], ax: Axes | None = None) -> Axes:
    """Norm of the mean gradient (solid) and of its standard deviation (dashed) per layer
    against epoch, log axes (Shwartz-Ziv & Tishby's drift and diffusion phases)."""
    ax = Figure(figsize=(6, 4)).add_subplot() if ax is None else ax
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    for i, layer in enumerate(layers):
        lr = [r for r in rows if r["layer"] == layer]
        e = np.array([r["epoch"] for r in lr], dtype=float)
        mean = np.array([r["grad_mean_norm"] for r in lr], dtype=float)
        std = np.array([r["grad_std_norm"] for r in lr], dtype=float)
        e, mean, std = _log_bins(e, mean, std)
        color = f"C{i % 10}"
        ax.plot(e, mean, "-", color=color, lw=1.2, label=layer)
        ax.plot(e, std, "--", color=color, lw=1.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("gradient norm: mean (solid), std (dashed)")
    ax.set_title("mean and std of mini-batch gradients (averaged in log-spaced epoch bins)",
                 fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    return ax


def _log_bins(epochs: np.ndarray, *series: np.ndarray, n: int = 120) -> tuple[np.ndarray, ...]:
    """Averages over log-spaced epoch bins, so that thousands of noisy epochs stay readable."""
    if len(epochs) <= 2 * n:
        return (epochs, *series)
    edges = np.unique(np.geomspace(epochs.min(), epochs.max() + 1, n + 1).astype(int))
    which = np.digitize(epochs, edges)
    keep = np.unique(which)
    return tuple(np.array([v[which == k].mean() for k in keep]) for v in (epochs, *series))


def plot_partitions(cells: Sequence[dict], ax: Axes | None = None, top: int = 40) -> Axes:
    """The largest cells of a binned layer: size (bar height) and label shares (stacked)."""
    ax = Figure(figsize=(7, 3.5)).add_subplot() if ax is None else ax
    cells = list(cells)[:top]
    keys = sorted(k for k in cells[0] if k.startswith("p_y")) if cells else []
    bottom = np.zeros(len(cells))
    for i, k in enumerate(keys):
        h = np.array([c["size"] * c[k] for c in cells])
        ax.bar(range(len(cells)), h, bottom=bottom, color=f"C{i}", label=f"y = {k[3:]}")
        bottom += h
    ax.set_xlabel("cell of the last hidden layer (largest first)")
    ax.set_ylabel("inputs in the cell")
    ax.legend(fontsize=8)
    return ax


def render_plane_figures(run_dir: str | Path) -> list[Path]:
    """Draw ``plane.png``, ``dynamics.png`` and ``partitions.png`` from the run's tables."""
    run_dir = Path(run_dir)
    out, paths = run_dir / "figures", []
    points = read_points(run_dir / "plane.csv")
    if points:
        curve_path = run_dir / "optimal_curve.csv"
        curve = read_table(curve_path) if curve_path.is_file() else None
        paths.append(out / "plane.png")
        plane_figure(points, curve, run_dir.name).savefig(paths[-1], dpi=120)
    for name, plot in (("dynamics", plot_dynamics), ("partitions", plot_partitions)):
        if (run_dir / f"{name}.csv").is_file():
            rows = read_table(run_dir / f"{name}.csv")
            if rows:
                ax = plot(rows)
                paths.append(out / f"{name}.png")
                _figure(ax).savefig(paths[-1], dpi=120, bbox_inches="tight")
    return paths
