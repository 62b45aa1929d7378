"""The k-NN estimators exactly: KSG and Ross's mixed estimator recomputed by brute force from
the module's formulas (standardising, the seeded jitter, classes too small for k, the bits),
on both KSG search paths; the constant-x warning in full (mutants of estimators/knn.py)."""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest
import torch
from scipy.special import digamma

from ibkit.estimators import KSGEstimator, MixedKNNEstimator
from ibkit.estimators.knn import BRUTE_FORCE_DIM, ksg_terms, ksg_terms_brute

LN2 = np.log(2.0)


def _prepared(a: np.ndarray, jitter: float, rng: np.random.Generator) -> np.ndarray:
    a = a.astype(np.float64)
    std = a.std(axis=0)
    a = a / np.where(std > 0, std, 1.0)
    return a + jitter * np.maximum(1.0, np.abs(a).mean(axis=0)) * rng.standard_normal(a.shape)


def _ksg_by_hand(x, y, k, jitter, seed):
    rng = np.random.default_rng(seed)
    x, y = _prepared(x, jitter, rng), _prepared(y, jitter, rng)
    dx = np.abs(x[:, None] - x[None]).max(-1)
    dy = np.abs(y[:, None] - y[None]).max(-1)
    eps = np.sort(np.maximum(dx, dy), 1)[:, k]  # the k-th neighbour; column 0 is i itself
    n_x = (dx < eps[:, None]).sum(1) - 1
    n_y = (dy < eps[:, None]).sum(1) - 1
    t = (digamma(k) + digamma(len(x)) - digamma(n_x + 1) - digamma(n_y + 1)) / LN2
    return t.mean(), t.std() / np.sqrt(len(t))


def _mixed_by_hand(x, labels, k, jitter, seed):
    x = _prepared(x, jitter, np.random.default_rng(seed))
    keep = np.array([(labels == c).sum() >= 2 for c in labels])
    d_all = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    terms = []
    for i in np.flatnonzero(keep):
        same = np.flatnonzero(labels == labels[i])
        k_c = min(k, len(same) - 1)
        radius = np.sort(d_all[i, same])[k_c]
        m = (d_all[i, keep] <= radius).sum() - 1
        terms.append(digamma(keep.sum()) - digamma(len(same)) + digamma(k_c) - digamma(m))
    t = np.array(terms) / LN2
    return t.mean(), t.std() / np.sqrt(len(t))


def _data(n=90, dx=2, dy=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx)) * np.array([5.0, 0.2, 1.0][:dx] + [1.0] * max(0, dx - 3))
    y = x[:, :dy] * 0.3 + rng.normal(size=(n, dy))
    x[:, -1] += 40.0  # a column far from 0: the jitter scales with each column's mean |value|
    return x, y


@pytest.mark.parametrize(("dx", "dy", "k", "jitter"), [
    (1, 1, 3, 1e-10), (2, 1, 2, 0.05), (6, 5, 3, 0.05), (7, 4, 1, 0.0),
])
def test_ksg_equals_brute_force_by_hand_on_either_search(dx, dy, k, jitter):
    x, y = _data(dx=dx, dy=dy, seed=dx)
    value, se = _ksg_by_hand(x, y, k, jitter, seed=4)
    est = KSGEstimator(k=k, jitter=jitter, random_state=4).estimate(x, y)
    assert est.value_bits == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert est.stderr_bits == pytest.approx(se, rel=1e-9)
    assert (dx + dy >= BRUTE_FORCE_DIM) == (dx == 6 or dx == 7)  # both paths are exercised


def test_the_brute_force_terms_equal_the_trees_in_blocks_and_in_float64():
    x, y = _data(n=50, dx=3, dy=2, seed=9)
    tree = ksg_terms(x, y, 3)
    assert np.array_equal(ksg_terms_brute(x, y, 3, block=7), tree)
    assert np.array_equal(ksg_terms_brute(x, y, 3), tree)
    assert np.array_equal(ksg_terms_brute(torch.from_numpy(x), torch.from_numpy(y), 3), tree)


def test_ksg_defaults_and_float32_inputs():
    assert KSGEstimator().get_params() == {"k": 3, "standardize": True, "jitter": 1e-10,
                                           "random_state": 0, "copula": False}
    x, y = _data(seed=3)
    got = KSGEstimator().estimate(x.astype(np.float32), y.astype(np.float32)).value_bits
    want = _ksg_by_hand(x.astype(np.float32), y.astype(np.float32), 3, 1e-10, 0)[0]
    assert got == pytest.approx(want, rel=1e-9)


def test_the_mixed_estimator_equals_ross_by_hand_with_small_classes():
    x, _ = _data(n=60, dx=2, seed=5)
    # k = 2 and k = 1 for the small classes; the class of one (label 2) is left out, and the
    # classes after it still count
    labels = np.repeat([0, 1, 2, 3, 4], [30, 24, 1, 3, 2])
    for k, jitter in [(3, 0.05), (1, 0.0), (4, 1e-10)]:
        value, se = _mixed_by_hand(x, labels, k, jitter, seed=2)
        est = MixedKNNEstimator(k=k, jitter=jitter, random_state=2).estimate(x, labels)
        assert est.value_bits == pytest.approx(value, rel=1e-9, abs=1e-12), k
        assert est.stderr_bits == pytest.approx(se, rel=1e-9), k
        assert est.method == "knn-mixed" and est.kind == "estimate"
    assert MixedKNNEstimator().get_params() == {"k": 3, "standardize": True, "jitter": 1e-10,
                                                "random_state": 0}


def test_the_mixed_plane_point_is_the_estimate():
    x, _ = _data(n=40, dx=3, seed=6)
    labels = np.arange(40) % 3
    (row,) = MixedKNNEstimator(jitter=0.01).plane_information(x, labels)
    est = MixedKNNEstimator(jitter=0.01).estimate(x, labels)
    assert np.isnan(row.I_XT_bits) and row.I_TY_bits == est.value_bits
    assert (row.estimator, row.I_XT_kind, row.I_TY_kind) == ("knn-mixed", "estimate", "estimate")
    assert (row.I_XT_stderr_bits, row.I_TY_stderr_bits) == (None, est.stderr_bits)


def test_constant_x_gives_zero_with_the_whole_warning_at_the_callers_line():
    message = ("MixedKNNEstimator: x is constant, so I(X;Y) = 0 exactly; returned 0 (the k-NN "
               "formula on jittered copies of one point gives noise).")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = MixedKNNEstimator().estimate(np.ones((10, 2)), np.arange(10) % 2)
    (w,) = caught
    assert re.fullmatch(re.escape(message), str(w.message)) and w.category is RuntimeWarning
    if "MUTANT_UNDER_TEST" not in os.environ:  # mutmut's trampoline adds a frame
        assert w.filename == __file__
    assert (est.value_bits, est.stderr_bits, est.method) == (0.0, 0.0, "knn-mixed")
    assert est.details == MixedKNNEstimator().get_params()


def test_a_constant_column_is_left_as_it_is_by_the_standardisation():
    x, y = _data(n=60, dx=2, seed=8)
    with_constant = np.c_[x, np.full(60, 3.0)]
    a = KSGEstimator(jitter=0.0).estimate(with_constant, y).value_bits
    assert a == KSGEstimator(jitter=0.0).estimate(x, y).value_bits
