"""The estimators' shared base exactly: every validation message word for word, the dtype and
shape rules of x and y, the finiteness check's fast and slow paths, and the default plane
methods (mutants of estimators/base.py)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from tests.conftest import raises_exactly

from ibkit.estimators.base import (
    Estimate,
    LayerInformation,
    MIEstimator,
    all_finite,
    as_2d,
    check_y,
    is_integer_labels,
)


class _Echo(MIEstimator):
    """Returns len(unique(y)) bits, kind lower_bound, so the plane's two calls are told apart."""

    name = "echo"
    min_samples = 3

    def __init__(self, a: int = 1) -> None:
        self.a = a
        self.fitted_ = True

    def _estimate(self, x, y):
        return Estimate(float(len(torch.unique(y, dim=0))), "lower_bound", "echo", 0.5 * self.a)


def test_an_estimate_knows_its_nats_and_refuses_an_unknown_kind():
    e = Estimate(2.0, "estimate", "m")
    assert e.value_nats == 2.0 * math.log(2.0) and float(e) == 2.0
    assert e.stderr_bits is None and e.details == {}
    with pytest.raises(ValueError, match=re.escape(
            "Estimate.kind must be one of ('estimate', 'upper_bound', 'lower_bound'). "
            "Got 'bound'.")):
        Estimate(1.0, "bound", "m")


def test_params_leave_out_fitted_attributes_and_the_defaults_of_the_base():
    est = _Echo(a=4)
    assert est.get_params() == {"a": 4} and repr(est) == "_Echo(a=4)"
    assert (MIEstimator.name, MIEstimator.y_kind, MIEstimator.min_samples) == ("estimator", "any", 2)
    assert MIEstimator().check_params() is None
    with pytest.raises(NotImplementedError):
        MIEstimator().estimate(np.zeros((3, 1)), np.arange(3))


def test_works_in_plane_follows_the_kind_of_y():
    for kind, ok in [("any", True), ("discrete", True), ("continuous", False)]:
        est = _Echo()
        est.y_kind = kind
        assert est.works_in_plane() is ok


def test_the_default_plane_uses_input_ids_then_labels():
    t = np.array([[0.0], [1.0], [1.0], [2.0]])
    rows = _Echo(a=2).plane_information(t, np.array([0, 1, 1, 0]))
    assert rows == [LayerInformation("echo", 4.0, 2.0, "lower_bound", "lower_bound", 1.0, 1.0)]
    batch = _Echo().plane_information_batch([t, t[::-1].copy()], np.array([0, 0, 0, 1]))
    assert [[r.I_XT_bits, r.I_TY_bits] for rs in batch for r in rs] == [[4.0, 2.0], [4.0, 2.0]]


def test_too_few_samples_are_named_with_the_minimum():
    with raises_exactly("The 'x' parameter of _Echo must be an array with at least 3 samples. "
                 "Got '2 samples' instead."):
        _Echo().estimate(np.zeros((2, 1)), np.arange(2))
    assert _Echo().estimate(np.zeros((3, 1)), np.arange(3)).value_bits == 3.0
    with raises_exactly("The 'x' parameter of _Echo must be an array of shape (n_samples, dim). "
                        "Got 'shape (3, 1, 1)' instead."):
        _Echo().estimate(np.zeros((3, 1, 1)), np.arange(3))


def test_as_2d_shapes_types_and_dtypes():
    assert as_2d(np.arange(3), "x", "E").shape == (3, 1)
    assert as_2d(np.arange(3), "x", "E").dtype == torch.float64
    f32 = torch.ones(2, 2, dtype=torch.float32)
    assert as_2d(f32, "x", "E").dtype == torch.float64
    kept = as_2d(f32, "x", "E", keep_float=True)
    assert kept.dtype == torch.float32 and kept.data_ptr() == f32.data_ptr()  # no copy
    assert as_2d(torch.arange(4), "x", "E", keep_float=True).dtype == torch.float64
    x = torch.ones(3, 1, requires_grad=True)
    assert not as_2d(x, "x", "E").requires_grad
    fortran = np.asfortranarray(np.arange(6.0).reshape(3, 2))
    assert torch.equal(as_2d(fortran, "x", "E"), torch.arange(6.0, dtype=torch.float64).reshape(3, 2))
    with raises_exactly("The 'x' parameter of E must be a numpy array or torch tensor. "
                 "Got 'list' instead."):
        as_2d([1.0, 2.0], "x", "E")
    with raises_exactly("The 'x' parameter of E must be an array of shape (n_samples, dim). "
                 "Got 'shape (2, 2, 2)' instead."):
        as_2d(np.zeros((2, 2, 2)), "x", "E")
    with raises_exactly("The 'x' parameter of E must be an array of shape (n_samples, dim). "
                 "Got 'shape (0, 3)' instead."):
        as_2d(np.zeros((0, 3)), "x", "E")
    with raises_exactly("The 'x' parameter of E must be finite (no NaN or infinity). "
                 "Got '2 non-finite values' instead."):
        as_2d(np.array([1.0, np.nan, np.inf]), "x", "E")


def test_all_finite_checks_each_value_only_when_the_sum_is_not_finite():
    assert all_finite(torch.tensor([1.0, 2.0]))
    assert all_finite(torch.tensor([1, 2]))
    assert not all_finite(torch.tensor([1.0, math.nan]))
    assert not all_finite(torch.tensor([math.inf, -math.inf]))
    assert all_finite(torch.tensor([3e38, 3e38], dtype=torch.float32))  # the sum overflows


def test_integer_labels_any_dtype_but_one_dimensional():
    assert is_integer_labels(torch.tensor([0, 2]))
    assert is_integer_labels(torch.tensor([0.0, 2.0]))
    assert not is_integer_labels(torch.tensor([0.0, 2.5]))
    assert not is_integer_labels(torch.tensor([0.0, math.nan]))
    assert not is_integer_labels(torch.tensor([0.0, math.inf]))
    assert not is_integer_labels(torch.tensor([[0], [1]]))


def test_check_y_by_kind():
    labels = np.array([0, 1, 1])
    assert check_y(labels, 3, "discrete", "E").dtype == torch.long
    assert check_y(np.array([0.0, 1.0, 1.0]), 3, "discrete", "E").dtype == torch.long
    assert check_y(labels, 3, "any", "E").dtype == torch.long
    assert check_y(labels, 3, "any", "E").shape == (3,)
    for kind, y in [("continuous", labels), ("any", np.array([0.0, 1.0, 1.0])),
                    ("any", np.array([0.5, 1.0, 1.0])), ("any", np.zeros((3, 2), dtype=int))]:
        got = check_y(y, 3, kind, "E")
        assert got.dtype == torch.float64 and got.dim() == 2, (kind, y)
    with raises_exactly("The 'y' parameter of E must be an array with as many samples as x (4). "
                 "Got '3 samples' instead."):
        check_y(labels, 4, "any", "E")
    with raises_exactly("The 'y' parameter of E must be integer class labels of shape (n_samples,). "
                 "Got 'dtype torch.float64, shape (3,)' instead."):
        check_y(np.array([0.5, 1.0, 1.0]), 3, "discrete", "E")
    with raises_exactly("The 'y' parameter of E must be finite (no NaN or infinity). "
                        "Got '1 non-finite values' instead."):
        check_y(np.array([0.5, np.nan, 1.0]), 3, "continuous", "E")
    with raises_exactly("The 'y' parameter of E must be a numpy array or torch tensor. "
                 "Got 'tuple' instead."):
        check_y((0, 1, 1), 3, "any", "E")
