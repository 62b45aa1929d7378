"""Normal scores: each coordinate's ranks mapped to standard normal quantiles (van der
Waerden), the copula transform shared by the Gaussian-copula estimator and KSG on normal
scores."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata


def normal_scores(a: np.ndarray) -> np.ndarray:
    """Each column's ranks (ties averaged) mapped to standard normal quantiles,
    Phi^-1(rank / (n + 1))."""
    ranks = rankdata(a, axis=0)
    return norm.ppf(ranks / (len(a) + 1.0))
