"""The KDE bounds exactly: all four numbers of :func:`kde_bounds_nats` against a slow float64
reference written from Kolchinsky & Tracey's formulas, across blocks, few and many classes,
unsorted and uneven labels; the estimator's messages, kinds and plane rows (mutants of kde.py)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from ibkit._errors import ConfigError
from ibkit.estimators import KDEEstimator
from ibkit.estimators.kde import kde_bounds_nats, kde_mi_nats

LN2 = math.log(2.0)


def _entropy_nats(t: np.ndarray, s2: float, m: float) -> float:
    """-(1/N) sum_i ln((1/N) sum_j exp(-||t_i - t_j||^2 / (m s2))), less the shared constant."""
    d = ((t[:, None, :] - t[None, :, :]) ** 2).sum(-1)
    return float(-np.mean(np.log(np.mean(np.exp(-d / (m * s2)), 1))))


def _reference(t: np.ndarray, labels: np.ndarray, s2: float) -> dict[str, float]:
    out = {}
    for name, m in (("upper", 2.0), ("lower", 8.0)):
        h = _entropy_nats(t, s2, m)
        classes, counts = np.unique(labels, return_counts=True)
        h_given = sum(c / len(t) * _entropy_nats(t[labels == k], s2, m)
                      for k, c in zip(classes, counts, strict=True))
        out[f"I_XT_{name}"] = h
        out[f"I_TY_{name}"] = h - h_given
    return out


def _case(n: int, d: int, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)  # unsorted, uneven
    t = rng.normal(size=(n, d)) + labels[:, None] * 0.3
    return t, labels


@pytest.mark.parametrize(("n", "d", "n_classes", "s2"), [
    (40, 3, 3, 0.5),       # one block, few classes
    (600, 2, 5, 0.2),      # three blocks of 256 rows, classes cut by the blocks
    (530, 4, 40, 1.0),     # many classes: sums by index_add_
    (300, 2, 300, 0.3),    # input ids
    (257, 1, 2, 0.05),     # one row past the first block
])
def test_all_four_numbers_equal_the_slow_reference(n, d, n_classes, s2):
    t, labels = _case(n, d, n_classes, seed=n)
    if n_classes == n:
        labels = np.random.default_rng(1).permutation(n)
    got = kde_bounds_nats(torch.from_numpy(t), torch.from_numpy(labels), s2)
    want = _reference(t, labels, s2)
    assert set(got) == set(want)
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-9), key


def test_input_ids_make_i_ty_equal_i_xt_and_kde_mi_picks_the_bound():
    t, _ = _case(70, 2, 1, seed=3)
    ids = torch.arange(70)
    got = kde_bounds_nats(torch.from_numpy(t), ids, 0.4)
    for b in ("upper", "lower"):
        assert got[f"I_TY_{b}"] == pytest.approx(got[f"I_XT_{b}"], abs=1e-12)
        assert kde_mi_nats(torch.from_numpy(t), ids, 0.4, b) == got[f"I_TY_{b}"]
    assert got["I_XT_lower"] < got["I_XT_upper"]


def test_the_estimator_gives_bits_of_the_chosen_bound_in_float32():
    t, labels = _case(300, 3, 4, seed=5)
    want = _reference(t, labels, 0.3)
    for b in ("upper", "lower"):
        est = KDEEstimator(0.3, b).estimate(t, labels)
        assert est.value_bits == pytest.approx(want[f"I_TY_{b}"] / LN2, rel=1e-5)
        assert est.kind == "estimate" and est.method == f"kde-{b}" and est.stderr_bits is None
        assert est.details == {"noise_var": 0.3, "bound": b, "y_all_distinct": False}
        t32 = torch.from_numpy(t).float()  # computed in float32, as documented
        assert est.value_bits == kde_mi_nats(t32, torch.from_numpy(labels), 0.3, b) / LN2
        ids = KDEEstimator(0.3, b).estimate(t, np.arange(300))
        assert ids.kind == f"{b}_bound" and ids.details["y_all_distinct"] is True
        assert ids.value_bits == pytest.approx(want[f"I_XT_{b}"] / LN2, rel=1e-5)


def test_the_plane_rows_carry_both_bounds_in_bits():
    t, labels = _case(200, 2, 3, seed=7)
    want = _reference(t, labels, 0.1)
    rows = KDEEstimator(0.1).plane_information(t, labels)
    nats32 = kde_bounds_nats(torch.from_numpy(t).float(), torch.from_numpy(labels), 0.1)
    assert [r.I_XT_bits for r in rows] == [nats32['I_XT_upper'] / LN2, nats32['I_XT_lower'] / LN2]
    assert [r.estimator for r in rows] == ["kde-upper", "kde-lower"]
    for row, b in zip(rows, ("upper", "lower"), strict=True):
        assert row.I_XT_bits == pytest.approx(want[f"I_XT_{b}"] / LN2, rel=1e-5)
        assert row.I_TY_bits == pytest.approx(want[f"I_TY_{b}"] / LN2, rel=1e-5, abs=1e-6)
        assert (row.I_XT_kind, row.I_TY_kind) == (f"{b}_bound", "estimate")


@pytest.mark.parametrize(("kwargs", "param", "allowed", "got"), [
    ({"noise_var": 0.0}, "noise_var", "a finite float > 0", 0.0),
    ({"noise_var": -1.0}, "noise_var", "a finite float > 0", -1.0),
    ({"noise_var": math.inf}, "noise_var", "a finite float > 0", math.inf),
    ({"noise_var": "0.1"}, "noise_var", "a finite float > 0", "0.1"),
    ({"noise_var": 0.1, "bound": "both"}, "bound", "one of ('upper', 'lower')", "both"),
])
def test_bad_parameters_are_named(kwargs, param, allowed, got):
    message = f"The '{param}' parameter of KDEEstimator must be {allowed}. Got {got!r} instead."
    with pytest.raises(ConfigError, match=re.escape(message)):
        KDEEstimator(**kwargs).check_params()
    with pytest.raises(ConfigError, match=re.escape(message)):
        KDEEstimator(**kwargs).plane_information(np.zeros((4, 1)), np.arange(4))


def test_an_int_noise_variance_is_allowed_and_upper_is_the_default():
    KDEEstimator(noise_var=1).check_params()
    assert KDEEstimator(0.1).bound == "upper"
