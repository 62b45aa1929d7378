"""I(X;T) and I(T;Y) of one recorded layer with any estimator of :mod:`ibkit.estimators`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from ibkit._errors import ConfigError
from ibkit.estimators import MIEstimator
from ibkit.estimators.base import all_finite

COLUMNS = ("epoch", "layer", "estimator", "I_XT_bits", "I_TY_bits", "kind", "I_TY_kind",
           "n_samples", "seconds", "I_XT_stderr_bits", "I_TY_stderr_bits")


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
        I_XT_stderr_bits, I_TY_stderr_bits: standard errors where the estimator gives one
            (k-NN's I(T;Y), the neural bounds), else None (an empty cell in plane.csv).
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
    I_XT_stderr_bits: float | None = None
    I_TY_stderr_bits: float | None = None

    def as_row(self) -> dict:
        """The point as a ``plane.csv`` row."""
        return {c: getattr(self, c) for c in COLUMNS}


def check_plane_estimator(estimator: MIEstimator) -> None:
    """Refuse what cannot estimate a layer against integer labels (ConfigError); validate the
    estimator's parameters (its own ``check_params``)."""
    if not isinstance(estimator, MIEstimator) or not estimator.works_in_plane():
        raise ConfigError(
            "The 'estimators' parameter of InformationPlane must hold estimators of "
            "ibkit.estimators of a layer's values that take integer labels as y (binning, kde, "
            f"knn-mixed, discrete, neural). Got {estimator!r}."
        )
    estimator.check_params()


def layer_points(
    estimator: MIEstimator, epoch: int, layer: str, t: torch.Tensor, labels: torch.Tensor
) -> list[PlanePoint]:
    """Points of one layer: I(X;T) with the inputs' ids as X, I(T;Y) with ``labels``, from the
    estimator's own :meth:`~ibkit.estimators.MIEstimator.plane_information` (binning bins
    once for both; KDE builds one distance matrix for two points, ``kde-upper`` and
    ``kde-lower``; k-NN gives I(T;Y) only). The time is shared among the points."""
    return layer_points_batch(estimator, [epoch], layer, [t], labels)[0]


def layer_points_batch(estimator: MIEstimator, epochs: Sequence[int], layer: str,
                       ts: Sequence[torch.Tensor], labels: torch.Tensor) -> list[list[PlanePoint]]:
    """:func:`layer_points` of one layer recorded at several ``epochs`` (``ts`` in the same
    order), estimated together (:meth:`~ibkit.estimators.MIEstimator.plane_information_batch`:
    binning vectorises across them); the time is shared among all the points."""
    for epoch, t in zip(epochs, ts, strict=True):
        _check_finite(layer, epoch, t)
    start = time.perf_counter()
    infos = estimator.plane_information_batch(list(ts), labels)
    sec = (time.perf_counter() - start) / max(1, sum(len(i) for i in infos))
    return [[PlanePoint(epoch, layer, i.estimator, i.I_XT_bits, i.I_TY_bits, i.I_XT_kind,
                        i.I_TY_kind, len(t), sec, i.I_XT_stderr_bits, i.I_TY_stderr_bits)
             for i in info] for epoch, t, info in zip(epochs, ts, infos, strict=True)]


def _check_finite(layer: str, epoch: int, t: torch.Tensor) -> None:
    if not all_finite(t):
        raise ValueError(f"The layer {layer!r} has {int((~torch.isfinite(t)).sum())} non-finite "
                         f"activations (NaN or infinity) at epoch {epoch}: no information can be "
                         "estimated from them (a diverged run, or NaN in the probe inputs).")


def estimate_points(estimators: Sequence[MIEstimator], max_samples: Mapping[str, int], epoch: int,
                    acts: Mapping[str, torch.Tensor], y: torch.Tensor) -> list[PlanePoint]:
    """The points of one epoch: every estimator on every recorded layer."""
    return estimate_points_batch(estimators, max_samples, [(epoch, acts)], y)


def estimate_points_batch(estimators: Sequence[MIEstimator], max_samples: Mapping[str, int],
                          recorded: Sequence[tuple[int, Mapping[str, torch.Tensor]]],
                          y: torch.Tensor) -> list[PlanePoint]:
    """The points of several epochs' recordings ``[(epoch, {layer: activations})]`` at once,
    each layer's epochs estimated together (:func:`layer_points_batch`). The same points, in
    the same order (epoch, then estimator, then layer), as :func:`estimate_points` epoch by
    epoch."""
    if not recorded:
        return []
    epochs = [e for e, _ in recorded]
    per_epoch: dict[int, list[PlanePoint]] = {i: [] for i in range(len(recorded))}
    for est in estimators:
        n = max_samples.get(getattr(est, "name", ""), len(y))
        for layer in recorded[0][1]:
            ts = [a[layer][:n] for _, a in recorded]
            by_shape: dict[tuple, list[int]] = {}  # a layer whose width changed: apart
            for i, t in enumerate(ts):
                by_shape.setdefault(tuple(t.shape), []).append(i)
            for idx in by_shape.values():
                batch = layer_points_batch(est, [epochs[i] for i in idx], layer,
                                           [ts[i] for i in idx], y[:n])
                for i, points in zip(idx, batch, strict=True):
                    per_epoch[i] += points
    return [p for i in range(len(recorded)) for p in per_epoch[i]]
