"""Static binarisation and seeded subsets of any data set (the hybrid VAE's data)."""

from __future__ import annotations

import pytest
import torch

from ibkit._errors import ConfigError
from ibkit.data import Dataset, Split, binarized, load_dataset, subset


def grey(n: int = 400) -> Dataset:
    g = torch.Generator().manual_seed(123)  # not a seed of the draws: u < u would give all 0
    split = lambda k: Split(torch.rand(n, 1, 4, 4, generator=g), torch.arange(n) % 3)  # noqa: E731
    return Dataset("grey", split(0), split(1), split(2), 3)


def test_binarisation_is_a_fixed_bernoulli_draw_of_the_intensities():
    data = grey()
    a, b, c = binarized(data, 0), binarized(data, 0), binarized(data, 1)
    assert torch.equal(a.train.x, b.train.x) and not torch.equal(a.train.x, c.train.x)
    assert set(a.train.x.unique().tolist()) == {0.0, 1.0}
    assert not torch.equal(a.train.x, a.val.x)  # each split its own draw
    # a pixel is 1 with probability equal to its intensity
    x = torch.full((20000, 1), 0.3)
    d = binarized(Dataset("c", Split(x, torch.zeros(20000, dtype=torch.long)), None, None, 1), 0)
    assert d.train.x.mean().item() == pytest.approx(0.3, abs=0.01)
    assert torch.equal(a.train.y, data.train.y) and "binarized" in a.notes


def test_binarisation_refuses_values_outside_zero_one():
    data = grey()
    sym = Dataset("s", Split(data.train.x * 2 - 1, data.train.y), None, None, 3)
    with pytest.raises(ConfigError, match="data.binarize"):
        binarized(sym, 0)


def test_subsets_are_seeded_and_the_eval_subset_does_not_depend_on_the_training_size():
    data = grey()
    s = subset(data, train_size=50, eval_size=30, seed=4)
    assert (len(s.train), len(s.val), len(s.test)) == (50, 30, 30)
    assert torch.equal(s.test.x, subset(data, 80, 30, seed=4).test.x)
    assert not torch.equal(s.train.x, subset(data, 50, 30, seed=5).train.x)
    rows = {tuple(r.flatten().tolist()) for r in data.train.x}
    assert all(tuple(r.flatten().tolist()) in rows for r in s.train.x)
    assert subset(data, 0, 0) is data
    assert len(subset(data, 10_000, 0).train) == 400  # larger than the split: all of it
    with pytest.raises(ConfigError, match="data.train_size"):
        subset(data, -1)


def test_load_dataset_binarises_and_cuts_the_digits():
    d = load_dataset("digits", binarize=True, train_size=100, eval_size=50)
    assert len(d.train) == 100 and len(d.test) == 50
    assert set(d.train.x.unique().tolist()) == {0.0, 1.0}
