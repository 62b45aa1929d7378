"""Tasks whose mutual information is known exactly, for testing and benchmarking estimators.

- :func:`correlated_gaussian`: x in R^dx, y in R^dy, jointly Gaussian with
  min(dx, dy) canonical pairs of equal correlation rho chosen so that
  I = -min(dx, dy)/2 * log2(1 - rho^2) equals the requested bits; optionally rotated
  by random orthogonal maps (which leave I unchanged).
- :func:`sample_discrete`: paired integer samples from a joint table.
- :data:`TRANSFORMS`: invertible maps applied per coordinate; I(f(X); g(Y)) = I(X;Y).
- :mod:`ibkit.estimators.task_families`: Student-t, additive noise, spiral and swiss-roll
  maps, and the benchmark suite built from all of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, ortho_group

from ibkit._errors import param_error
from ibkit._units import LN2
from ibkit.estimators.exact import discrete_mi_bits


def _bimodal(a: np.ndarray) -> np.ndarray:
    """The quantile map from N(0, 1) to the mixture 1/2 N(-2, 0.5^2) + 1/2 N(2, 0.5^2)."""
    grid = np.linspace(-5.0, 5.0, 4001)
    cdf = 0.5 * (norm.cdf(grid, -2.0, 0.5) + norm.cdf(grid, 2.0, 0.5))
    return np.interp(norm.cdf(a), cdf, grid)


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda a: a,
    "cube": lambda a: a**3,
    "asinh": np.arcsinh,
    "exp": np.exp,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "normal-cdf": norm.cdf,
    "half-cube": lambda a: a * np.sqrt(np.abs(a)),
    "wiggly": lambda a: a + 0.3 * np.sin(2.0 * a),
    "bimodal": _bimodal,
}
"""Strictly monotone maps per coordinate: they preserve mutual information."""


@dataclass(frozen=True)
class Task:
    """Samples with their true mutual information.

    Attributes:
        x: ``(n, dim_x)``; y: ``(n, dim_y)`` or ``(n,)`` integer labels.
        mi_bits: the exact I(X;Y) of the distribution sampled.
        name: a short description.
    """

    x: np.ndarray
    y: np.ndarray
    mi_bits: float
    name: str


def rho_for_bits(mi_bits: float, n_pairs: int) -> float:
    """The correlation of each of ``n_pairs`` canonical pairs giving ``mi_bits`` in total."""
    return math.sqrt(1.0 - 2.0 ** (-2.0 * mi_bits / n_pairs))


def correlated_gaussian(n: int, dim_x: int, dim_y: int, mi_bits: float, rotate: bool = True,
                        transform: str = "identity", random_state: int = 0,
                        n_pairs: int | None = None) -> Task:
    """Jointly Gaussian x, y with exactly ``mi_bits`` of mutual information (see module docstring).

    Args:
        n: samples.
        dim_x, dim_y: dimensions (>= 1).
        mi_bits: the mutual information, >= 0.
        rotate: apply random orthogonal maps to x and to y.
        transform: a key of :data:`TRANSFORMS` applied to every coordinate of x and y.
        random_state: seed.
        n_pairs: how many canonical pairs carry the information (default all min(dx, dy):
            dense; fewer: sparse, the other coordinates independent noise).
    """
    if dim_x < 1 or dim_y < 1:
        raise param_error("dim_x/dim_y", "correlated_gaussian", ">= 1", (dim_x, dim_y))
    if not mi_bits >= 0:
        raise param_error("mi_bits", "correlated_gaussian", "a float >= 0", mi_bits)
    if transform not in TRANSFORMS:
        raise param_error("transform", "correlated_gaussian", f"one of {tuple(TRANSFORMS)}",
                          transform)
    rng = np.random.default_rng(random_state)
    k = min(dim_x, dim_y) if n_pairs is None else n_pairs
    if not 1 <= k <= min(dim_x, dim_y):
        raise param_error("n_pairs", "correlated_gaussian", f"1 to {min(dim_x, dim_y)}", n_pairs)
    rho = rho_for_bits(mi_bits, k)
    x = rng.standard_normal((n, dim_x))
    y = rng.standard_normal((n, dim_y))
    y[:, :k] = rho * x[:, :k] + math.sqrt(1.0 - rho**2) * y[:, :k]
    if rotate:
        if dim_x > 1:
            x = x @ ortho_group.rvs(dim_x, random_state=rng)
        if dim_y > 1:
            y = y @ ortho_group.rvs(dim_y, random_state=rng)
    f = TRANSFORMS[transform]
    sparse = "" if k == min(dim_x, dim_y) else f" sparse({k})"
    return Task(f(x), f(y), float(mi_bits),
                f"gaussian{sparse} dx={dim_x} dy={dim_y} I={mi_bits:g} bits {transform}")


def sample_discrete(table: np.ndarray, n: int, random_state: int = 0) -> Task:
    """``n`` paired integer samples (x, y) from a joint table of probabilities ``(n_x, n_y)``."""
    p = np.asarray(table, dtype=np.float64)
    p = p / p.sum()
    rng = np.random.default_rng(random_state)
    flat = rng.choice(p.size, size=n, p=p.ravel())
    x, y = np.divmod(flat, p.shape[1])
    return Task(x.astype(np.int64), y.astype(np.int64), discrete_mi_bits(p),
                f"discrete {p.shape[0]}x{p.shape[1]}")


def gaussian_mixture_labels(n: int, dim: int, n_classes: int, separation: float,
                            random_state: int = 0) -> Task:
    """Labels uniform over ``n_classes``; x | c ~ N(separation * e_c, I) (c-th axis, dim >= n_classes).

    The true I(X;Y) has no closed form; it is computed here by Monte Carlo with 200,000
    extra samples (standard error below 0.005 bit), so treat it as exact to ~0.01 bit.
    """
    if dim < n_classes:
        raise param_error("dim", "gaussian_mixture_labels", f">= n_classes ({n_classes})", dim)
    rng = np.random.default_rng(random_state)

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        c = rng.integers(0, n_classes, m)
        x = rng.standard_normal((m, dim))
        x[np.arange(m), c] += separation
        return x, c

    xs, cs = draw(200_000)
    logits = separation * xs[:, :n_classes]  # log p(x|c) up to a shared term
    log_post = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    mi = math.log(n_classes) + log_post[np.arange(len(cs)), cs].mean()
    x, c = draw(n)
    return Task(x, c, float(mi / LN2), f"mixture {n_classes} classes d={dim}")
