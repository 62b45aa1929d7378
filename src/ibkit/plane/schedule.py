"""Which epochs get an information-plane point."""

from __future__ import annotations

import numpy as np

from ibkit._errors import param_error


def epoch_schedule(n_epochs: int, n_points: int | None = None) -> list[int]:
    """Epochs 0 (before training) to ``n_epochs`` at which to compute the plane.

    ``n_points=None`` (or at least ``n_epochs + 1``) gives every epoch; otherwise
    ``n_points`` distinct epochs spaced evenly in log(epoch + 1), always including 0 and
    ``n_epochs``: dense early, where the layers change fastest, sparse late, as in
    Shwartz-Ziv & Tishby (274 of 8000 epochs).

    Example:
        >>> epoch_schedule(8000, 274)[:8], len(epoch_schedule(8000, 274))
        ([0, 1, 2, 3, 4, 5, 6, 7], 274)
    """
    if not isinstance(n_epochs, int) or n_epochs < 1:
        raise param_error("n_epochs", "epoch_schedule", "an int >= 1", n_epochs)
    if n_points is None or n_points >= n_epochs + 1:
        return list(range(n_epochs + 1))
    if not isinstance(n_points, int) or n_points < 2:
        raise param_error("n_points", "epoch_schedule", "an int >= 2 or None", n_points)
    lo, hi = n_points, 50 * n_points + n_epochs
    while lo < hi:  # the smallest grid size whose distinct rounded epochs reach n_points
        mid = (lo + hi) // 2
        if len(_grid(n_epochs, mid)) >= n_points:
            hi = mid
        else:
            lo = mid + 1
    epochs = _grid(n_epochs, lo)
    while len(epochs) > n_points:  # drop from the dense end, keeping 0 and the last epoch
        epochs.pop(len(epochs) // 2)
    return epochs


def _grid(n_epochs: int, num: int) -> list[int]:
    values = np.rint(np.expm1(np.linspace(0.0, np.log1p(n_epochs), num))).astype(int)
    return sorted(set(values.tolist()))
