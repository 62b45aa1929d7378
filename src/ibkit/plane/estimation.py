"""I(X;T) and I(T;Y) of one recorded layer with any estimator of :mod:`ibkit.estimators`."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ibkit._errors import ConfigError, param_error
from ibkit._units import LN2
from ibkit.estimators import (
    BinningEstimator,
    KDEEstimator,
    MIEstimator,
    MixedKNNEstimator,
    kde_bounds_nats,
)

COLUMNS = ("epoch", "layer", "estimator", "I_XT_bits", "I_TY_bits", "kind", "I_TY_kind",
           "n_samples", "seconds")


@dataclass(frozen=True)
class PlanePoint:
    """One point of the information plane, in bits.

    Attributes:
        epoch: training epoch (0 = before training).
        layer: module name (``"output"`` = softmax of the output).
        estimator: estimator name; KDE gives two, ``kde-upper`` and ``kde-lower``.
        I_XT_bits: I(X;T) for T the layer, X the probe inputs.
        I_TY_bits: I(T;Y) with Y the probe labels.
        kind: what I_XT_bits is: ``estimate``, ``upper_bound`` or ``lower_bound``.
        I_TY_kind: the same for I_TY_bits.
        n_samples: probe rows used.
        seconds: time this estimator took on this layer.
    """

    epoch: int
    layer: str
    estimator: str
    I_XT_bits: float
    I_TY_bits: float
    kind: str
    I_TY_kind: str
    n_samples: int
    seconds: float

    def as_row(self) -> dict:
        """The point as a ``plane.csv`` row."""
        return {c: getattr(self, c) for c in COLUMNS}


def estimator_label(estimator: MIEstimator) -> str:
    """The name a plane row carries: ``binning``, ``kde`` or the estimator's ``name``."""
    return getattr(estimator, "name", type(estimator).__name__.lower())


def check_plane_estimator(estimator: MIEstimator) -> None:
    """Refuse estimators that cannot take a layer with discrete labels (ConfigError)."""
    if isinstance(estimator, BinningEstimator):
        estimator._check()
        return
    if isinstance(estimator, KDEEstimator):
        v = estimator.noise_var
        if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
            raise param_error("noise_var", "KDEEstimator", "a finite float > 0", v)
        return
    if not isinstance(estimator, MIEstimator) or getattr(estimator, "y_kind", None) != "discrete":
        raise ConfigError(
            "The 'estimators' parameter of InformationPlane must hold estimators of "
            "ibkit.estimators that take integer labels as y (binning, kde, knn-mixed, discrete). "
            f"Got {estimator!r}."
        )


def layer_points(
    estimator: MIEstimator, epoch: int, layer: str, t: torch.Tensor, labels: torch.Tensor
) -> list[PlanePoint]:
    """Points of one layer: I(X;T) with the inputs' ids as X, I(T;Y) with ``labels``.

    Binning bins once for both values; KDE builds one distance matrix for both bounds
    (two points, ``kde-upper`` and ``kde-lower``); other estimators are called twice, except
    k-NN, which gives I(T;Y) only (I_XT_bits is NaN).
    """
    n, start = len(t), time.perf_counter()
    if isinstance(estimator, BinningEstimator):
        info = estimator.layer_information(t.numpy(), labels.numpy())
        return [PlanePoint(epoch, layer, "binning", info["I_XT_bits"], info["I_TY_bits"],
                           "estimate", "estimate", n, time.perf_counter() - start)]
    if isinstance(estimator, KDEEstimator):
        nats = kde_bounds_nats(t, labels, float(estimator.noise_var))
        sec = (time.perf_counter() - start) / 2
        return [PlanePoint(epoch, layer, f"kde-{b}", nats[f"I_XT_{b}"] / LN2, nats[f"I_TY_{b}"] / LN2,
                           f"{b}_bound", "estimate", n, sec) for b in ("upper", "lower")]
    ty = estimator.estimate(t, labels)
    if isinstance(estimator, MixedKNNEstimator):
        # I(X;T) of a deterministic layer with continuous values is infinite; k-NN has no
        # neighbours within an input's own "class" of one: only I(T;Y) is estimated.
        xt_bits, xt_kind = float("nan"), "estimate"
    else:
        xt = estimator.estimate(t, torch.from_numpy(np.arange(n)))
        xt_bits, xt_kind = xt.value_bits, xt.kind
    return [PlanePoint(epoch, layer, estimator_label(estimator), xt_bits, ty.value_bits,
                       xt_kind, ty.kind, n, time.perf_counter() - start)]
