"""k-nearest-neighbour estimators of mutual information.

- :class:`KSGEstimator`: Kraskov, Stogbauer & Grassberger (2004), algorithm 1, for continuous
  x and y of any dimension. Max-norm in the joint space; eps_i is the distance from
  (x_i, y_i) to its k-th neighbour; n_x(i), n_y(i) count the other points strictly closer
  than eps_i in x alone and in y alone;
  I = psi(k) + psi(N) - < psi(n_x + 1) + psi(n_y + 1) >   (nats).
- :class:`MixedKNNEstimator`: Ross (2014), continuous x and discrete labels y. For point i
  of class c (N_c points), d_i is the distance to its k-th neighbour within class c and m_i
  the number of points of any class within d_i, the k-th neighbour counted, i excluded;
  I = psi(N) - < psi(N_c) > + psi(k) - < psi(m_i) >   (nats).

Neighbour searches use scipy's cKDTree, and for KSG from a joint dimension of
:data:`BRUTE_FORCE_DIM` a blocked brute-force search in torch (trees lose to it there); for
inputs on a GPU always the brute-force search, on that device.

KSG with ``copula=True`` first maps every coordinate to its normal scores,
Phi^-1(rank / (n + 1)). MI is unchanged by monotone maps of each coordinate, but KSG's bias is
not: heavy tails and bimodal marginals leave most neighbourhoods empty of one side's points.
On normal scores every marginal is Gaussian, which removes that part of the bias at any
dimension (the "KSG on copula-transformed coordinates" correction; measured on the benchmark
in docs/results.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma

from ibkit._errors import param_error
from ibkit._units import LN2
from ibkit.estimators.base import ArrayLike, Estimate, LayerInformation, MIEstimator
from ibkit.estimators.scores import normal_scores


def _prepare(a: np.ndarray, standardize: bool, jitter: float, rng: np.random.Generator
             ) -> np.ndarray:
    a = a.astype(np.float64, copy=True)
    if standardize:
        std = a.std(axis=0)
        a /= np.where(std > 0, std, 1.0)
    if jitter > 0:  # breaks ties between repeated values, as scikit-learn does
        a += jitter * np.maximum(1.0, np.abs(a).mean(axis=0)) * rng.standard_normal(a.shape)
    return a


def _count_within(points: np.ndarray, radius: np.ndarray, p: float) -> np.ndarray:
    """Number of points (self included) at distance <= radius (in the p-norm)."""
    tree = cKDTree(points)
    return np.asarray(tree.query_ball_point(points, radius, p=p, return_length=True))


def ksg_terms(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Per-sample KSG-1 terms psi(k) + psi(N) - psi(n_x + 1) - psi(n_y + 1), nats, ``(N,)``."""
    n = len(x)
    joint = np.hstack([x, y])
    eps = cKDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, -1]  # (N,)
    strict = eps * (1.0 - 1e-10)  # strictly closer than eps (a relative margin survives rounding)
    n_x = _count_within(x, strict, np.inf) - 1
    n_y = _count_within(y, strict, np.inf) - 1
    return digamma(k) + digamma(n) - digamma(n_x + 1) - digamma(n_y + 1)


BRUTE_FORCE_DIM = 10
"""Joint dimension from which KSG searches neighbours by blocked brute force in torch rather
than with k-d trees (measured crossover: benchmarks/bench_ksg_speed.py, docs/results.md)."""


def ksg_terms_brute(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, k: int,
                    block: int = 512) -> np.ndarray:
    """:func:`ksg_terms` by blocked brute force: for a block of rows, the max-norm distances
    to every point in x and in y (``torch.cdist``, p = inf); the joint distance is their
    maximum, so one pass gives eps_i and both counts. Exactly the tree search's numbers (the
    same float64 distances and comparisons), on x's device if it is a tensor."""
    n = len(x)
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    n_x, n_y = np.empty(n), np.empty(n)
    for start in range(0, n, block):
        dx = torch.cdist(xt[start:start + block], xt, p=float("inf"))
        dy = torch.cdist(yt[start:start + block], yt, p=float("inf"))
        eps = torch.maximum(dx, dy).kthvalue(k + 1, dim=1).values  # self at distance 0
        strict = (eps * (1.0 - 1e-10))[:, None]
        n_x[start:start + block] = ((dx <= strict).sum(1) - 1).cpu().numpy()
        n_y[start:start + block] = ((dy <= strict).sum(1) - 1).cpu().numpy()
    return digamma(k) + digamma(n) - digamma(n_x + 1) - digamma(n_y + 1)


class _KNNBase(MIEstimator):
    def __init__(self, k: int = 3, standardize: bool = True, jitter: float = 1e-10,
                 random_state: int | None = 0) -> None:
        self.k = k
        self.standardize = standardize
        self.jitter = jitter
        self.random_state = random_state

    def check_params(self) -> None:
        """``k`` an int >= 1."""
        if not isinstance(self.k, int) or self.k < 1:
            raise param_error("k", type(self).__name__, "an int >= 1", self.k)

    def _check(self, n: int) -> None:
        owner = type(self).__name__
        if n < self.k + 1:
            raise param_error("x", owner, f"at least k + 1 = {self.k + 1} samples", f"{n} samples")


