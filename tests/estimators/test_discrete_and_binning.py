"""Hand-computed discrete cases (tight tolerances), binning against a slow reference."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from ibkit._errors import ConfigError
from ibkit.estimators import (
    BinningEstimator,
    DiscreteEstimator,
    discrete_mi_bits,
    entropy_bits,
    plugin_mi_stderr_bits,
)
from ibkit.estimators.tasks import sample_discrete


@pytest.mark.parametrize(("table", "bits"), [
    ([[0.5, 0.0], [0.0, 0.5]], 1.0),                      # copy of a fair bit
    ([[0.25, 0.25], [0.25, 0.25]], 0.0),                  # independent
    ([[0.45, 0.05], [0.05, 0.45]], 1 - (-(0.9 * math.log2(0.9) + 0.1 * math.log2(0.1)))),  # BSC 0.1
    (np.eye(4) / 4, 2.0),
])
def test_discrete_mi_by_hand(table, bits):
    assert discrete_mi_bits(np.array(table)) == pytest.approx(bits, abs=1e-12)


def test_plugin_on_samples_converges_to_the_table():
    table = np.array([[0.3, 0.1, 0.0], [0.05, 0.25, 0.3]])
    task = sample_discrete(table, 200_000, random_state=1)
    est = DiscreteEstimator().estimate(task.x, task.y).value_bits
    assert est == pytest.approx(task.mi_bits, abs=0.01)  # plug-in bias ~ 1e-5 bit here


def test_discrete_estimator_is_symmetric():
    t = sample_discrete(np.array([[0.3, 0.2], [0.1, 0.4]]), 5000)
    a = DiscreteEstimator().estimate(t.x, t.y).value_bits
    b = DiscreteEstimator().estimate(t.y, t.x).value_bits
    assert a == pytest.approx(b, abs=1e-12)


def _slow_binning_mi(t: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Readable reference of the original: left edges of linspace(-1, 1, 30), rows as tuples."""
    edges = np.linspace(-1, 1, 30)
    symbols = []
    for row in t:
        sym = []
        for v in row:
            i = 0
            while i + 1 < len(edges) and v >= edges[i + 1]:
                i += 1
            sym.append(i)
        symbols.append(tuple(sym))
    n = len(t)

    def h(items) -> float:
        counts = {}
        for s in items:
            counts[s] = counts.get(s, 0) + 1
        return -sum(c / n * math.log2(c / n) for c in counts.values())

    h_t = h(symbols)
    i_ty = h_t + h(list(labels)) - h(list(zip(symbols, labels, strict=True)))
    return h_t, i_ty


def test_fixed_binning_matches_the_slow_reference():
    rng = np.random.default_rng(0)
    t = np.tanh(rng.standard_normal((500, 4)) * 1.5)
    labels = rng.integers(0, 2, 500)
    slow_ixt, slow_ity = _slow_binning_mi(t, labels)
    est = BinningEstimator()
    assert est.estimate(t, np.arange(500)).value_bits == pytest.approx(slow_ixt, abs=1e-9)
    assert est.estimate(t, labels).value_bits == pytest.approx(slow_ity, abs=1e-9)


def test_deterministic_layer_over_unique_inputs_gives_h_t():
    rng = np.random.default_rng(1)
    t = np.round(rng.uniform(-1, 1, (400, 2)), 1)
    ids = np.arange(400)
    symbols = BinningEstimator().symbols(t)[0]
    h_t = entropy_bits(symbols[:, 0] * 1000 + symbols[:, 1])
    assert BinningEstimator().estimate(t, ids).value_bits == pytest.approx(h_t, abs=1e-12)


def test_values_at_and_beyond_the_edges():
    est = BinningEstimator(n_bins=3, value_range=(-1, 1), outside_warning=1.0)  # edges -1, 0, 1
    sym = est.symbols(np.array([[-5.0], [-1.0], [-0.5], [0.0], [0.99], [1.0], [7.0]]))[0]
    assert sym.ravel().tolist() == [0, 0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("n_bins,value_range", [(30, (-1.0, 1.0)), (7, (-0.3, 2.9)), (100, (0.0, 1.0))])
def test_bin_index_equals_searchsorted_at_edges_and_one_ulp_either_side(n_bins, value_range):
    est = BinningEstimator(n_bins=n_bins, value_range=value_range, outside_warning=1.0)
    edges = np.linspace(*value_range, n_bins)
    x = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf),
                        np.random.default_rng(0).uniform(-3, 3, 1000 + n_bins % 2)]).reshape(-1, 2)
    want = np.clip(np.searchsorted(edges, x, "right") - 1, 0, n_bins - 1)
    assert np.array_equal(est.symbols(x)[0], want)


