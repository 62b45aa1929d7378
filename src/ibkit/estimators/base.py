"""The one interface of every mutual-information estimator.

Each estimator is an object configured by keyword arguments (stored unmodified, as in
scikit-learn) and answers ``estimate(x, y) -> Estimate``: I(X;Y) in **bits**, whether
the number is an estimate, an upper bound or a lower bound, and a standard error
where one exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ibkit._errors import param_error
from ibkit._units import LN2

KINDS = ("estimate", "upper_bound", "lower_bound")
ArrayLike = np.ndarray | torch.Tensor


@dataclass(frozen=True)
class Estimate:
    """A mutual-information value in bits and what kind of number it is.

    Attributes:
        value_bits: the value, in bits.
        kind: ``"estimate"``, ``"upper_bound"`` or ``"lower_bound"``.
        stderr_bits: standard error in bits where the method gives one, else None.
        method: the estimator's name.
        details: parameters used and any warnings raised.
    """

    value_bits: float
    kind: str
    method: str
    stderr_bits: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Estimate.kind must be one of {KINDS}. Got {self.kind!r}.")

    @property
    def value_nats(self) -> float:
        """The value in nats."""
        return self.value_bits * LN2

    def __float__(self) -> float:
        return self.value_bits


@dataclass(frozen=True)
class LayerInformation:
    """I(X;T) and I(T;Y) of one layer T by one estimator, in bits (one information-plane point).

    Attributes:
        estimator: the name the plane records (KDE gives two: ``kde-upper``, ``kde-lower``).
        I_XT_bits: I(X;T) with X the identity of each input (NaN where not estimated).
        I_TY_bits: I(T;Y) with Y the labels.
        I_XT_kind, I_TY_kind: ``"estimate"``, ``"upper_bound"`` or ``"lower_bound"``.
        I_XT_stderr_bits, I_TY_stderr_bits: standard errors in bits where the estimator
            gives one (k-NN, neural), else None.
    """

    estimator: str
    I_XT_bits: float
    I_TY_bits: float
    I_XT_kind: str
    I_TY_kind: str
    I_XT_stderr_bits: float | None = None
    I_TY_stderr_bits: float | None = None


class MIEstimator:
    """Base of all estimators: ``estimate(x, y) -> Estimate``, and for the information plane
    ``plane_information(t, labels) -> [LayerInformation]``.

    Subclasses implement ``_estimate(x, y)`` on validated inputs, validate their parameters in
    ``check_params`` (the one place, called once per public call) and declare ``y_kind``:
    ``"any"``, ``"discrete"`` (integer labels) or ``"continuous"``. Those whose y may be labels
    (``"any"``, ``"discrete"``) work in the plane.
    """

    name = "estimator"
    y_kind = "any"
    min_samples = 2

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments, as stored."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def estimate(self, x: ArrayLike, y: ArrayLike) -> Estimate:
        """I(x; y) in bits.

        Args:
            x: ``(n_samples, dim_x)`` (or ``(n_samples,)``) real values.
            y: ``(n_samples, dim_y)`` real values, or ``(n_samples,)`` integer labels.
        """
        self.check_params()
        return self._estimate(*self._inputs(x, y))

    def check_params(self) -> None:
        """Validate the constructor's parameters; ConfigError naming the bad one. The base
        has none."""

    def works_in_plane(self) -> bool:
        """Whether it estimates from a layer's values against integer class labels (y may be
        labels), as the information plane needs."""
        return self.y_kind in ("any", "discrete")

    def plane_information(self, t: ArrayLike, labels: ArrayLike) -> list[LayerInformation]:
        """I(X;T) and I(T;Y) in bits of a layer's values ``t`` ``(n, units)`` over n distinct
        inputs with integer ``labels`` ``(n,)``: by default two estimates, I(X;T) with the
        inputs' ids ``arange(n)`` as y and I(T;Y) with the labels. Estimators with a faster
        joint computation (binning, KDE) or another answer (k-NN) override it."""
        self.check_params()
        t, labels = self._inputs(t, labels)
        xt = self._estimate(t, torch.arange(len(t)))
        ty = self._estimate(t, labels)
        return [LayerInformation(self.name, xt.value_bits, ty.value_bits, xt.kind, ty.kind,
                                 xt.stderr_bits, ty.stderr_bits)]

    def plane_information_batch(self, ts: Sequence[ArrayLike], labels: ArrayLike
                                ) -> list[list[LayerInformation]]:
        """:meth:`plane_information` of several recordings of one layer (epochs) with the same
        labels, in order. Estimators that vectorise across recordings (binning) override it;
        the values are the same as one call per recording."""
        return [self.plane_information(t, labels) for t in ts]

    def _inputs(self, x: ArrayLike, y: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
        """x as float64 ``(n, dim)`` and y checked against ``y_kind``, both validated."""
        x = as_2d(x, "x", type(self).__name__)
        y = check_y(y, len(x), self.y_kind, type(self).__name__)
        if len(x) < self.min_samples:
            raise param_error("x", type(self).__name__,
                              f"an array with at least {self.min_samples} samples", f"{len(x)} samples")
        return x, y

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        raise NotImplementedError


def _to_tensor(a: ArrayLike, name: str, owner: str) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a.detach()
    if isinstance(a, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(a))
    raise param_error(name, owner, "a numpy array or torch tensor", type(a).__name__)


def as_2d(a: ArrayLike, name: str, owner: str, keep_float: bool = False) -> torch.Tensor:
    """Validate a real array and return it as a float64 tensor ``(n, dim)`` (with
    ``keep_float``, a floating tensor keeps its dtype: no copy)."""
    t = _to_tensor(a, name, owner)
    if t.dim() == 1:
        t = t.unsqueeze(1)
    if t.dim() != 2 or t.shape[0] == 0:
        raise param_error(name, owner, "an array of shape (n_samples, dim)", f"shape {tuple(t.shape)}")
    if not (keep_float and t.dtype.is_floating_point):
        t = t.to(torch.float64)
    if not all_finite(t):
        raise param_error(name, owner, "finite (no NaN or infinity)",
                          f"{int((~torch.isfinite(t)).sum())} non-finite values")
    return t


def all_finite(t: torch.Tensor) -> bool:
    """Whether every value of ``t`` is finite: a finite sum proves it (one fast reduction);
    only otherwise (NaN, infinity, or an overflowing sum) is every element checked."""
    if not t.dtype.is_floating_point or bool(torch.isfinite(t.sum())):
        return True
    return bool(torch.isfinite(t).all())


def is_integer_labels(t: torch.Tensor) -> bool:
    """Whether ``t`` is one-dimensional with integer values (any dtype)."""
    if t.dim() != 1:
        return False
    if not t.dtype.is_floating_point:
        return True
    return bool(torch.isfinite(t).all() and (t == t.round()).all())


def check_y(y: ArrayLike, n: int, kind: str, owner: str) -> torch.Tensor:
    """Validate ``y`` against ``n`` samples and the estimator's ``kind`` of y."""
    t = _to_tensor(y, "y", owner)
    if len(t) != n:
        raise param_error("y", owner, f"an array with as many samples as x ({n})",
                          f"{len(t)} samples")
    if kind == "discrete":
        if not is_integer_labels(t):
            raise param_error("y", owner, "integer class labels of shape (n_samples,)",
                              f"dtype {t.dtype}, shape {tuple(t.shape)}")
        return t.long()
    if kind == "continuous" or not is_integer_labels(t) or t.dtype.is_floating_point:
        return as_2d(t, "y", owner)
    return t.long()
