"""The IB curve's checks, defaults and seeding exactly (mutants of plane/optimal.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from tests.conftest import raises_exactly

from ibkit._errors import ConfigError
from ibkit.plane import ib_curve, joint_from_labels

P = np.array([[0.3, 0.05], [0.05, 0.3], [0.15, 0.15]])



def test_the_joint_is_checked_with_exact_messages():
    with raises_exactly("The 'p_xy' parameter of ib_curve must be a 2-D array (n_x, n_y). "
                  "Got (4,) instead."):
        ib_curve(np.ones(4))
    with pytest.raises(ConfigError, match=r"a 2-D array \(n_x, n_y\)\. Got \(0, 2\) instead"):
        ib_curve(np.ones((0, 2)))
    for bad in (np.array([[0.5, -0.1], [0.3, 0.3]]), np.zeros((2, 2)),
                np.array([[np.nan, 0.5], [0.2, 0.3]])):
        with raises_exactly("The 'p_xy' parameter of ib_curve must be finite, non-negative entries "
                      "with a positive sum. Got 'an array violating this' instead."):
            ib_curve(bad)


def test_betas_and_clusters_are_checked_with_exact_messages():
    for betas in (np.array([]), np.array([2.0, 1.0]), np.array([[1.0]]), np.array([-1.0]),
                  np.array([np.inf])):
        with pytest.raises(ConfigError, match=re.escape(
                "The 'betas' parameter of ib_curve must be a 1-D ascending array of finite "
                "values >= 0. Got ")):
            ib_curve(P, betas=betas)
    ib_curve(P, betas=np.array([0.0, 1.0, 1.0]))  # 0 and repeated values are allowed
    ib_curve(P, betas=np.array([5.0]))  # one beta is allowed
    for n in (0, 2.5):
        with raises_exactly(f"The 'n_clusters' parameter of ib_curve must be an int >= 1. Got {n!r} "
                      "instead."):
            ib_curve(P, n_clusters=n)


def test_defaults_and_seeding():
    curve = ib_curve(P)
    np.testing.assert_array_equal(curve.beta, np.logspace(-1, 3, 60))
    same = ib_curve(P, np.logspace(-1, 3, 60), None, 1e-7, 2000, 1e-2, 0)
    np.testing.assert_array_equal(curve.I_XT_bits, same.I_XT_bits)
    np.testing.assert_array_equal(curve.iterations, same.iterations)
    # seeded by its own generator: the global torch state plays no part
    betas = np.array([0.5, 2.0, 8.0])
    torch.manual_seed(1)
    a = ib_curve(P, betas=betas)
    torch.manual_seed(2)
    torch.rand(5)
    b = ib_curve(P, betas=betas)
    np.testing.assert_array_equal(a.I_XT_bits, b.I_XT_bits)
    np.testing.assert_array_equal(a.iterations, b.iterations)
    other = ib_curve(P, betas=betas, seed=1)
    assert not np.array_equal(other.I_XT_bits, a.I_XT_bits)  # the seed matters
    # more clusters than inputs (64 > 3) would be the same curve; fewer is another one
    assert ib_curve(P, betas=betas, n_clusters=3).I_TY_bits[-1] == pytest.approx(
        a.I_TY_bits[-1], abs=1e-6)


def test_joint_from_labels_default_classes_and_counts():
    x = torch.tensor([[0.0], [0.0], [1.0], [1.0]])
    y = torch.tensor([0, 2, 2, 2])
    joint = joint_from_labels(x, y)
    assert joint.shape == (2, 3)  # classes 0..max(y)
    np.testing.assert_allclose(joint, np.array([[0.25, 0.0, 0.25], [0.0, 0.0, 0.5]]))
    assert joint_from_labels(x, y, n_classes=5).shape == (2, 5)


def test_inputs_with_the_same_conditional_are_merged_exactly():
    """Splitting each input of P into copies with the same p(y|x) changes nothing: the rows
    merge back to P (masses summed), and the curve is P's to the last digit."""
    from ibkit.plane.optimal import merge_equivalent_inputs

    split = np.array([[0.1, 1 / 60], [0.2, 1 / 30], [0.05, 0.3], [0.15, 0.15]])
    merged = merge_equivalent_inputs(torch.as_tensor(split))
    assert merged.shape == (3, 2)
    assert sorted(map(tuple, merged.numpy().round(12))) == sorted(map(tuple, P.round(12)))
    betas = np.array([0.5, 2.0, 8.0, 50.0])
    a, b = ib_curve(P, betas), ib_curve(split, betas)
    np.testing.assert_allclose(b.I_TY_bits, a.I_TY_bits, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.I_XT_bits, a.I_XT_bits, rtol=0, atol=1e-12)
    # one label per input (the 12-bit task, MNIST): the curve is min(I(X;T), I(X;Y)) exactly
    y = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    curve = ib_curve(joint_from_labels(torch.arange(8.0)[:, None], y))
    assert curve.I_XY_bits == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(curve.I_TY_bits, np.minimum(curve.I_XT_bits, 1.0), atol=1e-9)


def test_bad_betas_are_shown_in_the_message():
    p = np.array([[0.25, 0.25], [0.25, 0.25]])
    with pytest.raises(ConfigError, match=re.escape(
            "The 'betas' parameter of ib_curve must be a 1-D ascending array of finite values "
            ">= 0. Got array([2., 1.]) instead.")):
        ib_curve(p, betas=np.array([2.0, 1.0]))


def test_the_inverse_binary_entropy_is_the_root_below_one_half():
    from ibkit.plane.optimal import _h, _inverse_h

    for v in (0.0, 0.1, 0.5, 0.9, 0.999):
        delta = _inverse_h(v)
        assert 0.0 <= delta <= 0.5 and float(_h(np.array(delta))) == pytest.approx(v, abs=1e-9)
    assert _inverse_h(1.0) == 0.5 and np.isnan(_inverse_h(float("nan")))
    assert float(_h(np.array(0.0))) == pytest.approx(0.0, abs=1e-12)  # 0 log 0 = 0
