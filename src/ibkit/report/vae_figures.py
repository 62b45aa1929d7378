"""Figures of generative runs: a grid of images sampled from a VAE's prior."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def image_grid_figure(images: np.ndarray, title: str = "") -> Figure:
    """A square grid of grey images ``(n, H, W)`` with values in [0, 1]."""
    n = len(images)
    side = max(1, math.ceil(math.sqrt(n)))
    fig = Figure(figsize=(side * 0.7 + 0.4, side * 0.7 + 0.6), layout="constrained")
    axes = fig.subplots(side, side, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < n:
            ax.imshow(images[i], cmap="gray", vmin=0.0, vmax=1.0)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def read_samples(path: str | Path) -> tuple[np.ndarray, str] | None:
    """The grey images ``(n, H, W)`` of a ``samples.csv`` and its ``source`` text ("" when it
    has none); None for an empty file or images that are not single-channel."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    shape = tuple(int(s) for s in rows[0]["shape"].split("x")) if rows else ()
    if len(shape) != 3 or shape[0] != 1:
        return None
    values = np.array([[float(r[k]) for k in r if k not in ("shape", "source")] for r in rows])
    return values.reshape(len(rows), shape[1], shape[2]), rows[0].get("source") or ""


def render_samples(run_dir: str | Path) -> list[Path]:
    """Draw ``figures/samples.png`` from a run's ``samples.csv`` (by default decoder means of
    z ~ N(0, I); its ``source`` column, where present, says what the images are; single-channel
    images only)."""
    run_dir = Path(run_dir)
    path = run_dir / "samples.csv"
    found = read_samples(path) if path.is_file() else None
    if found is None:
        return []
    images, source = found
    fig = image_grid_figure(images.clip(0, 1), source or "decoder means of z ~ N(0, I)")
    out = run_dir / "figures" / "samples.png"
    fig.savefig(out, dpi=100)
    return [out]
