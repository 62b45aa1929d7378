"""Exact names, messages, kinds and details at the estimators' shared interface, and the laws
of the sampled tasks (mutants of estimators/base.py, __init__.py, kde.py, binning.py and
tasks.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.stats import kstest, norm
from tests.conftest import raises_exactly

from ibkit._errors import ConfigError
from ibkit.estimators import (
    BinningEstimator,
    DiscreteEstimator,
    KDEEstimator,
    KSGEstimator,
    make_estimator,
    mutual_information,
)
from ibkit.estimators.tasks import TRANSFORMS, gaussian_mixture_labels, sample_discrete


def test_repr_and_the_default_plane_information_carry_everything():
    assert repr(KSGEstimator(k=5)) == ("KSGEstimator(k=5, standardize=True, jitter=1e-10, "
                                      "random_state=0, copula=False)")
    rng = np.random.default_rng(0)
    t = rng.integers(0, 3, (200, 1))
    labels = (t[:, 0] + (rng.random(200) < 0.3)) % 3
    est = DiscreteEstimator()  # uses the interface's own plane_information
    (point,) = est.plane_information(t, labels)
    xt, ty = est.estimate(t, np.arange(200)), est.estimate(t, labels)
    assert (point.estimator, point.I_XT_kind, point.I_TY_kind) == ("discrete", "estimate",
                                                                   "estimate")
    assert (point.I_XT_bits, point.I_TY_bits) == (xt.value_bits, ty.value_bits)
    assert (point.I_XT_stderr_bits, point.I_TY_stderr_bits) == (xt.stderr_bits, ty.stderr_bits)
    assert point.I_XT_stderr_bits > 0 and point.I_TY_stderr_bits > 0


def test_make_estimator_and_mutual_information_messages_and_parameters():
    with raises_exactly("The 'method' parameter of mutual_information must be one of "
                  f"{tuple(__import__('ibkit.estimators', fromlist=['x']).ESTIMATORS)}. "
                  "Got 'nope' instead."):
        make_estimator("nope")
    with pytest.raises(ConfigError, match="^" + re.escape(
            "The 'params' parameter of the 'ksg' estimator must be its keyword arguments. "
            "Got \"KSGEstimator.") + r"\S*__init__\S*\(\) got an unexpected keyword argument "
            r"'kk'\" instead\.$"):
        make_estimator("ksg", kk=3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 1))
    y = x + rng.standard_normal((300, 1))
    assert mutual_information(x, y, "ksg", k=7).value_bits == KSGEstimator(k=7).estimate(
        x, y).value_bits != KSGEstimator(k=3).estimate(x, y).value_bits


def test_kde_names_kinds_and_details():
    rng = np.random.default_rng(0)
    t = rng.standard_normal((60, 2))
    labels = rng.integers(0, 2, 60)
    for bound in ("upper", "lower"):
        est = KDEEstimator(noise_var=0.1, bound=bound)
        ids = est.estimate(t, np.arange(60))
        by_class = est.estimate(t, labels)
        assert ids.method == by_class.method == f"kde-{bound}"
        assert ids.kind == f"{bound}_bound" and by_class.kind == "estimate"
        assert ids.details == {"noise_var": 0.1, "bound": bound, "y_all_distinct": True}
        assert by_class.details["y_all_distinct"] is False and ids.stderr_bits is None


def test_binning_with_continuous_y_bins_y_too_and_names_itself():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (400, 1))
    y = x + 0.01 * rng.standard_normal((400, 1))
    est = BinningEstimator(4).estimate(x, y)
    # x and y in the same bins almost always: I close to H of 4 bins (edges -1, -1/3, 1/3, 1)
    assert est.method == "binning" and est.details["n_symbols_x"] == 3
    assert est.value_bits == pytest.approx(BinningEstimator(4).estimate(x, x).value_bits,
                                           abs=0.05)
    assert est.value_bits > 1.4


def test_the_bimodal_map_gives_the_stated_mixture():
    a = np.random.default_rng(0).standard_normal(20000)
    out = TRANSFORMS["bimodal"](a)

    def mixture_cdf(v):
        return 0.5 * (norm.cdf(v, -2.0, 0.5) + norm.cdf(v, 2.0, 0.5))

    assert kstest(out, mixture_cdf).pvalue > 0.01
    assert np.all(np.diff(out[np.argsort(a)]) >= 0)  # monotone
    assert out.min() > -5.0 and out.max() < 5.0


def test_sample_discrete_normalises_counts_and_is_seeded():
    counts = np.array([[4, 1], [1, 4]])  # counts, not probabilities
    task = sample_discrete(counts, n=20000)
    assert task.mi_bits == pytest.approx(sample_discrete(counts / 10, n=10).mi_bits)
    assert task.x.dtype == np.int64 and task.y.dtype == np.int64
    assert np.mean(task.x == task.y) == pytest.approx(0.8, abs=0.01)
    assert task.name == "discrete 2x2"
    assert sample_discrete(np.ones((3, 2)), n=5).name == "discrete 3x2"
    assert np.array_equal(sample_discrete(counts, n=50).x, sample_discrete(counts, 50, 0).x)
    assert not np.array_equal(sample_discrete(counts, 50, 0).x, sample_discrete(counts, 50, 1).x)


def test_gaussian_mixture_labels_message_and_default_seed():
    with raises_exactly("The 'dim' parameter of gaussian_mixture_labels must be >= n_classes (3). "
                  "Got 2 instead."):
        gaussian_mixture_labels(10, 2, 3, 1.0)
    a = gaussian_mixture_labels(50, 3, 3, 2.0)
    assert np.array_equal(a.x, gaussian_mixture_labels(50, 3, 3, 2.0, random_state=0).x)
    assert not np.array_equal(a.x, gaussian_mixture_labels(50, 3, 3, 2.0, random_state=1).x)


def test_mutual_information_uses_ksg_by_default():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 1))
    y = x + rng.normal(size=(200, 1))
    default = mutual_information(x, y)
    assert default == KSGEstimator().estimate(x, y) and default.method == "ksg"
