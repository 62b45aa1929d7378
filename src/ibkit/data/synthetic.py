"""Generated tasks of the information-plane papers.

- The 12-bit task of Shwartz-Ziv & Tishby (2017): all 4,096 12-bit inputs with
  binary labels; the original labels come from ``var_u.mat`` when it is found.
- The survey's 4-bit boolean task with label noise.
Inputs are 0/1 floats; labels are int64.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch

from ibkit._errors import ChecksumError, DataError, param_error
from ibkit.data._files import RemoteFile, locate
from ibkit.data._types import Dataset, Split
from ibkit.data.splits import split_off

VAR_U = RemoteFile(
    "var_u.mat",
    "0ba9551878a855396a8de0cbaae620788ede1e7b1eb2b8373bbe017d5ea02036",
    ("https://raw.githubusercontent.com/ravidziv/IDNNs/master/data/var_u.mat",),
    algorithm="sha256",
)


def all_bit_patterns(n_bits: int) -> torch.Tensor:
    """Every ``n_bits`` pattern in counting order, most significant bit first.

    Example:
        >>> all_bit_patterns(2).tolist()
        [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    """
    codes = torch.arange(2**n_bits).unsqueeze(1)  # (2^n, 1)
    shifts = torch.arange(n_bits - 1, -1, -1)  # (n,)
    return ((codes >> shifts) & 1).to(torch.float32)  # (2^n, n)


def _icosahedron() -> np.ndarray:
    """The 12 vertices of a regular icosahedron: 12 points spread evenly on a sphere."""
    phi = (1 + 5**0.5) / 2
    pts: list[tuple[float, float, float]] = [(0, a, b * phi) for a in (-1, 1) for b in (-1, 1)]
    pts = pts + [(a, b * phi, 0) for a in (-1, 1) for b in (-1, 1)]
    pts = pts + [(a * phi, 0, b) for a in (-1, 1) for b in (-1, 1)]
    p = np.array(pts, dtype=np.float64)
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def generated_12bit_labels(x: torch.Tensor) -> torch.Tensor:
    """Labels for the 12-bit task by the paper's recipe, NOT the original ``var_u.mat``.

    The 12 bits mark points on a sphere (the icosahedron's vertices). The rule
    ``f(x) = sum_i x_i + 1/2 * sum_{i<j} x_i x_j <p_i, p_j>`` depends only on the
    pairwise angles of the marked points, so it is invariant under rotations of the
    sphere; ``y = [f(x) > theta]`` with theta the median of f over the 4,096 inputs.
    """
    p = _icosahedron()
    gram = p @ p.T  # (12, 12)
    xs = x.double().numpy()  # (4096, 12)
    pair = 0.5 * (np.einsum("ni,ij,nj->n", xs, gram, xs) - xs.sum(1))  # sum over i<j
    f = xs.sum(1) + 0.5 * pair
    return torch.from_numpy((f > np.median(f)).astype(np.int64))


def twelve_bit_task(
    data_dir: str | os.PathLike | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """All 4,096 inputs of the 12-bit task with their labels, and where the labels came from.

    Returns:
        ``(x, y, source)``: x (4096, 12) float 0/1, y (4096,) int64, source either the
        path of ``var_u.mat`` or ``"generated (not the original var_u.mat labels)"``.
    """
    x = all_bit_patterns(12)
    try:
        root = locate("tishby", (VAR_U,), data_dir, download)
    except ChecksumError:
        raise
    except DataError:
        return x, generated_12bit_labels(x), "generated (not the original var_u.mat labels)"
    from scipy.io import loadmat

    mat = loadmat(root / VAR_U.filename)
    if not np.array_equal(mat["F"].astype(np.float32), x.numpy()):
        raise DataError(f"'{root / VAR_U.filename}': F is not the 4,096 patterns in order.")
    return x, torch.from_numpy(mat["y"].reshape(-1).astype(np.int64)), str(root / VAR_U.filename)


def load_tishby_12bit(
    data_dir: str | os.PathLike | None = None,
    train_fraction: float = 0.8,
    seed: int = 0,
    original_split: bool = False,
    download: bool = True,
) -> Dataset:
    """The 12-bit task as a Dataset: ``train_fraction`` of the 4,096 inputs to train, the rest test.

    ``original_split=True`` reproduces the authors' unshuffled split (first rows train);
    otherwise the split is seeded and random. ``val`` is None: the information plane
    uses all 4,096 inputs (:func:`twelve_bit_task`).
    """
    if not 0.0 < train_fraction <= 1.0:
        raise param_error("train_fraction", "load_tishby_12bit", "a float in (0, 1]", train_fraction)
    x, y, source = twelve_bit_task(data_dir, download)
    n_test = len(y) - round(train_fraction * len(y))
    if original_split:
        n_train = len(y) - n_test
        train = Split(x[:n_train], y[:n_train])
        test = Split(x[n_train:], y[n_train:]) if n_test else None
    else:
        train, test = split_off(Split(x, y), n_test, seed)
    return Dataset("tishby-12bit", train, None, test, 2, {"labels": source})


BOOLEAN_RULES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "and-xor-or": lambda b: (b[:, 0] & b[:, 1]) ^ (b[:, 2] | b[:, 3]),
    "parity": lambda b: b[:, 0] ^ b[:, 1] ^ b[:, 2] ^ b[:, 3],
    "majority": lambda b: (b.sum(1) >= 3).long(),
}
"""Rules of the 4-bit task. The survey's own rule was lost; the default
``and-xor-or`` is (x1 AND x2) XOR (x3 OR x4), which is not linearly separable."""


def load_boolean_4bit(
    n_samples: int = 4096,
    label_noise: float = 0.07,
    rule: str = "and-xor-or",
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """The survey's 4-bit boolean task: uniform patterns, labels flipped with ``label_noise``.

    Args:
        n_samples: samples drawn uniformly from the 16 patterns.
        label_noise: probability that a label is flipped (0.07 in the survey).
        rule: a key of :data:`BOOLEAN_RULES`.
        test_fraction: share held out for the generalisation gap.
        seed: seed of the draw, the noise and the split.
    """
    if rule not in BOOLEAN_RULES:
        raise param_error("rule", "load_boolean_4bit", f"one of {sorted(BOOLEAN_RULES)}", rule)
    if not 0.0 <= label_noise < 0.5:
        raise param_error("label_noise", "load_boolean_4bit", "a float in [0, 0.5)", label_noise)
    if n_samples < 2:
        raise param_error("n_samples", "load_boolean_4bit", "an int >= 2", n_samples)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, 16, (n_samples,), generator=g)
    bits = all_bit_patterns(4)[idx].long()  # (n, 4)
    clean = BOOLEAN_RULES[rule](bits)
    flip = (torch.rand(n_samples, generator=g) < label_noise).long()
    train, test = split_off(Split(bits.float(), clean ^ flip), round(test_fraction * n_samples), seed)
    notes = {"rule": rule, "label_noise": str(label_noise)}
    return Dataset("boolean-4bit", train, None, test, 2, notes)


def boolean_patterns_and_rule(rule: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The 16 patterns of the 4-bit task and their noise-free labels under ``rule``."""
    bits = all_bit_patterns(4).long()
    return bits.float(), BOOLEAN_RULES[rule](bits)


