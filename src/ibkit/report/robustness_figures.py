"""Figures of a robustness evaluation (Deep VIB Fig. 4 and its re-evaluation): robust accuracy
against beta per attack and gradient, VIB and CEB side by side, the deterministic baseline as
a line; the Carlini-Wagner perturbation norms relative to the deterministic model's."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ibkit.report._axes import read_table

Row = dict[str, Any]
STYLES = {"eot": "-", "exact": "-", "predictive": "-", "single-draw": "--",
          "transfer-mean": ":", "square": "-.", "all": "-"}


def _gradient(r: Row) -> str:
    return "square" if r["attack"] == "square" else str(r.get("gradient", ""))


def _by_beta(rows: list[Row], keep: Callable[[Row], bool], value: str,
             label: Callable[[Row], str] = _gradient
             ) -> dict[tuple[str, str], list[tuple[float, float, float]]]:
    """(group, label) -> [(beta, mean, std over seeds)], sorted by beta."""
    cells: dict[tuple[str, str, float], list[float]] = {}
    for r in rows:
        if keep(r):
            cells.setdefault((str(r["group"]), label(r), float(r["beta"])),
                             []).append(float(r[value]))
    out: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for (g, grad, beta), vs in sorted(cells.items()):
        out.setdefault((g, grad), []).append((beta, float(np.mean(vs)),
                                              float(np.std(vs, ddof=1)) if len(vs) > 1 else 0.0))
    return out


def _draw(ax: Axes, series: dict[tuple[str, str], list[tuple[float, float, float]]],
          title: str, ylabel: str) -> None:
    colours = {"vib": "C0", "ceb": "C1", "deterministic": "k"}
    for (group, name), pts in series.items():
        colour = colours.get(group, "C2")
        style = STYLES.get(name.split(" ")[-1], "-")
        marker = "s" if "targeted" in name else "o"
        if group == "deterministic" or all(math.isnan(b) for b, _, _ in pts):
            ax.axhline(pts[0][1], color=colour, ls=style, lw=1, label=f"deterministic ({name})")
            continue
        b, m, s = zip(*pts, strict=True)
        ax.errorbar(b, m, yerr=s, color=colour, ls=style, marker=marker, ms=3, capsize=2,
                    label=f"{group} ({name})")
    ax.set_xscale("log")
    ax.set_xlabel("beta")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=6)
    else:
        ax.text(0.5, 0.5, "nothing to draw", ha="center", transform=ax.transAxes)


def robustness_figure(rows: list[Row], norms: list[Row], eps: float) -> Figure:
    """Four panels: PGD and Square at L-inf ``eps``; Carlini-Wagner L2 (untargeted and
    targeted); the worst case over the L-inf attacks at ``eps``; the median L2 of successful
    Carlini-Wagner perturbations relative to the deterministic model's."""
    fig = Figure(figsize=(12, 8.5), layout="constrained")
    axes = fig.subplots(2, 2).flat
    _draw(axes[0], _by_beta(rows, lambda r: r["attack"] in ("pgd", "square")
                            and r["norm"] == "linf" and float(r["eps"]) == eps, "robust_acc"),
          f"PGD (by gradient) and Square, L-inf eps = {eps:g}", "robust accuracy")
    _draw(axes[1], _by_beta(rows, lambda r: str(r["attack"]).startswith("cw-l2"), "robust_acc",
                            lambda r: f"{r['attack']} {r['gradient']}"),
          "Carlini-Wagner L2: untargeted (circles), targeted (squares)",
          "accuracy under the attack")
    _draw(axes[2], _by_beta(rows, lambda r: r["attack"] == "worst-case"
                            and float(r["eps"]) == eps, "robust_acc"),
          f"worst case per example over all L-inf attacks, eps = {eps:g}", "robust accuracy")
    det = [float(n["l2_median"]) for n in norms if n["group"] == "deterministic"
           and n["attack"] == "cw-l2" and not math.isnan(float(n["l2_median"]))]
    ref = float(np.mean(det)) if det else math.nan
    rel = [{**n, "relative": float(n["l2_median"]) / ref} for n in norms
           if n["attack"] == "cw-l2" and not math.isnan(float(n["l2_median"]))]
    _draw(axes[3], _by_beta(rel, lambda r: True, "relative"),
          "median L2 of successful untargeted Carlini-Wagner perturbations / deterministic's",
          "relative L2 (Fig. 4a)")
    return fig


def render_robustness_figures(out_dir: str | Path, eps: float | None = None) -> list[Path]:
    """``robustness.png`` from ``robustness.csv`` and ``norms.csv`` of an evaluation folder
    (``eps``: the L-inf budget drawn, default the one closest to 0.1)."""
    out_dir = Path(out_dir)
    if not (out_dir / "robustness.csv").is_file():
        return []
    rows = read_table(out_dir / "robustness.csv")
    norms = read_table(out_dir / "norms.csv") if (out_dir / "norms.csv").is_file() else []
    eps_values = sorted({float(r["eps"]) for r in rows if r["norm"] == "linf"})
    if not eps_values:
        return []
    chosen = eps if eps is not None else min(eps_values, key=lambda e: abs(e - 0.1))
    path = out_dir / "robustness.png"
    robustness_figure(rows, norms, chosen).savefig(path, dpi=110)
    return [path]
