"""The k-NN estimators' preparation, parameters and reporting (mutants of estimators/knn.py)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from ibkit._errors import ConfigError
from ibkit.estimators import KSGEstimator, MixedKNNEstimator
from ibkit.estimators.knn import ksg_terms


def _pair(n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    return x, x @ np.array([[1.0], [0.5]]) + rng.standard_normal((n, 1))


def test_standardising_makes_the_estimate_invariant_to_each_coordinates_scale():
    x, y = _pair()
    scaled = x * np.array([100.0, 0.01])
    a, b = KSGEstimator().estimate(x, y), KSGEstimator().estimate(scaled, 7.0 * y)
    assert a.value_bits == pytest.approx(b.value_bits, abs=1e-6)
    raw = KSGEstimator(standardize=False)
    assert abs(raw.estimate(scaled, y).value_bits - a.value_bits) > 0.05  # scale matters then


def test_the_callers_arrays_are_left_as_they_were():
    x, y = _pair()
    x0, y0 = x.copy(), y.copy()
    KSGEstimator(jitter=1e-3).estimate(x, y)
    MixedKNNEstimator(jitter=1e-3).estimate(x, np.arange(len(x)) % 3)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)


def test_jitter_breaks_ties_by_a_tiny_seeded_amount():
    x = np.repeat(np.arange(10.0), 20)[:, None]  # heavy ties
    y = x + np.random.default_rng(0).standard_normal(x.shape)
    seeded = [KSGEstimator(random_state=5).estimate(x, y).value_bits for _ in range(2)]
    assert seeded[0] == seeded[1]
    other = KSGEstimator(random_state=6).estimate(x, y).value_bits
    assert other != seeded[0] and abs(other - seeded[0]) < 0.1
    off = KSGEstimator(jitter=0.0).estimate(x, y).value_bits
    assert math.isfinite(off)
    big = KSGEstimator(jitter=10.0).estimate(x, y).value_bits
    assert big < seeded[0] - 0.3  # noise of 10x the mean magnitude destroys the dependence


def test_defaults_and_k_at_its_edges():
    est = KSGEstimator()
    assert est.get_params() == {"k": 3, "standardize": True, "jitter": 1e-10, "random_state": 0,
                               "copula": False}
    x, y = _pair(50)
    assert math.isfinite(KSGEstimator(k=1).estimate(x, y).value_bits)
    assert math.isfinite(KSGEstimator(k=49).estimate(x, y).value_bits)  # n = k + 1 is enough
    with pytest.raises(ConfigError, match=re.escape(
            "The 'x' parameter of KSGEstimator must be at least k + 1 = 51 samples. "
            "Got '50 samples' instead.")):
        KSGEstimator(k=50).estimate(x, y)
    with pytest.raises(ConfigError, match=re.escape(
            "The 'k' parameter of MixedKNNEstimator must be an int >= 1. Got 0 instead.")):
        MixedKNNEstimator(k=0).estimate(x, np.zeros(50, dtype=int))


def test_ksg_reports_its_name_parameters_and_the_naive_standard_error():
    x, y = _pair()
    est = KSGEstimator().estimate(x, y)
    assert est.method == "ksg" and est.details == KSGEstimator().get_params()
    rng = np.random.default_rng(0)  # the same preparation as the estimator's
    xs, ys = x / x.std(0), y / y.std(0)
    xs = xs + 1e-10 * np.maximum(1.0, np.abs(xs).mean(0)) * rng.standard_normal(xs.shape)
    ys = ys + 1e-10 * np.maximum(1.0, np.abs(ys).mean(0)) * rng.standard_normal(ys.shape)
    terms = ksg_terms(xs, ys, 3) / math.log(2)
    assert est.value_bits == pytest.approx(float(terms.mean()), abs=1e-9)
    assert est.stderr_bits == pytest.approx(float(terms.std() / math.sqrt(len(terms))), rel=1e-6)


def test_mixed_knn_in_the_plane_gives_only_i_ty():
    t = torch.randn(300, 2)
    labels = (t[:, 0] > 0).long()
    (point,) = MixedKNNEstimator().plane_information(t, labels)
    assert point.estimator == "knn-mixed" and math.isnan(point.I_XT_bits)
    assert point.I_XT_kind == "estimate" and point.I_TY_kind == "estimate"
    assert point.I_TY_bits == pytest.approx(MixedKNNEstimator().estimate(t, labels).value_bits)


def test_mixed_knn_reports_its_parameters_and_skips_classes_of_one():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((401, 1))
    labels = (x[:, 0] > 0).astype(int)
    labels[0] = 2  # a class of one sample has no neighbour: it is left out
    est = MixedKNNEstimator().estimate(x, labels)
    assert est.method == "knn-mixed" and est.details == MixedKNNEstimator().get_params()
    kept = MixedKNNEstimator().estimate(x[1:], labels[1:])
    assert est.value_bits == pytest.approx(kept.value_bits, abs=0.02)
    assert 0 < est.stderr_bits < 0.05  # the naive standard error over 400 kept samples
    small = MixedKNNEstimator(k=3).estimate(x[:12], np.array([0, 0, 1, 1] * 3))
    assert math.isfinite(small.value_bits)  # classes of 6: k = 3 neighbours each


def test_the_mixed_estimator_returns_zero_with_a_warning_for_constant_x():
    import numpy as np
    import pytest as _pytest

    from ibkit.estimators import MixedKNNEstimator

    x = np.full((300, 2), 0.5)
    y = np.arange(300) % 3
    with _pytest.warns(RuntimeWarning, match="x is constant"):
        est = MixedKNNEstimator().estimate(x, y)
    assert est.value_bits == 0.0 and est.stderr_bits == 0.0


def test_brute_force_search_gives_exactly_the_trees_terms(monkeypatch):
    from ibkit.estimators import knn

    rng = np.random.default_rng(3)
    x = rng.standard_normal((700, 7))
    y = 0.5 * x[:, :6] + rng.standard_normal((700, 6))
    assert np.array_equal(knn.ksg_terms_brute(x, y, 3, block=128), knn.ksg_terms(x, y, 3))
    fast = knn.KSGEstimator().estimate(x, y).value_bits  # 13 dims: brute force
    monkeypatch.setattr(knn, "BRUTE_FORCE_DIM", 10**6)
    assert knn.KSGEstimator().estimate(x, y).value_bits == pytest.approx(fast, abs=1e-12)


def test_ksg_on_normal_scores_is_invariant_to_monotone_maps_and_removes_their_bias():
    from ibkit.estimators.task_families import student_t
    from ibkit.estimators.tasks import correlated_gaussian

    task = correlated_gaussian(n=2000, dim_x=2, dim_y=2, mi_bits=1.0, random_state=0)
    warped_x = np.c_[np.exp(3 * task.x[:, 0]), task.x[:, 1] ** 3]  # strictly monotone maps
    warped_y = np.sinh(4 * task.y)
    cop = KSGEstimator(copula=True)
    same = cop.estimate(warped_x, warped_y).value_bits
    assert same == cop.estimate(task.x, task.y).value_bits  # the same ranks: the same number
    plain = KSGEstimator().estimate(warped_x, warped_y).value_bits
    assert abs(same - task.mi_bits) < 0.05 < abs(plain - task.mi_bits)  # 0.03 vs 0.69 measured
    assert cop.get_params()["copula"] is True and KSGEstimator().get_params()["copula"] is False
    with pytest.raises(ConfigError, match=re.escape(
            "The 'copula' parameter of KSGEstimator must be True or False. Got 1 instead.")):
        KSGEstimator(copula=1).estimate(task.x, task.y)
    # heavy tails (Student-t, 1 degree of freedom): closer than plain KSG (1.00 vs 0.79; true 1.12)
    heavy = student_t(n=2000, dim_x=2, dim_y=2, dof=1, gaussian_bits=0.5, random_state=0)
    assert (abs(cop.estimate(heavy.x, heavy.y).value_bits - heavy.mi_bits) + 0.1
            < abs(KSGEstimator().estimate(heavy.x, heavy.y).value_bits - heavy.mi_bits))
