"""The closed-form and plug-in estimators of exact.py: every error message exactly, the edge
of each check, and the numbers of rows of integers (mutants of estimators/exact.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.conftest import raises_exactly

from ibkit.estimators import (
    DiscreteEstimator,
    GaussianEstimator,
    discrete_mi_bits,
    gaussian_mi_bits,
    gaussian_mi_stderr_bits,
)
from ibkit.estimators.tasks import correlated_gaussian, sample_discrete


def test_gaussian_mi_bits_checks_its_argumentsraises_exactly():
    cov = np.eye(3)
    with raises_exactly("The 'cov' parameter of gaussian_mi_bits must be a square (d, d) matrix with "
                  "0 < dim_x < d. Got 'shape (3, 3), dim_x=3' instead."):
        gaussian_mi_bits(cov, 3)  # dim_x = d leaves no y
    with raises_exactly("The 'cov' parameter of gaussian_mi_bits must be a square (d, d) matrix with "
                  "0 < dim_x < d. Got 'shape (3, 3), dim_x=0' instead."):
        gaussian_mi_bits(cov, 0)
    with raises_exactly("The 'cov' parameter of gaussian_mi_bits must be a square (d, d) matrix with "
                  "0 < dim_x < d. Got 'shape (2, 3), dim_x=1' instead."):
        gaussian_mi_bits(np.ones((2, 3)), 1)
    # integer input works (converted to float64), and the value is the closed form
    assert gaussian_mi_bits(np.array([[2, 1], [1, 2]]), 1) == pytest.approx(
        -0.5 * np.log2(1 - 0.25))


def test_discrete_mi_bits_checks_its_tableraises_exactly():
    for bad, shape in ((np.array([[0.5, -0.1], [0.3, 0.3]]), "(2, 2)"), (np.zeros((2, 2)), "(2, 2)"),
                       (np.ones(3), "(3,)")):
        with raises_exactly("The 'table' parameter of discrete_mi_bits must be a non-negative 2-D "
                      f"table with mass > 0. Got 'shape {shape}' instead."):
            discrete_mi_bits(bad)
    # counts of ints give the same bits as probabilities
    assert discrete_mi_bits(np.array([[3, 1], [1, 3]])) == pytest.approx(
        discrete_mi_bits(np.array([[0.375, 0.125], [0.125, 0.375]])))


def test_gaussian_estimator_needs_more_samples_than_dimensions():
    est = GaussianEstimator()
    with raises_exactly("The 'x' parameter of GaussianEstimator must be more samples than dimensions "
                  "(4). Got 4 instead."):
        est.estimate(np.random.default_rng(0).normal(size=(4, 2)), np.ones((4, 2)))
    out = est.estimate(np.random.default_rng(0).normal(size=(50, 1)),
                       np.random.default_rng(1).normal(size=(50, 1)))
    assert out.method == "gaussian" and out.kind == "estimate"
    cov = np.cov(np.c_[np.random.default_rng(0).normal(size=(50, 1)),
                       np.random.default_rng(1).normal(size=(50, 1))], rowvar=False)
    assert out.stderr_bits == pytest.approx(gaussian_mi_stderr_bits(cov, 1, 50), rel=1e-12)


def test_discrete_estimator_rejects_non_integers_and_counts_rows_as_symbols():
    est = DiscreteEstimator()
    with raises_exactly("The 'x' parameter of DiscreteEstimator must be integer values. "
                  "Got 'non-integer values' instead."):
        est.estimate(np.array([0.5, 1.0, 2.0]), np.array([0, 1, 1]))
    with raises_exactly("The 'y' parameter of DiscreteEstimator must be integer values. "
                  "Got 'non-integer values' instead."):
        est.estimate(np.array([0, 1, 2]), np.array([[0.5, 1.0], [1.0, 1.0], [0.0, 2.0]]))
    # y given as rows of integers: four distinct rows, one per x, so I = H(X) = 2 bits
    x = torch.tensor([0, 1, 2, 3])
    rows = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    out = est.estimate(x, rows)
    assert out.value_bits == pytest.approx(2.0) and out.method == "discrete"
    # a row equal to another counts as the same symbol: 3 rows of which two agree
    assert est.estimate(torch.tensor([0, 0, 1]), torch.tensor([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]])
                        ).value_bits == pytest.approx(discrete_mi_bits(np.array([[2, 0], [0, 1]])))


def test_gaussian_stderr_is_the_canonical_correlations_delta_method():
    # two independent canonical pairs, rho 0.6 and 0.3: sqrt((0.36 + 0.09) / n) / ln 2
    cov = np.eye(4)
    cov[0, 2] = cov[2, 0] = 0.6
    cov[1, 3] = cov[3, 1] = 0.3
    assert gaussian_mi_stderr_bits(cov, 2, 500) == pytest.approx(
        np.sqrt(0.45 / 500) / np.log(2), rel=1e-12)
    assert gaussian_mi_stderr_bits(np.eye(3), 1, 10) == 0.0  # independent: no variability


@pytest.mark.parametrize("name", ["gaussian", "discrete"])
def test_95_percent_intervals_cover_the_true_mi_at_least_90_percent(name):
    # measured, 100 draws of n = 2,000: gaussian (2 + 2 dims, 0.5 bits) 94, discrete (BSC 0.2) 93
    covered = 0
    for seed in range(100):
        if name == "gaussian":
            task = correlated_gaussian(n=2000, dim_x=2, dim_y=2, mi_bits=0.5, random_state=seed)
            est = GaussianEstimator().estimate(task.x, task.y)
        else:
            task = sample_discrete(np.array([[0.4, 0.1], [0.1, 0.4]]), n=2000, random_state=seed)
            est = DiscreteEstimator().estimate(task.x, task.y)
        lo, hi = est.details["ci95_bits"]
        assert hi - lo == pytest.approx(2 * 1.96 * est.stderr_bits)
        covered += lo <= task.mi_bits <= hi
    assert covered >= 90, covered


def test_a_constant_column_is_named_on_its_side_of_the_joint():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=(20, 3))
    for side, (xs, ys) in {"x": (np.c_[x[:, :1], np.ones(20)], y),
                           "y": (x, np.c_[np.zeros(20), y[:, :2]])}.items():  # y's column 0
        with raises_exactly(f"The '{side}' parameter of GaussianEstimator must be free of "
                            "constant columns (their variance is 0, the Gaussian MI "
                            "undefined). Got '1 constant column(s) of the joint (x, y)' "
                            "instead."):
            GaussianEstimator().estimate(xs, ys)