class KSGEstimator(_KNNBase):
    """KSG algorithm 1 (see the module docstring); continuous x and y, any dimensions.

    Args:
        k: neighbours (3 is the usual choice).
        standardize: scale every coordinate to unit variance first (as scikit-learn does).
        jitter: relative noise added to break ties (scikit-learn uses 1e-10).
        random_state: seed of the jitter.
        copula: estimate on every coordinate's normal scores (module docstring).

    The standard error is the naive one, std of the per-sample terms / sqrt(N).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.standard_normal((2000, 1)); y = x + rng.standard_normal((2000, 1))
        >>> round(KSGEstimator().estimate(x, y).value_bits, 1)   # truth: 0.5 bit
        0.5
    """

    name = "ksg"
    y_kind = "continuous"

    def __init__(self, k: int = 3, standardize: bool = True, jitter: float = 1e-10,
                 random_state: int | None = 0, copula: bool = False) -> None:
        super().__init__(k, standardize, jitter, random_state)
        self.copula = copula

    def check_params(self) -> None:
        """``k`` an int >= 1, ``copula`` a bool."""
        super().check_params()
        if not isinstance(self.copula, bool):
            raise param_error("copula", type(self).__name__, "True or False", self.copula)

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        self._check(len(x))
        rng = np.random.default_rng(self.random_state)
        xa, ya = x.cpu().numpy(), y.cpu().numpy()
        if self.copula:
            xa, ya = normal_scores(xa), normal_scores(ya)
        xs = _prepare(xa, self.standardize, self.jitter, rng)
        ys = _prepare(ya, self.standardize, self.jitter, rng)
        if x.device.type != "cpu":  # the O(n^2) search on the input's device
            terms = ksg_terms_brute(torch.as_tensor(xs, device=x.device),
                                    torch.as_tensor(ys, device=x.device), self.k) / LN2
        else:
            brute = xs.shape[1] + ys.shape[1] >= BRUTE_FORCE_DIM
            terms = (ksg_terms_brute if brute else ksg_terms)(xs, ys, self.k) / LN2
        return Estimate(float(terms.mean()), "estimate", self.name,
                        float(terms.std() / np.sqrt(len(terms))), self.get_params())


class MixedKNNEstimator(_KNNBase):
    """Ross (2014) for continuous x and discrete labels y (see the module docstring).

    Distances are Euclidean (as scikit-learn's ``mutual_info_classif``). Classes with
    fewer than k + 1 samples use k = N_c - 1; singleton classes are left out.
    """

    name = "knn-mixed"
    y_kind = "discrete"

    def plane_information(self, t: ArrayLike, labels: ArrayLike) -> list[LayerInformation]:
        """I(T;Y) only: I(X;T) of a deterministic layer with continuous values is infinite,
        and k-NN has no neighbours within an input's own "class" of one (I_XT_bits is NaN)."""
        self.check_params()
        ty = self._estimate(*self._inputs(t, labels))
        return [LayerInformation(self.name, float("nan"), ty.value_bits, "estimate", ty.kind,
                                 None, ty.stderr_bits)]

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        self._check(len(x))
        if bool((x == x[:1]).all()):
            warnings.warn("MixedKNNEstimator: x is constant, so I(X;Y) = 0 exactly; returned "
                          "0 (the k-NN formula on jittered copies of one point gives noise).",
                          RuntimeWarning, stacklevel=3)
            return Estimate(0.0, "estimate", self.name, 0.0, self.get_params())
        rng = np.random.default_rng(self.random_state)
        xs = _prepare(x.cpu().numpy(), self.standardize, self.jitter, rng)
        labels = y.cpu().numpy()
        n = len(xs)
        radius, k_used, n_class = np.zeros(n), np.zeros(n), np.zeros(n)
        keep = np.zeros(n, dtype=bool)
        for c in np.unique(labels):
            idx = np.flatnonzero(labels == c)
            if len(idx) < 2:
                continue
            k = min(self.k, len(idx) - 1)
            d = cKDTree(xs[idx]).query(xs[idx], k=k + 1)[0][:, -1]
            radius[idx], k_used[idx], n_class[idx], keep[idx] = d, k, len(idx), True
        # within d_i, the k-th neighbour counted (a relative margin: the tree's rounded distance
        # to it can exceed d_i by an ulp), i excluded
        m = _count_within(xs[keep], radius[keep] * (1.0 + 1e-10), 2.0) - 1
        n_kept = int(keep.sum())
        terms = (digamma(n_kept) - digamma(n_class[keep]) + digamma(k_used[keep])
                 - digamma(m)) / LN2
        return Estimate(float(terms.mean()), "estimate", self.name,
                        float(terms.std() / np.sqrt(n_kept)), self.get_params())
