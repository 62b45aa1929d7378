"""The Gaussian-copula estimator: rank-transform every coordinate to normal scores, then the
Gaussian MI of their covariance, with the finite-sample bias of the log-determinants removed
and a bootstrap standard error and interval.

Mutual information is invariant under invertible maps of each coordinate, so for x and y that
are coordinate-wise monotone maps of a jointly Gaussian vector the copula estimate converges
to the exact MI, whatever the marginals (exponential, cubed, bimodal, ...). For other
dependences it is the MI of the Gaussian copula with the same normal-score correlations:
a lower bound on the true MI when the maps are monotone, and in general a robust summary
that never reads far above the truth the way an unbiased KSG can.

The bias correction: for n samples in d dimensions, the log-determinant of the sample
covariance S has E[ln det S] = ln det Sigma + sum_{i=1..d} psi((n - i) / 2) + d ln(2 / (n - 1))
(Wishart). The estimate subtracts half of that offset for x and y and adds it for the joint,
which removes the plug-in's upward bias (about dx * dy / (2 n) nats) exactly for Gaussian data.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import digamma

from ibkit._errors import param_error
from ibkit._units import LN2
from ibkit.estimators.base import Estimate, MIEstimator
from ibkit.estimators.scores import normal_scores


def _logdet_offset(d: int, n: int) -> float:
    """E[ln det S] - ln det Sigma for the sample covariance of n Gaussian samples in d dims."""
    i = np.arange(1, d + 1)
    return float(digamma((n - i) / 2.0).sum() + d * math.log(2.0 / (n - 1)))


def copula_mi_nats(x: np.ndarray, y: np.ndarray, bias_correct: bool = True) -> float:
    """The Gaussian-copula MI of ``x`` ``(n, dx)`` and ``y`` ``(n, dy)``, in nats."""
    return scores_mi_nats(normal_scores(np.concatenate([x, y], 1)), x.shape[1], bias_correct)


def scores_mi_nats(z: np.ndarray, dx: int, bias_correct: bool = True) -> float:
    """The Gaussian MI in nats between the first ``dx`` columns of ``z`` and the rest, with
    the log-determinants' bias removed when ``bias_correct``."""
    n = len(z)
    cov = np.atleast_2d(np.cov(z, rowvar=False))

    def logdet(m: np.ndarray) -> float:
        sign, value = np.linalg.slogdet(m)
        return value if sign > 0 else -math.inf

    mi = 0.5 * (logdet(cov[:dx, :dx]) + logdet(cov[dx:, dx:]) - logdet(cov))
    if bias_correct:
        d = z.shape[1]
        mi -= 0.5 * (_logdet_offset(dx, n) + _logdet_offset(d - dx, n) - _logdet_offset(d, n))
    return float(mi)


class GaussianCopulaEstimator(MIEstimator):
    """I(x; y) in bits from the normal scores of every coordinate (see the module docstring):
    exact in the limit for any coordinate-wise monotone map of a Gaussian, bias-corrected,
    with a bootstrap standard error and 95 % interval.

    Args:
        bootstrap: resamples of the normal scores' rows for the standard error (0: none).
            The interval is the estimate +/- 1.96 standard errors (``details["ci95_bits"]``).
        bias_correct: remove the finite-sample bias of the log-determinants (exact for
            Gaussian data).
        random_state: seed of the resampling.

    Example:
        >>> from ibkit.estimators.tasks import correlated_gaussian
        >>> task = correlated_gaussian(4000, 2, 2, mi_bits=1.0, transform="cube")
        >>> round(GaussianCopulaEstimator(bootstrap=0).estimate(task.x, task.y).value_bits, 1)
        1.0
    """

    name = "copula"
    y_kind = "continuous"
    min_samples = 4

    def __init__(self, bootstrap: int = 100, bias_correct: bool = True,
                 random_state: int | None = 0) -> None:
        self.bootstrap = bootstrap
        self.bias_correct = bias_correct
        self.random_state = random_state

    def check_params(self) -> None:
        """``bootstrap`` an int >= 0."""
        if not isinstance(self.bootstrap, int) or self.bootstrap < 0:
            raise param_error("bootstrap", type(self).__name__, "an int >= 0", self.bootstrap)

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        a, b = x.cpu().numpy(), y.cpu().numpy()
        n, d = len(a), a.shape[1] + b.shape[1]
        if n <= d + 1:
            raise param_error("x", type(self).__name__,
                              f"more samples than dimensions + 1 ({d + 1})", n)
        for side, arr in (("x", a), ("y", b)):
            if (np.ptp(arr, axis=0) == 0).any():
                raise param_error(side, type(self).__name__, "free of constant columns (their "
                                  "normal scores are undefined)", "a constant column")
        z, dx = normal_scores(np.concatenate([a, b], 1)), a.shape[1]
        value = scores_mi_nats(z, dx, self.bias_correct) / LN2
        details: dict = {"bias_correct": self.bias_correct}
        stderr = None
        if self.bootstrap:  # resample the normal scores' rows (the ranks are not redone)
            rng = np.random.default_rng(self.random_state)
            draws = [scores_mi_nats(z[i], dx, self.bias_correct) / LN2
                     for i in (rng.integers(0, n, n) for _ in range(self.bootstrap))]
            stderr = float(np.std(draws, ddof=1))
            details.update(bootstrap=self.bootstrap,
                           ci95_bits=(value - 1.96 * stderr, value + 1.96 * stderr))
        return Estimate(value, "estimate", self.name, stderr, details)


class AutoEstimator(MIEstimator):
    """The larger of the Gaussian-copula and the KSG estimates, in bits.

    Each fails low where the other works (measured on the benchmark of
    :func:`ibkit.estimators.task_families.benchmark_tasks`, docs/results.md): KSG falls far
    below the truth in high dimension, while the copula estimate ignores every dependence
    that its normal-score correlations do not carry (heavy tails, additive noise, spirals);
    for 1-d x and y the copula value is even a population lower bound (Gaussian marginals
    with a given correlation have the least MI when jointly Gaussian). So the larger of the
    two is the better one on every family there. It uses nothing of the true MI.
    ``details`` holds both values and which was chosen; the standard error is the copula's
    bootstrap one when the copula value is chosen, else None.

    Args:
        k: KSG's neighbour count.
        bootstrap: the copula estimate's resamples.
        random_state: seed of both.
    """

    name = "auto"
    y_kind = "continuous"
    min_samples = 4

    def __init__(self, k: int = 3, bootstrap: int = 100, random_state: int | None = 0) -> None:
        self.k = k
        self.bootstrap = bootstrap
        self.random_state = random_state

    def _parts(self) -> tuple[MIEstimator, MIEstimator]:
        from ibkit.estimators.knn import KSGEstimator

        return (GaussianCopulaEstimator(self.bootstrap, True, self.random_state),
                KSGEstimator(k=self.k, random_state=self.random_state))

    def check_params(self) -> None:
        """``k`` and ``bootstrap`` as the two estimators check them."""
        for part in self._parts():
            part.check_params()

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        copula, ksg = self._parts()
        a, b = copula.estimate(x, y), ksg.estimate(x, y)
        chosen = a if a.value_bits >= b.value_bits else b
        details = {"copula_bits": a.value_bits, "ksg_bits": b.value_bits,
                   "chosen": chosen.method, **({"ci95_bits": a.details["ci95_bits"]}
                                               if chosen is a and "ci95_bits" in a.details
                                               else {})}
        return Estimate(chosen.value_bits, "estimate", self.name, chosen.stderr_bits, details)
