"""The 12-bit task, the 4-bit boolean task and zero-information labels."""

from __future__ import annotations

import math

import pytest
import torch
from tests.conftest import shared

from ibkit._errors import ConfigError
from ibkit.data import (
    all_bit_patterns,
    generated_12bit_labels,
    load_boolean_4bit,
    load_digits,
    load_tishby_12bit,
    twelve_bit_task,
    with_random_labels,
)


def _entropy_bits(y: torch.Tensor) -> float:
    p = torch.bincount(y).double() / len(y)
    return float(-(p * p.log2()).sum())


def test_original_12bit_labels_match_the_published_facts():
    x, y, source = twelve_bit_task(shared("tishby").parent, download=False)
    assert source.endswith("var_u.mat")
    assert x.shape == (4096, 12) and int(y.sum()) == 2118
    assert _entropy_bits(y) == pytest.approx(0.99916, abs=1e-5)
    weight = x.sum(1)
    assert y[weight <= 4].sum() == 0 and y[weight >= 8].all()
    assert y[weight == 5].float().mean() == pytest.approx(0.076, abs=5e-4)


def test_generated_12bit_labels_are_symmetric_and_balanced(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ../shared/data beside the working directory
    x, y, source = twelve_bit_task(tmp_path, download=False)  # nothing there: generated
    assert source.startswith("generated")
    assert abs(float(y.float().mean()) - 0.5) < 0.05
    # the rule sees only angles: the isometry p -> -p, which maps each vertex to its
    # antipode, must leave every label unchanged
    from ibkit.data.synthetic import _icosahedron

    p = torch.from_numpy(_icosahedron())
    antipode = [int((p + p[i]).norm(dim=1).argmin()) for i in range(12)]
    assert torch.equal(generated_12bit_labels(x[:, antipode]), y)


def test_12bit_original_split_is_unshuffled():
    d = load_tishby_12bit(shared("tishby").parent, original_split=True, download=False)
    assert torch.equal(d.train.x, all_bit_patterns(12)[:3277])


def test_boolean_task_noise_rate_and_rule():
    d = load_boolean_4bit(n_samples=4096, label_noise=0.07, seed=3)
    x = torch.cat([d.train.x, d.test.x]).long()
    y = torch.cat([d.train.y, d.test.y])
    clean = (x[:, 0] & x[:, 1]) ^ (x[:, 2] | x[:, 3])
    flipped = float((clean != y).float().mean())
    assert abs(flipped - 0.07) < 3 * math.sqrt(0.07 * 0.93 / 4096)


def test_boolean_task_bad_rule_names_the_allowed_rules():
    with pytest.raises(ConfigError, match=r"'rule' parameter .* one of .*and-xor-or.*Got 'xor'"):
        load_boolean_4bit(rule="xor")


def test_random_labels_keep_frequencies_and_break_the_link():
    d = load_digits()
    z = with_random_labels(d, seed=0)
    assert torch.equal(torch.bincount(z.train.y), torch.bincount(d.train.y))
    assert float((z.train.y == d.train.y).float().mean()) < 0.2
    assert torch.equal(z.train.x, d.train.x)
