"""Random shifts: each image moves by its own offset within the bound, seeded."""

from __future__ import annotations

import pytest
import torch

from ibkit._errors import ConfigError
from ibkit.data import random_shift


def _dots(n: int = 400, size: int = 9) -> torch.Tensor:
    x = torch.zeros(n, 1, size, size)
    x[:, 0, size // 2, size // 2] = 1.0  # one bright pixel in the centre
    return x


def test_every_image_moves_by_an_offset_within_the_bound_and_all_offsets_occur():
    out = random_shift(_dots(), 2, torch.Generator().manual_seed(0))
    assert out.shape == (400, 1, 9, 9)
    assert torch.equal(out.sum(dim=(1, 2, 3)), torch.ones(400))  # the dot never leaves
    where = out[:, 0].flatten(1).argmax(1)
    dy, dx = where // 9 - 4, where % 9 - 4
    assert dy.abs().max() == 2 and dx.abs().max() == 2
    assert len(set(zip(dy.tolist(), dx.tolist(), strict=True))) == 25  # all 5 x 5 offsets


def test_pixels_shifted_in_take_the_background_value():
    x = torch.full((50, 1, 6, 6), -1.0)  # a blank image in the symmetric scaling
    out = random_shift(x, 3, torch.Generator().manual_seed(1))
    assert torch.equal(out, x)


def test_same_generator_seed_same_shifts_and_zero_is_the_identity():
    x = torch.rand(32, 3, 8, 8)
    a = random_shift(x, 1, torch.Generator().manual_seed(5))
    b = random_shift(x, 1, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    assert not torch.equal(a, x)
    assert random_shift(x, 0, torch.Generator()) is x


def test_bad_input_is_refused():
    with pytest.raises(ConfigError, match=r"'x' parameter of random_shift must be a 4-d batch"):
        random_shift(torch.zeros(4, 784), 2, torch.Generator())
    with pytest.raises(ConfigError, match=r"'max_shift' .* an int >= 0. Got -1"):
        random_shift(torch.zeros(4, 1, 5, 5), -1, torch.Generator())
