"""The known-MI tasks exactly: each task redrawn by hand from the same generator, the names,
the messages and the transforms' values (mutants of estimators/tasks.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm, ortho_group
from tests.conftest import raises_exactly

from ibkit.estimators.exact import discrete_mi_bits
from ibkit.estimators.tasks import (
    TRANSFORMS,
    correlated_gaussian,
    gaussian_mixture_labels,
    rho_for_bits,
    sample_discrete,
)


def test_each_transform_has_its_stated_values_and_is_strictly_increasing():
    a = np.array([-2.0, -0.5, 0.0, 0.25, 1.5])
    want = {
        "identity": a, "cube": a**3, "asinh": np.arcsinh(a), "exp": np.exp(a),
        "sigmoid": 1 / (1 + np.exp(-a)), "normal-cdf": norm.cdf(a),
        "half-cube": np.sign(a) * np.abs(a) ** 1.5, "wiggly": a + 0.3 * np.sin(2 * a),
    }
    assert set(TRANSFORMS) == set(want) | {"bimodal"}
    for name, values in want.items():
        np.testing.assert_allclose(TRANSFORMS[name](a), values, rtol=1e-12, atol=1e-15)
    grid = np.linspace(-3, 3, 601)
    for name, f in TRANSFORMS.items():
        assert (np.diff(f(grid)) > 0).all(), name


def test_the_bimodal_map_sends_quantiles_to_the_mixtures_quantiles():
    a = np.array([-1.0, 0.0, 0.7])
    b = TRANSFORMS["bimodal"](a)
    mixture_cdf = 0.5 * (norm.cdf(b, -2.0, 0.5) + norm.cdf(b, 2.0, 0.5))
    np.testing.assert_allclose(mixture_cdf, norm.cdf(a), atol=2e-4)
    assert TRANSFORMS["bimodal"](np.array([0.0]))[0] == pytest.approx(0.0, abs=1e-9)
    assert TRANSFORMS["bimodal"](np.array([-9.0, 9.0])).tolist() == [-5.0, 5.0]  # grid's ends


def test_rho_gives_the_bits_over_the_pairs():
    for bits, pairs in [(0.0, 1), (1.0, 1), (2.5, 3)]:
        rho = rho_for_bits(bits, pairs)
        assert -pairs / 2 * math.log2(1 - rho**2) == pytest.approx(bits, abs=1e-12)
    assert rho_for_bits(1.0, 2) == pytest.approx(math.sqrt(1 - 2**-1.0))


def _gaussian_by_hand(n, dx, dy, bits, rotate, seed, k):
    rng = np.random.default_rng(seed)
    rho = math.sqrt(1 - 2 ** (-2 * bits / k))
    x, y = rng.standard_normal((n, dx)), rng.standard_normal((n, dy))
    y[:, :k] = rho * x[:, :k] + math.sqrt(1 - rho**2) * y[:, :k]
    if rotate:
        if dx > 1:
            x = x @ ortho_group.rvs(dx, random_state=rng)
        if dy > 1:
            y = y @ ortho_group.rvs(dy, random_state=rng)
    return x, y


@pytest.mark.parametrize(("dx", "dy", "rotate", "k"), [
    (1, 1, True, None), (3, 2, True, None), (2, 4, False, None), (4, 3, True, 1), (1, 3, True, None),
    (2, 3, True, None),
])
def test_the_gaussian_task_is_drawn_as_documented(dx, dy, rotate, k):
    task = correlated_gaussian(50, dx, dy, 1.5, rotate=rotate, random_state=7, n_pairs=k)
    x, y = _gaussian_by_hand(50, dx, dy, 1.5, rotate, 7, k or min(dx, dy))
    np.testing.assert_array_equal(task.x, x)
    np.testing.assert_array_equal(task.y, y)
    assert task.mi_bits == 1.5 and isinstance(task.mi_bits, float)
    sparse = "" if k is None else f" sparse({k})"
    assert task.name == f"gaussian{sparse} dx={dx} dy={dy} I=1.5 bits identity"


def test_the_transform_is_applied_to_both_sides_and_named():
    task = correlated_gaussian(20, 2, 2, 1.0, transform="cube", random_state=1)
    plain = correlated_gaussian(20, 2, 2, 1.0, random_state=1)
    np.testing.assert_array_equal(task.x, plain.x**3)
    np.testing.assert_array_equal(task.y, plain.y**3)
    assert task.name == "gaussian dx=2 dy=2 I=1 bits cube"
    assert correlated_gaussian(5, 1, 1, 0).mi_bits == 0.0  # the default seed is 0
    np.testing.assert_array_equal(correlated_gaussian(6, 2, 2, 1).y,  # rotated by default
                                  correlated_gaussian(6, 2, 2, 1, rotate=True).y)
    np.testing.assert_array_equal(correlated_gaussian(5, 2, 2, 1).x,
                                  correlated_gaussian(5, 2, 2, 1, random_state=0).x)


def test_the_gaussian_tasks_messages():
    with raises_exactly("The 'dim_x/dim_y' parameter of correlated_gaussian must be >= 1. "
                 "Got (0, 2) instead."):
        correlated_gaussian(5, 0, 2, 1.0)
    with raises_exactly("The 'dim_x/dim_y' parameter of correlated_gaussian must be >= 1. "
                 "Got (2, 0) instead."):
        correlated_gaussian(5, 2, 0, 1.0)
    with raises_exactly("The 'mi_bits' parameter of correlated_gaussian must be a float >= 0. "
                 "Got -0.1 instead."):
        correlated_gaussian(5, 1, 1, -0.1)
    with raises_exactly("The 'mi_bits' parameter of correlated_gaussian must be a float >= 0. "
                 "Got nan instead."):
        correlated_gaussian(5, 1, 1, math.nan)
    with raises_exactly(f"The 'transform' parameter of correlated_gaussian must be one of "
                 f"{tuple(TRANSFORMS)}. Got 'square' instead."):
        correlated_gaussian(5, 1, 1, 1.0, transform="square")
    for k in (0, 3):
        with raises_exactly(f"The 'n_pairs' parameter of correlated_gaussian must be 1 to 2. "
                     f"Got {k} instead."):
            correlated_gaussian(5, 2, 4, 1.0, n_pairs=k)
    correlated_gaussian(5, 2, 4, 1.0, n_pairs=2)


def test_discrete_samples_are_drawn_from_the_normalised_table():
    table = np.array([[2.0, 1.0, 1.0], [0.0, 3.0, 1.0]])
    task = sample_discrete(table, 40, random_state=4)
    p = table / table.sum()
    flat = np.random.default_rng(4).choice(6, size=40, p=p.ravel())
    np.testing.assert_array_equal(task.x, flat // 3)
    np.testing.assert_array_equal(task.y, flat % 3)
    assert task.x.dtype == task.y.dtype == np.int64
    assert task.mi_bits == discrete_mi_bits(p) and task.name == "discrete 2x3"
    np.testing.assert_array_equal(sample_discrete(table, 9).x, sample_discrete(table, 9, 0).x)


def test_the_mixture_task_is_drawn_as_documented():
    task = gaussian_mixture_labels(30, 4, 3, 2.0, random_state=2)
    rng = np.random.default_rng(2)

    def draw(m):
        c = rng.integers(0, 3, m)
        x = rng.standard_normal((m, 4))
        x[np.arange(m), c] += 2.0
        return x, c

    xs, cs = draw(200_000)
    logits = 2.0 * xs[:, :3]
    post = logits[np.arange(len(cs)), cs] - np.log(np.exp(logits).sum(1))
    mi_bits = (math.log(3) + post.mean()) / math.log(2)
    x, c = draw(30)
    np.testing.assert_array_equal(task.x, x)
    np.testing.assert_array_equal(task.y, c)
    assert task.mi_bits == pytest.approx(mi_bits, rel=1e-12)
    assert task.name == "mixture 3 classes d=4"
    with raises_exactly("The 'dim' parameter of gaussian_mixture_labels must be >= n_classes (3). "
                 "Got 2 instead."):
        gaussian_mixture_labels(30, 2, 3, 2.0)
    gaussian_mixture_labels(10, 3, 3, 2.0)