def test_layer_information_matches_the_slow_reference_with_values_on_edges():
    rng = np.random.default_rng(3)
    edges = np.linspace(-1, 1, 30)
    t = rng.choice(np.concatenate([edges, np.tanh(rng.standard_normal(40))]), size=(600, 3))
    labels = rng.integers(0, 3, 600)
    slow_ixt, slow_ity = _slow_binning_mi(t, labels)
    info = BinningEstimator().layer_information(t, labels)
    assert info["I_XT_bits"] == pytest.approx(slow_ixt, abs=1e-9)
    assert info["I_TY_bits"] == pytest.approx(slow_ity, abs=1e-9)


def test_relu_range_problem_is_warned_about():
    rng = np.random.default_rng(0)
    relu = np.maximum(rng.standard_normal((200, 3)) * 3, 0)
    with pytest.warns(RuntimeWarning, match="outside value_range"):
        e = BinningEstimator().estimate(relu, np.arange(200))
    assert e.details["share_outside_range"] > 0.05 and e.details["warnings"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BinningEstimator(strategy="adaptive").estimate(relu, np.arange(200))


def test_width_strategy_is_floor_of_value_over_width():
    est = BinningEstimator(strategy="width", bin_width=0.5)
    assert est.symbols(np.array([[-0.6], [0.2], [1.9]]))[0].ravel().tolist() == [-2, 0, 3]


def test_adaptive_bins_are_equal_mass():
    x = np.random.default_rng(0).standard_normal((10_000, 1))
    sym = BinningEstimator(n_bins=4, strategy="adaptive").symbols(x)[0].ravel()
    assert np.bincount(sym).tolist() == [2500] * 4


def test_binning_is_non_negative_and_at_most_the_label_entropy():
    rng = np.random.default_rng(2)
    t = rng.uniform(-1, 1, (1000, 3))
    y = rng.integers(0, 3, 1000)
    v = BinningEstimator().estimate(t, y).value_bits
    assert 0 <= v <= entropy_bits(y) + 1e-12


def test_layer_information_equals_two_estimate_calls():
    rng = np.random.default_rng(3)
    t = np.tanh(rng.standard_normal((800, 5)))
    y = rng.integers(0, 2, 800)
    est = BinningEstimator()
    both = est.layer_information(t, y)
    assert both["I_XT_bits"] == pytest.approx(est.estimate(t, np.arange(800)).value_bits, abs=1e-12)
    assert both["I_TY_bits"] == pytest.approx(est.estimate(t, y).value_bits, abs=1e-12)


def test_observed_strategy_has_n_bins_edges_over_the_observed_range():
    """n_bins edges from min to max: values on the edges map to their own edge, the maximum
    to the last one (n_bins symbols), exactly as ``fixed`` with that range."""
    x = np.array([[0.0], [0.5], [1.0], [0.49], [0.51]])
    sym, notes = BinningEstimator(3, "observed").symbols(x)
    assert sym[:, 0].tolist() == [0, 1, 2, 0, 1]
    assert notes["observed_range"] == (0.0, 1.0)
    t = np.random.default_rng(0).uniform(-3, 5, size=(500, 4))
    t[0, 0], t[1, 1] = -3.0, 5.0  # the observed range is exactly (-3, 5)
    observed = BinningEstimator(30, "observed").symbols(t)[0]
    fixed = BinningEstimator(30, "fixed", value_range=(-3.0, 5.0)).symbols(t)[0]
    np.testing.assert_array_equal(observed, fixed)
    assert observed.max() == 29 and observed.min() == 0


def test_binning_stderr_is_the_binomial_delta_method_for_two_symbols():
    # A = B binary with P(1) = p: I = H_b(p), Var = p (1 - p) log2^2(p / (1 - p)) / n exactly
    n, ones = 1000, 300
    a = np.r_[np.zeros(n - ones, dtype=np.int64), np.ones(ones, dtype=np.int64)]
    p = ones / n
    want = np.sqrt(p * (1 - p) * np.log2(p / (1 - p)) ** 2 / n)
    assert plugin_mi_stderr_bits(a, a) == pytest.approx(want, rel=1e-12)
    # input ids as b: the entropy's standard error, the same number here
    assert plugin_mi_stderr_bits(a, np.arange(n)) == pytest.approx(want, rel=1e-12)
    est = BinningEstimator(strategy="width", bin_width=1.0).estimate(a.astype(float), a)
    assert est.stderr_bits == pytest.approx(want, rel=1e-12)
    lo, hi = est.details["ci95_bits"]
    assert lo == pytest.approx(est.value_bits - 1.96 * want) and hi == pytest.approx(
        est.value_bits + 1.96 * want)
    assert est.details["samples_per_symbol"] == 500
    assert BinningEstimator(stderr=False).estimate(a.astype(float), a).stderr_bits is None
    # independent symbols of equal frequencies: every r_ab = 0, so the standard error is 0
    assert plugin_mi_stderr_bits(np.tile([0, 1], 50), np.repeat([0, 1], 50)) == 0.0
    # fewer than two samples carry no spread: 0, not a division by zero
    assert plugin_mi_stderr_bits(np.array([3]), np.array([1])) == 0.0
    assert plugin_mi_stderr_bits(np.array([], dtype=int), np.array([], dtype=int)) == 0.0


def test_binning_95_percent_interval_covers_a_known_discrete_mi_at_least_90_percent():
    # T uniform on {0, 1, 2, 3}; Y = (T mod 2) flipped with probability 0.2: I = 1 - H_b(0.2)
    truth = 1 + 0.2 * np.log2(0.2) + 0.8 * np.log2(0.8)
    covered = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        t = rng.integers(0, 4, 2000)
        y = (t % 2) ^ (rng.random(2000) < 0.2)
        est = BinningEstimator(strategy="width", bin_width=1.0).estimate(t.astype(float), y)
        lo, hi = est.details["ci95_bits"]
        covered += lo <= truth <= hi
    assert covered >= 90, covered  # measured: 97 of 100 (94 at n = 1,000, 99 at n = 400)


def test_binning_plane_points_carry_the_stderr_of_h_t_and_i_ty():
    t = np.repeat(np.array([[-0.5], [0.5]]), 50, axis=0)
    labels = np.repeat([0, 1], 50)
    (point,) = BinningEstimator().plane_information(t, labels)
    assert point.I_XT_bits == 1.0 and point.I_TY_bits == 1.0
    # two equally likely symbols: every log-ratio is 1 bit, so the variance is 0
    assert point.I_XT_stderr_bits == 0.0 and point.I_TY_stderr_bits == 0.0
    with pytest.raises(ConfigError, match=r"'stderr' parameter of BinningEstimator must be True "
                                          r"or False\. Got 'yes'"):
        BinningEstimator(stderr="yes").estimate(t, labels)


def test_binning_plane_stderrs_equal_the_estimates_own():
    rng = np.random.default_rng(3)
    t = np.tanh(rng.normal(size=(300, 2)))
    labels = (t[:, 0] > 0).astype(int) ^ (rng.random(300) < 0.2)
    est = BinningEstimator(6)
    (point,) = est.plane_information(t, labels)
    assert point.I_TY_stderr_bits == pytest.approx(est.estimate(t, labels).stderr_bits, rel=1e-12)
    assert point.I_XT_stderr_bits == pytest.approx(
        est.estimate(t, np.arange(300)).stderr_bits, rel=1e-12)
    assert point.I_TY_stderr_bits != point.I_XT_stderr_bits


def test_fixed_binning_in_blocks_equals_binning_at_once(monkeypatch):
    """Blocks of rows (cache-sized for wide layers) give the same ids and values as one
    pass, with values on edges and outside the range, and warn once for the whole layer."""
    from ibkit.estimators import binning

    g = np.random.default_rng(0)
    t = np.concatenate([g.uniform(-1.2, 1.2, (50, 3)), np.linspace(-1, 1, 30)[:, None]
                        .repeat(3, 1)]).astype(np.float32)
    labels = g.integers(0, 3, len(t))
    est = BinningEstimator(30, outside_warning=0.01)
    with warnings.catch_warnings(record=True) as once:
        warnings.simplefilter("always")
        whole = est.layer_information(t, labels)
        ids = est._row_ids(t)
    monkeypatch.setattr(binning, "_BLOCK_VALUES", 7)  # blocks of 2 rows
    with warnings.catch_warnings(record=True) as blocked:
        warnings.simplefilter("always")
        assert np.array_equal(est._row_ids(t), ids)
        assert est.layer_information(t, labels) == whole
    assert len(blocked) == len(once) == 2  # one warning per call, not one per block
