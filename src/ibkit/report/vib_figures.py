"""Figures of Deep VIB: the trade-off over a beta sweep (Alemi et al. Fig. 1) and 2-D embeddings
(Fig. 2). Axes in, artists out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from ibkit.report._axes import _figure, _stat, read_table


def _axes(ax: Axes | None, size: tuple[float, float] = (5, 4)) -> Axes:
    return Figure(figsize=size, layout="constrained").add_subplot() if ax is None else ax


def _has(row: dict, metric: str) -> bool:
    return metric in row or f"{metric}_mean" in row


def _seeds_note(rows: list[dict]) -> str:
    counts = sorted({int(r["count"]) for r in rows if "count" in r})
    if not counts or counts == [1]:
        return ""
    n = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f" (mean +/- sd, {n} seeds)"


def plot_error_vs_beta(rows: list[dict], ax: Axes | None = None, key: str = "objective.beta"
                       ) -> Axes:
    """Test (and validation) error in per cent against beta on a log axis.

    ``rows`` are runs (``sweep.csv``) or points aggregated over seeds (``sweep_summary.csv``:
    the mean is drawn, with one standard deviation as an error bar).
    """
    ax = _axes(ax)
    rows = sorted(rows, key=lambda r: r[key])
    beta = [r[key] for r in rows]
    for split, style in (("test", "o-"), ("val", "s--")):
        m = f"{split}_error_pct"
        if rows and _has(rows[0], m):
            mean, sd = zip(*(_stat(r, m) for r in rows), strict=True)
            ax.errorbar(beta, mean, yerr=sd, fmt=style, capsize=3, label=split)
    ax.set_xscale("log")
    errors = [float(v) for line in ax.lines for v in np.asarray(line.get_ydata()).ravel()
              if float(v) > 0]
    if errors and max(errors) > 10 * min(errors):  # keep the small errors and their bars legible
        ax.set_yscale("log")
    ax.set_xlabel("beta (VIB: larger = more compression)")
    ax.set_ylabel("error (%)")
    ax.set_title("error over beta" + _seeds_note(rows))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return ax


def plot_ib_tradeoff(rows: list[dict], ax: Axes | None = None, key: str = "objective.beta",
                     split: str = "test") -> Axes:
    """I(Z;Y) lower bound against I(Z;X) upper bound (bits), one point per beta (Alemi Fig. 1).

    With rows aggregated over seeds, each point is the mean with one standard deviation of
    either bound as error bars.
    """
    ax = _axes(ax)
    rows = sorted(rows, key=lambda r: r[key])
    x, xerr = zip(*(_stat(r, f"{split}_kl_bits") for r in rows), strict=True) if rows else ((), ())
    y, yerr = (zip(*(_stat(r, f"{split}_izy_lower_bits") for r in rows), strict=True)
               if rows else ((), ()))
    betas = [max(r[key], 1e-12) for r in rows]
    h_y = (_stat(rows[0], f"{split}_izy_lower_bits")[0]
           + _stat(rows[0], f"{split}_class_loss_bits")[0]) if rows else 0
    ax.axhline(h_y, ls="--", color="0.5", lw=1, label=f"H(Y) = {h_y:.2f} bits")
    ax.legend(frameon=False, loc="lower right")
    ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="-", color="0.7", ecolor="0.6", capsize=2,
                zorder=1)
    art = ax.scatter(x, y, c=betas, norm=LogNorm(), cmap="viridis", zorder=2)
    ax.figure.colorbar(art, ax=ax, label="beta")
    ax.set_xscale("log")
    ax.set_xlabel("I(Z;X) upper bound: mean KL (bits)")
    ax.set_ylabel("I(Z;Y) lower bound: H(Y) - CE (bits)")
    ax.set_title(f"trade-off over beta, {split} set{_seeds_note(rows)}", fontsize=10)
    ax.grid(alpha=0.3)
    return ax


def plot_embedding(mean: np.ndarray, std: np.ndarray, labels: np.ndarray, ax: Axes | None = None,
                   max_points: int = 1000) -> Axes:
    """2-D latent means with one-sigma ellipses, coloured by class (Alemi et al. Fig. 2).

    Args:
        mean, std: ``(n, 2)`` encoder means and standard deviations.
        labels: ``(n,)`` integer classes.
    """
    ax = _axes(ax, (5.5, 5))
    cmap = colormaps["tab10"]
    for m, s, c in zip(mean[:max_points], std[:max_points], labels[:max_points], strict=True):
        ax.add_patch(Ellipse(m, 2 * s[0], 2 * s[1], color=cmap(int(c) % 10), alpha=0.15, lw=0))
    ax.scatter(mean[:max_points, 0], mean[:max_points, 1], c=[cmap(int(c) % 10) for c in
               labels[:max_points]], s=4)
    for c in np.unique(labels):
        centre = mean[labels == c].mean(0)
        ax.annotate(str(int(c)), centre, fontsize=12, weight="bold", ha="center")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_title("latent means and one-sigma ellipses")
    ax.set_aspect("equal", adjustable="datalim")
    return ax


def render_sweep_figures(sweep_dir: str | Path) -> list[Path]:
    """Draw ``error_vs_beta.png`` and ``ib_tradeoff.png`` where beta was swept: from
    ``sweep_summary.csv`` (error bars across seeds) when it exists, else ``sweep.csv``; and
    ``teacher_planes.png`` where the points are teacher-student runs; ``elbo_vs_kl.png``,
    ``samples_grid.png`` and ``tradeoff.json`` where they are hybrid VAE-PixelCNN runs."""
    from ibkit.report.hybrid_figures import render_hybrid_sweep
    from ibkit.report.teacher_figures import render_teacher_sweep

    sweep_dir = Path(sweep_dir)
    out = [*render_teacher_sweep(sweep_dir), *render_hybrid_sweep(sweep_dir)]
    summary = sweep_dir / "sweep_summary.csv"
    rows = read_table(summary if summary.is_file() else sweep_dir / "sweep.csv")
    if not rows or "objective.beta" not in rows[0]:
        return out
    figures = [("error_vs_beta.png", plot_error_vs_beta)]
    if any(k.startswith("test_kl_bits") for k in rows[0]):  # a VIB sweep (a CEB has no KL)
        figures.append(("ib_tradeoff.png", plot_ib_tradeoff))
    for name, draw in figures:
        ax = draw(rows)
        _figure(ax).savefig(sweep_dir / name, dpi=120)
        out.append(sweep_dir / name)
    return out



def render_embedding(run_dir: str | Path) -> list[Path]:
    """Draw ``figures/embedding.png`` from a run's ``embedding.csv`` (written when K = 2)."""
    run_dir = Path(run_dir)
    path = run_dir / "embedding.csv"
    if not path.is_file():
        return []
    t = np.loadtxt(path, delimiter=",", skiprows=1)  # mean1, mean2, std1, std2, label
    ax = plot_embedding(t[:, :2], t[:, 2:4], t[:, 4].astype(int))
    out = run_dir / "figures" / "embedding.png"
    _figure(ax).savefig(out, dpi=120)
    return [out]
