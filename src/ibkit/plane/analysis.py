"""Reading a recorded plane: the compression transition, partitions, the generalisation bound."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ibkit._errors import param_error
from ibkit.estimators.binning import BinningEstimator, row_ids
from ibkit.plane.estimation import PlanePoint


def peak_epochs(points: Sequence[PlanePoint]) -> dict[str, dict[str, dict[str, float]]]:
    """Per estimator and layer: the epoch where I(X;T) peaks, its value, and the last value.

    A peak well before the last epoch with a lower final value is the transition from
    fitting to compression of Shwartz-Ziv & Tishby; ``compression_bits`` is the drop.
    """
    out: dict[str, dict[str, dict[str, float]]] = {}
    groups: dict[tuple[str, str], list[PlanePoint]] = {}
    for p in points:
        groups.setdefault((p.estimator, p.layer), []).append(p)
    for (est, layer), pts in groups.items():
        pts = sorted(pts, key=lambda p: p.epoch)
        best = max(pts, key=lambda p: p.I_XT_bits)
        out.setdefault(est, {})[layer] = {
            "peak_epoch": best.epoch, "peak_I_XT_bits": best.I_XT_bits,
            "last_epoch": pts[-1].epoch, "last_I_XT_bits": pts[-1].I_XT_bits,
            "compression_bits": best.I_XT_bits - pts[-1].I_XT_bits,
        }
    return out


def partition_cells(t: np.ndarray, labels: np.ndarray, estimator: BinningEstimator,
                    n_classes: int) -> list[dict[str, float]]:
    """The cells of the partition a binned layer induces, with each cell's label distribution.

    Returns one entry per cell: its size, the share of each label, and its purity
    (the largest share). A homogeneous partition has purity 1 in every cell.
    """
    ids = row_ids(estimator.symbols(np.asarray(t, dtype=np.float64))[0])
    cells: list[dict[str, float]] = []
    for cell in np.unique(ids):
        members = labels[ids == cell]
        counts = np.bincount(members, minlength=n_classes).astype(float)
        shares = counts / counts.sum()
        cells.append({"cell": len(cells), "size": int(counts.sum()), "purity": float(shares.max()),
                      **{f"p_y{c}": float(s) for c, s in enumerate(shares)}})
    return sorted(cells, key=lambda c: -c["size"])


def homogeneity(cells: Sequence[dict[str, float]]) -> float:
    """Size-weighted mean purity of the cells (1 = every cell holds one label only)."""
    total = sum(c["size"] for c in cells)
    return sum(c["size"] * c["purity"] for c in cells) / total


def compression_bound(i_xt_bits: float, m: int, delta: float = 0.05) -> float:
    """The input-compression generalisation bound of the survey (Tishby):

        epsilon^2 < (2^{I(X;T)} + ln(1/delta)) / (2m)

    Returns epsilon, the bound on |train error - test error| with probability 1 - delta.
    One bit less of I(X;T) is worth twice as many examples m.

    Example:
        >>> round(compression_bound(3.0, 3277), 4)
        0.041
    """
    if not (isinstance(m, int) and m >= 1):
        raise param_error("m", "compression_bound", "an int >= 1", m)
    if not 0.0 < delta < 1.0:
        raise param_error("delta", "compression_bound", "a float in (0, 1)", delta)
    return math.sqrt((2.0 ** i_xt_bits + math.log(1.0 / delta)) / (2.0 * m))
