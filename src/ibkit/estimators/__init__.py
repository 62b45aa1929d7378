"""Mutual-information estimators behind one interface: ``estimate(x, y) -> Estimate`` in bits.

| method | class | x, y | kind |
|---|---|---|---|
| ``binning`` | :class:`BinningEstimator` | any; y labels or binned | estimate (plug-in) |
| ``kde`` | :class:`KDEEstimator` | x continuous, y labels (``arange(n)`` for I(X;T)) | upper/lower bound |
| ``ksg`` | :class:`KSGEstimator` | both continuous | estimate |
| ``knn-mixed`` | :class:`MixedKNNEstimator` | x continuous, y labels | estimate |
| ``gaussian`` | :class:`GaussianEstimator` | both continuous | estimate (Gaussian plug-in) |
| ``copula`` | :class:`GaussianCopulaEstimator` | both continuous | estimate, bootstrap interval |
| ``auto`` | :class:`AutoEstimator` | both continuous | the larger of copula and KSG |
| ``discrete`` | :class:`DiscreteEstimator` | both integer | estimate (plug-in) |
| ``neural`` | :class:`NeuralEstimator` | any | lower bound |
| ``variational`` | :class:`VariationalBounds` | VIB model, y labels | upper/lower bound |
| ``teacher-student`` | :class:`TeacherStudentBound` | a teacher's samples x (y unused) | upper bound |

:class:`LinearGaussianTeacherStudent` is a teacher and student with closed-form I(X;Z), VIB bound
and Jensen gap: the test case of the teacher-student bound.
"""

from __future__ import annotations

from typing import Any

from ibkit._errors import param_error
from ibkit.estimators.base import KINDS, ArrayLike, Estimate, LayerInformation, MIEstimator
from ibkit.estimators.binning import BinningEstimator, entropy_bits, plugin_mi_bits, plugin_mi_stderr_bits
from ibkit.estimators.copula import AutoEstimator, GaussianCopulaEstimator
from ibkit.estimators.exact import (
    DiscreteEstimator,
    GaussianEstimator,
    discrete_mi_bits,
    gaussian_mi_bits,
    gaussian_mi_stderr_bits,
)
from ibkit.estimators.kde import KDEEstimator, kde_bounds_nats
from ibkit.estimators.knn import KSGEstimator, MixedKNNEstimator
from ibkit.estimators.linear_gaussian import LinearGaussianTeacherStudent
from ibkit.estimators.neural import NeuralEstimator
from ibkit.estimators.teacher_student import InferenceNetwork, TeacherStudentBound
from ibkit.estimators.variational import VariationalBounds

ESTIMATORS: dict[str, type[MIEstimator]] = {
    "binning": BinningEstimator,
    "kde": KDEEstimator,
    "ksg": KSGEstimator,
    "knn-mixed": MixedKNNEstimator,
    "gaussian": GaussianEstimator,
    "copula": GaussianCopulaEstimator,
    "auto": AutoEstimator,
    "discrete": DiscreteEstimator,
    "neural": NeuralEstimator,
    "variational": VariationalBounds,
    "teacher-student": TeacherStudentBound,
}


def make_estimator(method: str, **params: Any) -> MIEstimator:
    """The estimator called ``method`` (a key of :data:`ESTIMATORS`) with ``params``."""
    if method not in ESTIMATORS:
        raise param_error("method", "mutual_information", f"one of {tuple(ESTIMATORS)}", method)
    try:
        return ESTIMATORS[method](**params)
    except TypeError as e:
        raise param_error("params", f"the '{method}' estimator", "its keyword arguments",
                          str(e)) from None


def mutual_information(x: ArrayLike, y: ArrayLike, method: str = "ksg", **params: Any) -> Estimate:
    """One-off I(x; y) in bits with the estimator ``method``.

    Example:
        >>> import numpy as np
        >>> mutual_information(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]), "discrete").value_bits
        1.0
    """
    return make_estimator(method, **params).estimate(x, y)


__all__ = [
    "AutoEstimator",
    "GaussianCopulaEstimator",
    "ESTIMATORS",
    "KINDS",
    "BinningEstimator",
    "DiscreteEstimator",
    "Estimate",
    "GaussianEstimator",
    "InferenceNetwork",
    "KDEEstimator",
    "KSGEstimator",
    "LayerInformation",
    "LinearGaussianTeacherStudent",
    "MIEstimator",
    "MixedKNNEstimator",
    "NeuralEstimator",
    "TeacherStudentBound",
    "VariationalBounds",
    "discrete_mi_bits",
    "entropy_bits",
    "gaussian_mi_bits",
    "gaussian_mi_stderr_bits",
    "kde_bounds_nats",
    "make_estimator",
    "mutual_information",
    "plugin_mi_bits",
    "plugin_mi_stderr_bits",
]
