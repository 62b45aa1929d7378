"""I(X;T) and I(T;Y) of one recorded layer with any estimator of :mod:`ibkit.estimators`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from ibkit._errors import ConfigError
from ibkit.estimators import MIEstimator

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
    finite = torch.isfinite(t)
    if not bool(finite.all()):
        raise ValueError(f"The layer {layer!r} has {int((~finite).sum())} non-finite "
                         f"activations (NaN or infinity) at epoch {epoch}: no information can be "
                         "estimated from them (a diverged run, or NaN in the probe inputs).")
    n, start = len(t), time.perf_counter()
    infos = estimator.plane_information(t, labels)
    sec = (time.perf_counter() - start) / len(infos)
    return [PlanePoint(epoch, layer, i.estimator, i.I_XT_bits, i.I_TY_bits, i.I_XT_kind,
                       i.I_TY_kind, n, sec, i.I_XT_stderr_bits, i.I_TY_stderr_bits)
            for i in infos]


def estimate_points(estimators: Sequence[MIEstimator], max_samples: Mapping[str, int], epoch: int,
                    acts: Mapping[str, torch.Tensor], y: torch.Tensor) -> list[PlanePoint]:
    """The points of one epoch: every estimator on every recorded layer."""
    points: list[PlanePoint] = []
    for est in estimators:
        n = max_samples.get(getattr(est, "name", ""), len(y))
        for layer, t in acts.items():
            points += layer_points(est, epoch, layer, t[:n], y[:n])
    return points
