"""The embedded default data set: scikit-learn's 8x8 handwritten digits.

1,797 images shipped inside scikit-learn (no download), pixel values 0..16.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from ibkit.data._scaling import scale_pixels
from ibkit.data._types import Dataset
from ibkit.data.splits import train_val_test


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    """Images ``(1797, 8, 8)`` and labels from the CSV that scikit-learn ships.

    The file is read directly: importing ``sklearn.datasets`` costs about 2 s.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            raw = np.loadtxt(path, delimiter=",", dtype=np.float64)  # (1797, 65)
            return raw[:, :-1].reshape(-1, 8, 8), raw[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return bunch.images, bunch.target


def load_digits(
    scale: str = "unit", val_fraction: float = 0.15, test_fraction: float = 0.2, seed: int = 0
) -> Dataset:
    """scikit-learn's digits as a Dataset with ``x`` of shape ``(n, 1, 8, 8)``.

    Args:
        scale: ``"unit"`` for [0, 1] or ``"symmetric"`` for [-1, 1].
        val_fraction, test_fraction: shares of the 1,797 images held out (seeded).
        seed: seed of the split.

    Example:
        >>> d = load_digits()
        >>> d.input_shape, d.n_classes
        ((1, 8, 8), 10)
    """
    images, target = _read_digits()
    x = scale_pixels(torch.from_numpy(images), 16, scale).unsqueeze(1)  # (n, 1, 8, 8)
    y = torch.from_numpy(target).long()
    train, val, test = train_val_test(x, y, val_fraction, test_fraction, seed)
    return Dataset("digits", train, val, test, 10, {"source": "sklearn.datasets.load_digits"})
