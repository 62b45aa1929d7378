"""Exact mutual information for Gaussians and discrete distributions, and their plug-in
estimators from samples.

- Gaussian: I(X;Y) = 1/2 * ln( det S_XX * det S_YY / det S ), S the joint covariance
  (bivariate with correlation rho: -1/2 * ln(1 - rho^2)).
- Discrete: I = sum_{x,y} p(x,y) log2( p(x,y) / (p(x) p(y)) ).

Standard errors (asymptotic, by the delta method): Gaussian, with canonical correlations
rho_i of the sample, I = -1/2 sum ln(1 - rho_i^2) and sqrt(n) (r_i - rho_i) -> N(0, (1 -
rho_i^2)^2) independently (Anderson 2003, sec. 12.4), so Var(I_hat) ~ sum rho_i^2 / n nats^2;
discrete, :func:`ibkit.estimators.binning.plugin_mi_stderr_bits`. Both measure sampling
variability only: they vanish at I = 0, where the estimate's bias (about d_x d_y / (2 n) nats
for the Gaussian) is all the error.
"""

from __future__ import annotations

import numpy as np
import torch

from ibkit._errors import param_error
from ibkit._units import LN2
from ibkit.estimators.base import Estimate, MIEstimator
from ibkit.estimators.binning import plugin_mi_bits, plugin_mi_stderr_bits, row_ids


def gaussian_mi_bits(cov: np.ndarray, dim_x: int) -> float:
    """I(X;Y) in bits of a joint Gaussian with covariance ``cov`` ``(dx+dy, dx+dy)``; X is the
    first ``dim_x`` coordinates.

    Example:
        >>> rho = 0.5
        >>> round(gaussian_mi_bits(np.array([[1, rho], [rho, 1]]), 1), 6)   # -1/2 log2(1 - rho^2)
        0.207519
    """
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not 0 < dim_x < cov.shape[0]:
        raise param_error("cov", "gaussian_mi_bits", "a square (d, d) matrix with 0 < dim_x < d",
                          f"shape {cov.shape}, dim_x={dim_x}")
    logdet = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    nats = 0.5 * (logdet(cov[:dim_x, :dim_x]) + logdet(cov[dim_x:, dim_x:]) - logdet(cov))
    return float(nats / LN2)


def gaussian_mi_stderr_bits(cov: np.ndarray, dim_x: int, n: int) -> float:
    """The delta method's standard error in bits of :func:`gaussian_mi_bits` of a sample
    covariance of ``n`` rows: sqrt(sum_i rho_i^2 / n) / ln 2, rho_i the canonical correlations
    (module docstring).

    Example:
        >>> rho = 0.6
        >>> round(gaussian_mi_stderr_bits(np.array([[1, rho], [rho, 1]]), 1, 100), 6)  # 0.6 / 10 / ln 2
        0.086562
    """
    cov = np.asarray(cov, dtype=np.float64)
    sxx, syy, sxy = cov[:dim_x, :dim_x], cov[dim_x:, dim_x:], cov[:dim_x, dim_x:]
    rho2 = np.linalg.eigvals(np.linalg.solve(sxx, sxy) @ np.linalg.solve(syy, sxy.T)).real
    return float(np.sqrt(np.clip(rho2, 0.0, 1.0).sum() / n) / LN2)


def discrete_mi_bits(table: np.ndarray) -> float:
    """I(X;Y) in bits of a joint table of probabilities or counts ``(n_x, n_y)``.

    Example:
        >>> discrete_mi_bits(np.array([[0.5, 0.0], [0.0, 0.5]]))
        1.0
    """
    p = np.asarray(table, dtype=np.float64)
    if p.ndim != 2 or (p < 0).any() or p.sum() <= 0:
        raise param_error("table", "discrete_mi_bits", "a non-negative 2-D table with mass > 0",
                          f"shape {p.shape}")
    p = p / p.sum()
    px, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log2(p[nz] / (px @ py)[nz])).sum())


class GaussianEstimator(MIEstimator):
    """Plug-in Gaussian MI: :func:`gaussian_mi_bits` of the sample covariance of (x, y), with
    the delta method's standard error (:func:`gaussian_mi_stderr_bits`) and 95 % interval
    (``details["ci95_bits"]``).

    Exact in the limit for jointly Gaussian data; for other data it is the MI of the
    Gaussian with the same covariance (a lower bound for fixed marginal covariances only
    when the data are Gaussian). Continuous x and y.
    """

    name = "gaussian"
    y_kind = "continuous"

    def __init__(self) -> None:
        pass

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        joint = torch.cat([x, y], 1).cpu().numpy()
        if len(joint) <= joint.shape[1]:
            raise param_error("x", type(self).__name__,
                              f"more samples than dimensions ({joint.shape[1]})", len(joint))
        cov = np.atleast_2d(np.cov(joint, rowvar=False))
        constant = [i for i, v in enumerate(np.diag(cov)) if not v > 0]
        if constant:
            side = ["x" if i < x.shape[1] else "y" for i in constant]
            raise param_error(side[0], type(self).__name__, "free of constant columns (their "
                              "variance is 0, the Gaussian MI undefined)",
                              f"{len(constant)} constant column(s) of the joint (x, y)")
        value = gaussian_mi_bits(cov, x.shape[1])
        stderr = gaussian_mi_stderr_bits(cov, x.shape[1], len(joint))
        return Estimate(value, "estimate", self.name, stderr,
                        {"ci95_bits": (value - 1.96 * stderr, value + 1.96 * stderr)})


class DiscreteEstimator(MIEstimator):
    """Plug-in MI of paired integer samples (rows of integers count as one symbol each), with
    the delta method's standard error (:func:`~ibkit.estimators.binning.plugin_mi_stderr_bits`)
    and 95 % interval (``details["ci95_bits"]``)."""

    name = "discrete"

    def __init__(self) -> None:
        pass

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        owner = type(self).__name__
        if not bool((x == x.round()).all()):
            raise param_error("x", owner, "integer values", "non-integer values")
        if y.dim() == 2 and not bool((y == y.round()).all()):
            raise param_error("y", owner, "integer values", "non-integer values")
        a = row_ids(x.cpu().numpy().astype(np.int64))
        b = y.cpu().numpy() if y.dim() == 1 else row_ids(y.cpu().numpy().astype(np.int64))
        value, stderr = plugin_mi_bits(a, b), plugin_mi_stderr_bits(a, b)
        return Estimate(value, "estimate", self.name, stderr,
                        {"ci95_bits": (value - 1.96 * stderr, value + 1.96 * stderr)})


