"""The optimal information-bottleneck curve of a known joint distribution p(x, y).

The iterative IB algorithm of Tishby, Pereira & Bialek (1999). **IB convention: large beta
keeps more information** (it minimises I(X;T) - beta * I(T;Y); the opposite of VIB's beta).
At fixed beta it repeats, to convergence,

    p(t|x) = p(t) / Z(x, beta) * exp(-beta * KL[p(y|x) || p(y|t)])
    p(t)   = sum_x p(x) p(t|x)
    p(y|t) = 1 / p(t) * sum_x p(y|x) p(t|x) p(x)

and anneals beta upward, starting each beta from the previous solution with every cluster
split in two slightly different copies (deterministic annealing, Rose 1998): past a critical
beta the copies separate and T gains information. The curve (I(X;T), I(T;Y)) in bits is
concave and lies under I(T;Y) = min(I(X;T), I(X;Y)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ibkit._errors import param_error
from ibkit._units import LN2

_TINY = 1e-300


@dataclass(frozen=True)
class IBCurve:
    """Points of the optimal IB curve, one per beta (IB convention), in bits.

    Attributes:
        beta: the trade-off parameters, ascending.
        I_XT_bits: I(X;T) of each solution.
        I_TY_bits: I(T;Y) of each solution.
        I_XY_bits: I(X;Y), the curve's ceiling.
        iterations: fixed-point iterations used per beta.
    """

    beta: np.ndarray
    I_XT_bits: np.ndarray
    I_TY_bits: np.ndarray
    I_XY_bits: float
    iterations: np.ndarray


def _check_joint(p_xy: np.ndarray | torch.Tensor) -> torch.Tensor:
    p = torch.as_tensor(np.asarray(p_xy, dtype=np.float64))
    if p.dim() != 2 or min(p.shape) < 1:
        raise param_error("p_xy", "ib_curve", "a 2-D array (n_x, n_y)", tuple(p.shape))
    if not torch.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
        raise param_error("p_xy", "ib_curve", "finite, non-negative entries with a positive sum",
                          "an array violating this")
    p = p / p.sum()
    return p[p.sum(1) > 0]  # inputs of probability 0 play no part


def merge_equivalent_inputs(p: torch.Tensor) -> torch.Tensor:
    """The joint of (X', Y) with X' = p(y|x): inputs with the same conditional (to 1e-12)
    merged into one row holding their summed mass. Exact for the IB curve: an encoder that
    tells such inputs apart gains no I(T;Y) and pays I(X;T), and averaging it over each
    group gives the same p(t, y) with I(X;T) = I(X';T), no larger (data processing). Every
    data set with one label per input has at most n_classes rows after it."""
    p_y_x = p / p.sum(1, keepdim=True)
    _, group = torch.unique(torch.round(p_y_x * 1e12), dim=0, return_inverse=True)
    merged = torch.zeros(int(group.max()) + 1, p.shape[1], dtype=p.dtype)
    return merged.index_add_(0, group, p)


def _information(q: torch.Tensor, p_x: torch.Tensor, p_y_x: torch.Tensor) -> tuple[float, float]:
    """I(X;T) and I(T;Y) in bits of the encoder q = p(t|x)."""
    p_t = p_x @ q
    i_xt = (p_x[:, None] * q * (torch.log(q.clamp_min(_TINY)) - torch.log(p_t.clamp_min(_TINY)))).sum()
    p_ty = q.T @ (p_x[:, None] * p_y_x)  # (T, Y) joint
    p_y = p_ty.sum(0)
    ratio = p_ty / (p_t[:, None] * p_y[None, :]).clamp_min(_TINY)
    i_ty = (p_ty * torch.log(ratio.clamp_min(_TINY))).sum()
    return float(i_xt) / LN2, float(i_ty) / LN2


def _iterate(q: torch.Tensor, beta: float, p_x: torch.Tensor, p_y_x: torch.Tensor,
             neg_h: torch.Tensor, tol: float, max_iter: int) -> tuple[torch.Tensor, int]:
    it = 0
    while it < max_iter:
        it += 1
        p_t = p_x @ q
        p_y_t = (q.T @ (p_x[:, None] * p_y_x)) / p_t.clamp_min(_TINY)[:, None]
        kl = neg_h[:, None] - p_y_x @ torch.log(p_y_t.clamp_min(_TINY)).T  # (X, T)
        logits = torch.log(p_t.clamp_min(_TINY))[None, :] - beta * kl
        new = torch.softmax(logits, dim=1)
        delta = float((new - q).abs().max())
        q = new
        if delta < tol:
            break
    return q, it


def _merge_duplicates(q: torch.Tensor, p_x: torch.Tensor, p_y_x: torch.Tensor) -> torch.Tensor:
    """Merge clusters with the same p(y|t) (to 1e-6) or no mass into one column each;
    the freed columns are left empty (all zero)."""
    p_t = p_x @ q
    p_y_t = (q.T @ (p_x[:, None] * p_y_x)) / p_t.clamp_min(_TINY)[:, None]
    used = p_t > 1e-12
    key = torch.round(p_y_t * 1e6)
    key[~used] = -1.0  # every empty cluster shares one key
    _, group = torch.unique(key, dim=0, return_inverse=True)
    merged = torch.zeros_like(q)
    merged.index_add_(1, group, q)  # column g holds the sum of its group
    return merged


def _split_clusters(q: torch.Tensor, p_x: torch.Tensor, p_y_x: torch.Tensor,
                    perturbation: float, g: torch.Generator) -> torch.Tensor:
    """Deterministic annealing's split step: duplicate clusters are merged, then each used
    cluster gives about half of its inputs' mass, perturbed per input, to an empty column.
    Past the cluster's critical beta the two copies drift apart; below it they merge again."""
    q = _merge_duplicates(q, p_x, p_y_x)
    p_t = p_x @ q
    used = torch.nonzero(p_t > 1e-12).flatten()
    empty = torch.nonzero(p_t <= 1e-12).flatten()
    members = (q[:, used] > 1e-3).sum(0)  # a cluster of one input cannot split
    used = used[torch.argsort(members, descending=True, stable=True)][: int((members > 1).sum())]
    k = min(len(used), len(empty))
    if k:
        src, dst = used[:k], empty[:k]
        share = 0.5 + perturbation * (torch.rand(q.shape[0], k, generator=g, dtype=q.dtype) - 0.5)
        q[:, dst] = q[:, src] * share
        q[:, src] = q[:, src] * (1.0 - share)
    q = q * (1.0 + perturbation * torch.rand(q.shape, generator=g, dtype=q.dtype))
    return q / q.sum(1, keepdim=True)


def ib_curve(
    p_xy: np.ndarray | torch.Tensor,
    betas: np.ndarray | None = None,
    n_clusters: int | None = None,
    tol: float = 1e-7,
    max_iter: int = 2000,
    perturbation: float = 1e-2,
    seed: int = 0,
) -> IBCurve:
    """The optimal IB curve of ``p_xy`` by the iterative IB algorithm with annealing.

    Args:
        p_xy: ``(n_x, n_y)`` joint probabilities (normalised here).
        betas: ascending trade-off values (IB convention: large keeps more information);
            default ``logspace(-1, 3, 60)``.
        n_clusters: cardinality of T; default ``min(n_x', 64)`` with n_x' the number of
            distinct p(y|x) (inputs that share one are merged first, exactly:
            :func:`merge_equivalent_inputs`).
        tol: stop when no p(t|x) moves by more than this in one iteration.
        max_iter: iterations per beta at most.
        perturbation: before each beta every used cluster is split in two copies whose shares
            of each input differ by up to this much (deterministic annealing).
        seed: seed of the initial encoder and the perturbations.

    Example:
        >>> p = np.array([[0.45, 0.05], [0.05, 0.45]])   # BSC(0.1), uniform input
        >>> curve = ib_curve(p, betas=np.array([0.1, 100.0]))
        >>> abs(round(float(curve.I_XT_bits[0]), 3)), round(float(curve.I_TY_bits[-1]), 3)
        (0.0, 0.531)
    """
    p = merge_equivalent_inputs(_check_joint(p_xy))
    betas = np.logspace(-1, 3, 60) if betas is None else np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or len(betas) == 0 or not np.all(np.isfinite(betas)) or np.any(betas < 0) \
            or np.any(np.diff(betas) < 0):
        raise param_error("betas", "ib_curve", "a 1-D ascending array of finite values >= 0", betas)
    n_x = p.shape[0]
    n_t = min(n_x, 64) if n_clusters is None else n_clusters
    if not isinstance(n_t, int) or n_t < 1:
        raise param_error("n_clusters", "ib_curve", "an int >= 1", n_clusters)
    p_x = p.sum(1)
    p_y_x = p / p_x[:, None]
    neg_h = (p_y_x * torch.log(p_y_x.clamp_min(_TINY))).sum(1)  # sum_y p(y|x) log p(y|x)
    g = torch.Generator().manual_seed(seed)
    q = torch.softmax(0.1 * torch.randn(n_x, n_t, generator=g, dtype=torch.float64), 1)
    xt, ty, its = [], [], []
    for beta in betas:
        q = _split_clusters(q, p_x, p_y_x, perturbation, g)
        q, it = _iterate(q, float(beta), p_x, p_y_x, neg_h, tol, max_iter)
        a, b = _information(q, p_x, p_y_x)
        xt.append(a)
        ty.append(b)
        its.append(it)
    i_xy = _information(torch.eye(n_x, dtype=torch.float64), p_x, p_y_x)[1]
    return IBCurve(betas, np.array(xt), np.array(ty), i_xy, np.array(its))


def joint_from_labels(x: torch.Tensor, y: torch.Tensor, n_classes: int | None = None) -> np.ndarray:
    """p(x, y) of a finite data set: each distinct input row equally likely, labels counted.

    Example:
        >>> joint_from_labels(torch.tensor([[0.], [0.], [1.]]), torch.tensor([0, 1, 1]))
        array([[0.33333333, 0.33333333],
               [0.        , 0.33333333]])
    """
    _, inverse = torch.unique(torch.as_tensor(x).flatten(1), dim=0, return_inverse=True)
    k = int(y.max()) + 1 if n_classes is None else n_classes
    joint = np.zeros((int(inverse.max()) + 1, k))
    np.add.at(joint, (inverse.numpy(), torch.as_tensor(y).numpy()), 1.0)
    return joint / joint.sum()


def bsc_curve_bits(i_xt_bits: np.ndarray, flip: float) -> np.ndarray:
    """The exact IB curve of a binary symmetric channel with uniform input (Mrs. Gerber's lemma).

    The optimal T is X through a BSC(delta): I(X;T) = 1 - h(delta) and
    I(T;Y) = 1 - h(delta * flip), with a * b = a(1 - b) + b(1 - a), h the binary entropy in bits.
    """
    delta = np.array([_inverse_h(1.0 - v) for v in np.atleast_1d(i_xt_bits)])
    return 1.0 - _h(delta * (1 - flip) + flip * (1 - delta))


def _h(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-300, 1 - 1e-16)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def _inverse_h(v: float) -> float:
    """delta in [0, 1/2] with h(delta) = v (bisection)."""
    lo, hi = 0.0, 0.5
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _h(np.array(mid)) < v else (lo, mid)
    return (lo + hi) / 2 if v < 1.0 - 1e-15 else 0.5 if not math.isnan(v) else math.nan
