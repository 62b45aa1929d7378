"""Seeded splits and label manipulations that work on any data set."""

from __future__ import annotations

import torch

from ibkit._errors import param_error
from ibkit.data._types import Dataset, Split


def _check_size(n_out: int, n_total: int, name: str) -> None:
    if not 0 <= n_out < n_total:
        raise param_error(name, "the data split", f"an int in [0, {n_total})", n_out)


def split_off(split: Split, n_out: int, seed: int) -> tuple[Split, Split | None]:
    """Move ``n_out`` randomly chosen samples of ``split`` into a second split.

    The choice depends only on ``seed``. Returns ``(rest, held_out)``; ``held_out``
    is None when ``n_out == 0``.

    Example:
        >>> s = Split(torch.arange(10.0).unsqueeze(1), torch.arange(10))
        >>> rest, out = split_off(s, 3, seed=0)
        >>> len(rest), len(out)
        (7, 3)
    """
    _check_size(n_out, len(split), "val_size")
    if n_out == 0:
        return split, None
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(split), generator=g)
    keep, out = perm[n_out:].sort().values, perm[:n_out].sort().values
    return Split(split.x[keep], split.y[keep]), Split(split.x[out], split.y[out])


def train_val_test(
    x: torch.Tensor, y: torch.Tensor, val_fraction: float, test_fraction: float, seed: int
) -> tuple[Split, Split | None, Split | None]:
    """Seeded random three-way split of arrays that come without an official test set."""
    for name, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= frac < 1.0:
            raise param_error(name, "the data split", "a float in [0, 1)", frac)
    if val_fraction + test_fraction >= 1.0:
        raise param_error("val_fraction + test_fraction", "the data split", "< 1",
                          val_fraction + test_fraction)
    full = Split(x, y)
    n_test = round(test_fraction * len(full))
    rest, test = split_off(full, n_test, seed)
    n_val = round(val_fraction * len(full))
    train, val = split_off(rest, n_val, seed + 1)
    return train, val, test


def with_random_labels(data: Dataset, seed: int) -> Dataset:
    """The zero-information variant of a data set: labels independent of the inputs.

    Each split's labels are a seeded random permutation of themselves, so the class
    frequencies stay and I(X;Y) = 0 in distribution (Herwana & Kadian, section 4.1:
    a VIB trained on it should keep I(Z;Y) near 0).
    """
    g = torch.Generator().manual_seed(seed)

    def shuffle(s: Split) -> Split:
        return Split(s.x, s.y[torch.randperm(len(s), generator=g)])

    notes = {**data.notes, "labels": f"randomly permuted (seed {seed}): zero information"}
    return Dataset(f"{data.name}-random-labels", shuffle(data.train),
                   None if data.val is None else shuffle(data.val),
                   None if data.test is None else shuffle(data.test), data.n_classes, notes)


def _map_splits(data: Dataset, fn, name: str, notes: dict[str, str]) -> Dataset:
    return Dataset(name, fn(data.train, 0), None if data.val is None else fn(data.val, 1),
                   None if data.test is None else fn(data.test, 2), data.n_classes,
                   {**data.notes, **notes})


def binarized(data: Dataset, seed: int) -> Dataset:
    """Statically binarised images: each value x in [0, 1] replaced once by a Bernoulli(x)
    draw, fixed by ``seed`` (one generator per split), so every epoch sees the same binary
    images (the usual "statically binarised MNIST"). Values outside [0, 1] are refused.

    Example:
        >>> d = Dataset("t", Split(torch.full((4, 3), 0.5), torch.zeros(4, dtype=torch.long)),
        ...             None, None, 1)
        >>> sorted(set(binarized(d, 0).train.x.flatten().tolist())) == [0.0, 1.0]
        True
    """
    low, high = float(data.train.x.min()), float(data.train.x.max())
    if low < 0.0 or high > 1.0:
        raise param_error("data.binarize", "the data config", "used with values in [0, 1] "
                          "(data.scale=unit)", (low, high))

    def draw(s: Split, k: int) -> Split:
        g = torch.Generator().manual_seed(seed * 3 + k)
        return Split(torch.bernoulli(s.x, generator=g), s.y)

    return _map_splits(data, draw, f"{data.name}-binarized",
                       {"binarized": f"static Bernoulli draw of the intensities (seed {seed})"})


def subset(data: Dataset, train_size: int = 0, eval_size: int = 0, seed: int = 0) -> Dataset:
    """The first ``train_size`` training examples of a seeded shuffle, and the first
    ``eval_size`` of the validation and test splits' (0 keeps a split whole), for runs
    scaled to a machine. The test subset is the same for every training seed."""
    for name, value in (("data.train_size", train_size), ("data.eval_size", eval_size)):
        if value < 0:
            raise param_error(name, "the data config", "an int >= 0 (0 = all)", value)
    if train_size == 0 and eval_size == 0:
        return data

    def cut(s: Split, k: int) -> Split:
        size = train_size if k == 0 else eval_size
        if size == 0 or size >= len(s):
            return s
        g = torch.Generator().manual_seed(seed * 3 + k)
        keep = torch.randperm(len(s), generator=g)[:size].sort().values
        return Split(s.x[keep], s.y[keep])

    return _map_splits(data, cut, data.name, {"subset": f"train {train_size or 'all'}, "
                                                        f"validation/test {eval_size or 'all'} "
                                                        f"(seed {seed})"})
