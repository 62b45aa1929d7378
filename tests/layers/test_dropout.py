"""GaussianDropoutBottleneck and its Theorem 1 bound."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from scipy.stats import norm

from ibkit.layers import GaussianDropoutBottleneck


def test_noise_in_training_identity_in_evaluation():
    layer = GaussianDropoutBottleneck(0.2)
    x = torch.full((200_000, 1), 3.0)
    y = layer(x)
    assert abs(float(y.mean()) - 3.0) < 0.01
    assert abs(float(y.std()) - 3.0 * math.sqrt(0.2 / 0.8)) < 0.01
    assert torch.equal(layer.eval()(x), x)


def test_bound_is_exactly_invariant_to_rescaling():
    layer = GaussianDropoutBottleneck(0.3)
    x = torch.randn(1000, 5) + 2.0
    b = layer.mi_upper_bound(x)
    for a in (1e-3, 0.5, 7.0, -2.0):
        torch.testing.assert_close(layer.mi_upper_bound(a * x), b, rtol=1e-6, atol=1e-6)


def test_bound_falls_as_p_rises():
    x = torch.rand(5000, 3) + 0.5
    bounds = [float(GaussianDropoutBottleneck(p).mi_upper_bound(x).mean())
              for p in (0.05, 0.2, 0.5, 0.8, 0.95)]
    assert all(a > b for a, b in zip(bounds, bounds[1:], strict=False))


def test_a_unit_that_is_exactly_zero_has_an_infinite_bound_and_a_warning():
    x = torch.rand(100, 2) + 0.1
    x[3, 1] = 0.0
    with pytest.warns(RuntimeWarning, match="exactly 0"):
        b = GaussianDropoutBottleneck(0.5).mi_upper_bound(x)
    assert math.isfinite(b[0]) and math.isinf(b[1])


def _numerical_mi_bits(xs: np.ndarray, ws: np.ndarray, sigma: float) -> float:
    """I(X;Y) for Y = X * eps, eps ~ N(1, sigma^2), X discrete on ``xs`` with weights ``ws``
    (a fine grid stands for a density): h(Y) by quadrature on a y-grid, h(Y|X) exactly."""
    span = np.abs(xs).max() * (1 + 10 * sigma)
    y = np.linspace(-span, span, 40_001)
    dy = y[1] - y[0]
    p = np.zeros_like(y)
    for x, w in zip(xs, ws, strict=True):
        p += w * norm.pdf(y, loc=x, scale=abs(x) * sigma)
    mask = p > 0
    h_y = -np.sum(p[mask] * np.log(p[mask])) * dy
    h_y_given_x = np.sum(ws * 0.5 * np.log(2 * np.pi * np.e * xs**2 * sigma**2))
    return (h_y - h_y_given_x) / math.log(2)


DISTRIBUTIONS = {
    "gaussian mean 2": (lambda g, n: 2 + torch.randn(n, 1, generator=g),
                        lambda: (np.linspace(-3, 7, 801), norm.pdf(np.linspace(-3, 7, 801), 2, 1))),
    "uniform [0.5, 1.5]": (lambda g, n: 0.5 + torch.rand(n, 1, generator=g),
                           lambda: (np.linspace(0.5, 1.5, 401), np.ones(401))),
    "two points 1 and 3": (lambda g, n: 1 + 2 * torch.randint(0, 2, (n, 1), generator=g).float(),
                           lambda: (np.array([1.0, 3.0]), np.array([0.5, 0.5]))),
}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_bound_is_never_below_the_numerical_mutual_information(name, p):
    sample, grid = DISTRIBUTIONS[name]
    g = torch.Generator().manual_seed(0)
    x = sample(g, 400_000)
    x = x[x != 0].unsqueeze(1)  # P(X = 0) = 0 in every distribution here
    layer = GaussianDropoutBottleneck(p)
    bound = float(layer.mi_upper_bound(x)[0])
    xs, ws = grid()
    keep = xs != 0
    xs, ws = xs[keep], ws[keep] / ws[keep].sum()
    mi = _numerical_mi_bits(xs, ws, layer.sigma)
    assert mi >= -1e-3
    # sampling error of the bound (400k draws) is far below 0.01 bit
    assert bound >= mi - 0.01, (bound, mi)


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, -0.1])
def test_p_outside_the_open_unit_interval_is_refused_with_its_value(p):
    with pytest.raises(ValueError, match=re.escape(
            f"The 'p' parameter of GaussianDropoutBottleneck must be in (0, 1). Got {p!r} "
            "instead.")):
        GaussianDropoutBottleneck(p)
    GaussianDropoutBottleneck(0.999)
