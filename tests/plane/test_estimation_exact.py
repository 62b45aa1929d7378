"""plane/estimation.py exactly, with stub estimators that record their calls: the points'
fields, the shared time, the order, the sample caps, the grouping by shape and the messages."""

from __future__ import annotations

import math
import re
import time

import pytest
import torch

from ibkit._errors import ConfigError
from ibkit.estimators import BinningEstimator, GaussianEstimator
from ibkit.estimators.base import LayerInformation, MIEstimator
from ibkit.plane.estimation import (
    COLUMNS,
    PlanePoint,
    check_plane_estimator,
    estimate_points,
    estimate_points_batch,
    layer_points,
    layer_points_batch,
)


class _Stub(MIEstimator):
    """Two plane rows per recording: I(X;T) = sum of t, I(T;Y) = number of rows of the labels."""

    def __init__(self, name: str = "stub", pause: float = 0.0) -> None:
        self.name_ = name
        self.pause = pause
        self.calls: list[tuple[list[tuple[int, ...]], int]] = []

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.name_

    def plane_information_batch(self, ts, labels):
        self.calls.append(([tuple(t.shape) for t in ts], len(labels)))
        time.sleep(self.pause)
        return [[LayerInformation(f"{self.name}-a", float(t.sum()), float(len(labels)),
                                  "upper_bound", "estimate", 0.1, None),
                 LayerInformation(f"{self.name}-b", -float(t.sum()), 0.0, "lower_bound",
                                  "lower_bound", None, 0.2)] for t in ts]


def test_a_point_is_a_row_of_the_plane_csv_in_column_order():
    p = PlanePoint(3, "fc1", "binning", 1.5, 0.5, "estimate", "upper_bound", 100, 0.01, None, 0.2)
    assert list(p.as_row()) == list(COLUMNS)
    assert list(p.as_row().values()) == [3, "fc1", "binning", 1.5, 0.5, "estimate",
                                         "upper_bound", 100, 0.01, None, 0.2]
    assert PlanePoint(0, "a", "b", 0.0, 0.0, "estimate", "estimate", 1, 0.0).I_XT_stderr_bits is None


def test_only_plane_estimators_are_accepted_and_their_parameters_checked():
    for bad in [GaussianEstimator(), "binning"]:
        message = ("The 'estimators' parameter of InformationPlane must hold estimators of "
                   "ibkit.estimators of a layer's values that take integer labels as y (binning, "
                   f"kde, knn-mixed, discrete, neural). Got {bad!r}.")
        with pytest.raises(ConfigError, match="^" + re.escape(message) + "$"):
            check_plane_estimator(bad)
    with pytest.raises(ConfigError, match="n_bins"):
        check_plane_estimator(BinningEstimator(n_bins=1))
    check_plane_estimator(BinningEstimator())


def test_layer_points_carry_the_estimators_rows_and_share_the_time():
    est = _Stub(pause=0.08)
    ts = [torch.ones(5, 2), 2 * torch.ones(5, 2)]
    batch = layer_points_batch(est, [4, 9], "fc", ts, torch.arange(5))
    assert est.calls == [([(5, 2), (5, 2)], 5)]
    assert [[(p.epoch, p.estimator, p.I_XT_bits) for p in ps] for ps in batch] == [
        [(4, "stub-a", 10.0), (4, "stub-b", -10.0)], [(9, "stub-a", 20.0), (9, "stub-b", -20.0)]]
    first = batch[0][0]
    assert (first.layer, first.I_TY_bits, first.kind, first.I_TY_kind, first.n_samples) == (
        "fc", 5.0, "upper_bound", "estimate", 5)
    assert (first.I_XT_stderr_bits, first.I_TY_stderr_bits) == (0.1, None)
    assert (batch[0][1].I_XT_stderr_bits, batch[0][1].I_TY_stderr_bits) == (None, 0.2)
    seconds = {p.seconds for ps in batch for p in ps}
    assert len(seconds) == 1 and 0.08 / 4 <= seconds.pop() < 0.08 / 2
    single = layer_points(_Stub(), 7, "fc", ts[0], torch.arange(5))
    assert [(p.epoch, p.layer, p.I_XT_bits) for p in single] == [(7, 'fc', 10.0), (7, 'fc', -10.0)]


def test_an_estimator_with_no_rows_costs_no_division_by_zero():
    class Empty(_Stub):
        def plane_information_batch(self, ts, labels):
            return [[] for _ in ts]

    assert layer_points_batch(Empty(), [1], "fc", [torch.ones(2, 1)], torch.arange(2)) == [[]]


def test_non_finite_activations_are_refused_with_layer_epoch_and_count():
    t = torch.tensor([[1.0, math.nan], [math.inf, 0.0]])
    message = ("The layer 'fc2' has 2 non-finite activations (NaN or infinity) at epoch 6: no "
               "information can be estimated from them (a diverged run, or NaN in the probe "
               "inputs).")
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        layer_points_batch(_Stub(), [5, 6], "fc2", [torch.zeros(2, 2), t], torch.arange(2))


def test_points_come_by_epoch_then_estimator_then_layer_with_each_estimators_cap():
    a, b = _Stub("a"), _Stub("b")
    acts = lambda s: {"l1": s * torch.ones(6, 1), "l2": s * torch.ones(6, 3)}  # noqa: E731
    y = torch.arange(6)
    points = estimate_points_batch([a, b], {"b": 4}, [(1, acts(1.0)), (2, acts(2.0))], y)
    assert [(p.epoch, p.estimator, p.layer) for p in points] == [
        (e, f"{n}-{s}", layer) for e in (1, 2) for n in "ab" for layer in ("l1", "l2")
        for s in "ab"]
    assert {p.n_samples for p in points if p.estimator.startswith("b")} == {4}
    assert {p.n_samples for p in points if p.estimator.startswith("a")} == {6}
    assert [p.I_XT_bits for p in points if p.estimator == "b-a"] == [4.0, 12.0, 8.0, 24.0]
    assert [p.I_TY_bits for p in points if p.estimator == "b-a"] == [4.0] * 4
    assert b.calls == [([(4, 1), (4, 1)], 4), ([(4, 3), (4, 3)], 4)]  # both epochs in one call
    assert estimate_points_batch([a], {}, [], y) == []
    one = estimate_points([_Stub("a"), _Stub("b")], {"b": 4}, 1, acts(1.0), y)
    same = lambda ps: [(p.estimator, p.layer, p.I_XT_bits, p.n_samples) for p in ps]  # noqa: E731
    assert same(one) == same(p for p in points if p.epoch == 1)


def test_a_layer_whose_width_changed_is_estimated_apart_in_the_epochs_order():
    est = _Stub()
    recorded = [(1, {"g": torch.ones(3, 4)}), (2, {"g": torch.ones(3, 2)}),
                (3, {"g": 3 * torch.ones(3, 4)})]
    points = estimate_points_batch([est], {}, recorded, torch.arange(3))
    assert est.calls == [([(3, 4), (3, 4)], 3), ([(3, 2)], 3)]
    assert [(p.epoch, p.I_XT_bits) for p in points if p.estimator == "stub-a"] == [
        (1, 12.0), (2, 6.0), (3, 36.0)]
