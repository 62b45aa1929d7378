"""The shared interface: result objects, units, bad input, the one-off function."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ibkit._errors import ConfigError
from ibkit.estimators import (
    ESTIMATORS,
    BinningEstimator,
    Estimate,
    KDEEstimator,
    KSGEstimator,
    MixedKNNEstimator,
    make_estimator,
    mutual_information,
)


def test_estimate_carries_value_kind_and_unit():
    e = Estimate(1.0, "upper_bound", "x")
    assert e.value_nats == pytest.approx(math.log(2)) and float(e) == 1.0
    with pytest.raises(ValueError, match="kind"):
        Estimate(1.0, "guess", "x")


def test_numpy_and_torch_inputs_give_the_same_answer():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 2))
    y = x[:, :1] + rng.standard_normal((300, 1))
    a = KSGEstimator().estimate(x, y).value_bits
    b = KSGEstimator().estimate(torch.from_numpy(x), torch.from_numpy(y)).value_bits
    assert a == b


def test_get_params_returns_constructor_arguments_unmodified():
    est = BinningEstimator(n_bins=12, strategy="adaptive")
    assert est.get_params()["n_bins"] == 12 and "strategy='adaptive'" in repr(est)


BAD = [
    (KSGEstimator(), np.zeros((10, 1)), np.zeros((9, 1)), r"'y' parameter .* as many samples as x \(10\)"),
    (KSGEstimator(), np.array([[np.nan], [1.0], [2.0], [3.0], [4.0]]), np.zeros((5, 1)),
     r"'x' parameter .* finite \(no NaN or infinity\). Got '1 non-finite values'"),
    (KSGEstimator(), np.array([[np.inf], [1.0], [2.0], [3.0], [4.0]]), np.zeros((5, 1)), "finite"),
    (KSGEstimator(k=5), np.random.rand(4, 1), np.random.rand(4, 1),
     r"at least k \+ 1 = 6 samples. Got '4 samples'"),
    (MixedKNNEstimator(), np.random.rand(20, 1), np.random.rand(20) + 0.5,
     r"'y' parameter of MixedKNNEstimator must be integer class labels"),
    (KDEEstimator(noise_var=0.1), np.random.rand(20, 1), np.random.rand(20),
     r"integer class labels"),
    (BinningEstimator(n_bins=1), np.random.rand(20, 1), np.arange(20),
     r"'n_bins' parameter of BinningEstimator must be an int >= 2. Got 1 instead"),
    (KDEEstimator(noise_var=0.0), np.random.rand(20, 1), np.arange(20),
     r"'noise_var' parameter of KDEEstimator must be a finite float > 0. Got 0.0"),
    (KDEEstimator(noise_var=-1.0), np.random.rand(20, 1), np.arange(20), r"Got -1.0"),
    (BinningEstimator(strategy="width"), np.random.rand(20, 1), np.arange(20), "bin_width"),
]


@pytest.mark.parametrize(("est", "x", "y", "message"), BAD)
def test_bad_input_names_the_argument_and_value(est, x, y, message):
    with pytest.raises(ConfigError, match=message):
        est.estimate(x, y)


def test_kde_needs_its_noise_variance_stated():
    with pytest.raises(TypeError, match="noise_var"):
        KDEEstimator()  # type: ignore[call-arg]


def test_mutual_information_dispatches_and_rejects_unknown_methods():
    x = np.array([0, 0, 1, 1, 0, 1])
    assert mutual_information(x, x, "discrete").value_bits == pytest.approx(1.0)
    with pytest.raises(ConfigError, match=r"'method' parameter .* one of .*'ksg'"):
        mutual_information(x, x, "magic")
    with pytest.raises(ConfigError, match="keyword arguments"):
        make_estimator("ksg", n_neighbours=3)
    assert set(ESTIMATORS) >= {"binning", "kde", "ksg", "knn-mixed", "gaussian", "discrete",
                                "neural", "variational"}


def test_the_gaussian_estimator_refuses_constant_columns_instead_of_nan():
    import numpy as np
    import pytest as _pytest

    from ibkit._errors import ConfigError
    from ibkit.estimators import GaussianEstimator

    x = np.random.default_rng(0).normal(size=(200, 2))
    x[:, 1] = 3.0
    with _pytest.raises(ConfigError, match="constant column"):
        GaussianEstimator().estimate(x, np.random.default_rng(1).normal(size=200))


def test_the_plane_refuses_nan_activations_instead_of_returning_zero_bits():
    import pytest as _pytest
    import torch as _torch

    from ibkit.estimators import BinningEstimator, KDEEstimator
    from ibkit.plane import layer_points

    t = _torch.rand(50, 3)
    t[4, 1] = float("nan")
    for est in (BinningEstimator(), KDEEstimator(noise_var=0.1)):
        with _pytest.raises(ValueError, match="non-finite activations"):
            layer_points(est, 3, "fc1", t, _torch.arange(50) % 2)
