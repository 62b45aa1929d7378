"""The hybrid VAE-PixelCNN sweep (seed 004): test ELBO against VAE KL per bottleneck type
(Fig. 2), sample grids per setting (Fig. 3), and the verdict on the paper's claim that
Gaussian dropout reaches a better ELBO than the variational layer at equal VAE KL."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ibkit.report._axes import _figure, _stat, read_table
from ibkit.report.vae_figures import read_samples

ELBO, KL = "test_nelbo_bits_per_dim", "test_vae_kl_bits_per_dim"
KIND = "hybrid.bottleneck"


def _label(row: dict[str, Any]) -> str:
    kind = row.get(KIND, "")
    if kind == "dropout":
        return f"GD p={row['hybrid.dropout_p']:g}"
    if kind == "variational":
        return f"VB beta={row['hybrid.vb_beta']:g}"
    aux = row.get("hybrid.aux_weight")
    return "auxiliary decoder" if isinstance(aux, float) and aux > 0 else "no bottleneck"


def _series(rows: list[dict[str, Any]], kind: str) -> list[tuple[float, float, float, float]]:
    """(KL, KL std, -ELBO, -ELBO std) of the rows of one bottleneck type, sorted by KL."""
    out = [(*_stat(r, KL), *_stat(r, ELBO)) for r in rows if r.get(KIND) == kind]
    return sorted(out)


def compare_tradeoffs(rows: list[dict[str, Any]], margin: float = 2.0) -> dict[str, Any]:
    """Does Gaussian dropout reach a lower test -ELBO than the variational layer at equal VAE
    KL (seed 004, Fig. 2)? The variational layer's points, sorted by KL, are joined linearly;
    at each dropout point inside their KL range the gap = -ELBO(VB, interpolated) - -ELBO(GD)
    (bits per dimension; > 0: dropout is better). ``yes`` if every gap exceeds ``margin``
    times the largest seed-to-seed standard deviation of -ELBO among the repeated points,
    ``no`` if every gap is below minus that, ``inconclusive`` otherwise (also without repeated
    points or without overlap in KL)."""
    gd, vb = _series(rows, "dropout"), _series(rows, "variational")
    stds = [float(r[f"{ELBO}_std"]) for r in rows if float(r.get("count", 1) or 1) >= 2]
    noise = max(stds) if stds else math.nan
    out: dict[str, Any] = {"seed_std_bits_per_dim": noise, "margin": margin, "gaps": []}
    if len(vb) >= 2:
        kls, elbos = [p[0] for p in vb], [p[2] for p in vb]
        for kl, _, elbo, _ in gd:
            if kls[0] <= kl <= kls[-1]:
                at = float(np.interp(kl, kls, elbos))
                out["gaps"].append({"vae_kl_bits_per_dim": kl, "gd_nelbo_bits_per_dim": elbo,
                                    "vb_nelbo_bits_per_dim": at, "gap_bits_per_dim": at - elbo})
    gaps = [g["gap_bits_per_dim"] for g in out["gaps"]]
    if not gaps:
        out["verdict"], out["reason"] = "inconclusive", "no dropout point within the KL range " \
                                                        "of the variational points"
    elif math.isnan(noise):
        out["verdict"], out["reason"] = "inconclusive", "no point was run with several seeds"
    elif all(g > margin * noise for g in gaps):
        out["verdict"], out["reason"] = "yes", "every gap exceeds the seed spread"
    elif all(g < -margin * noise for g in gaps):
        out["verdict"], out["reason"] = "no", "the variational layer is better at every KL"
    else:
        out["verdict"], out["reason"] = "inconclusive", "gaps of both signs or within the " \
                                                        "seed spread"
    return out


def plot_elbo_vs_kl(rows: list[dict[str, Any]], ax: Axes | None = None) -> Axes:
    """Test -ELBO against VAE KL (both bits per dimension): one curve per bottleneck type,
    the baselines as points, error bars across seeds where a point has several."""
    ax = Figure(figsize=(5.5, 4), layout="constrained").add_subplot() if ax is None else ax
    for kind, name, style in (("dropout", "Gaussian dropout (GD)", "o-"),
                              ("variational", "variational bottleneck (VB)", "s-")):
        pts = [r for r in rows if r.get(KIND) == kind]
        if not pts:
            continue
        pts.sort(key=lambda r: _stat(r, KL)[0])
        kl, kls, el, els = zip(*(((*_stat(r, KL), *_stat(r, ELBO))) for r in pts), strict=True)
        line = ax.errorbar(kl, el, xerr=kls, yerr=els, fmt=style, ms=4, capsize=2, label=name)
        for r, x, y in zip(pts, kl, el, strict=True):
            ax.annotate(_label(r).split(" ", 1)[1], (x, y), fontsize=6, xytext=(3, 3),
                        textcoords="offset points", color=line[0].get_color())
    for r in rows:
        if r.get(KIND) == "none":
            (x, xs), (y, ys) = _stat(r, KL), _stat(r, ELBO)
            ax.errorbar([x], [y], xerr=[xs], yerr=[ys], fmt="*" if "aux" in _label(r) else "D",
                        ms=8, label=_label(r))
    ax.set_xlabel("test VAE KL (bits/dim): use of the latents")
    ax.set_ylabel("test -ELBO (bits/dim): lower is better")
    ax.set_title("seed 004 Fig. 2 (scaled): fit against latent use", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=7)
    return ax


def samples_grid_figure(runs: list[tuple[str, np.ndarray]], per_row: int = 8) -> Figure:
    """One row of sampled images ``(n, H, W)`` per setting, labelled (seed 004 Fig. 3)."""
    fig = Figure(figsize=(per_row * 0.8 + 1.8, len(runs) * 0.8 + 0.3), layout="constrained")
    axes = fig.subplots(len(runs), per_row, squeeze=False)
    for (name, images), row in zip(runs, axes, strict=True):
        for i, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if i < len(images):
                ax.imshow(images[i], cmap="gray", vmin=0.0, vmax=1.0)
            else:
                ax.set_axis_off()
        row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=7)
    return fig


def render_hybrid_sweep(sweep_dir: str | Path) -> list[Path]:
    """``elbo_vs_kl.png``, ``samples_grid.png`` and ``tradeoff.json`` of a sweep whose points
    set ``hybrid.bottleneck`` (nothing otherwise)."""
    sweep_dir = Path(sweep_dir)
    summary = sweep_dir / "sweep_summary.csv"
    rows = read_table(summary) if summary.is_file() else []
    if not rows or KIND not in rows[0] or f"{ELBO}_mean" not in rows[0]:
        return []
    out = [sweep_dir / "elbo_vs_kl.png", sweep_dir / "tradeoff.json"]
    _figure(plot_elbo_vs_kl(rows)).savefig(out[0], dpi=120)
    out[1].write_text(json.dumps(compare_tradeoffs(rows), indent=2) + "\n")
    runs, seen = [], set()
    per_run = read_table(sweep_dir / "sweep.csv") if (sweep_dir / "sweep.csv").is_file() else []
    for r in per_run:  # the first seed of each setting
        if _label(r) in seen:
            continue
        seen.add(_label(r))
        point = sweep_dir / str(r.get("run", ""))
        found = read_samples(point / "samples.csv") if (point / "samples.csv").is_file() else None
        if found is not None:
            runs.append((_label(r), found[0]))
    if runs:
        samples_grid_figure(runs).savefig(sweep_dir / "samples_grid.png", dpi=110)
        out.append(sweep_dir / "samples_grid.png")
    return out
