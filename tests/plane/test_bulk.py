"""Record cheaply, estimate in bulk: batched planes give the same points as one epoch at a time,
and the vectorised binning equals a plain np.unique count."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ibkit.data import all_bit_patterns
from ibkit.estimators import BinningEstimator, KDEEstimator
from ibkit.estimators.binning import binned_plane_bits, entropy_bits, plugin_mi_bits
from ibkit.models import MLP
from ibkit.plane import InformationPlane, read_points
from ibkit.plane.estimation import estimate_points, estimate_points_batch


def _naive_bits(t: np.ndarray, labels: np.ndarray, n_bins: int = 30) -> tuple[float, ...]:
    """H(T), I(T;Y) and their delta-method standard errors by np.unique on searchsorted bins."""
    edges = np.linspace(-1.0, 1.0, n_bins)
    sym = np.clip(np.searchsorted(edges, t.astype(np.float64), side="right") - 1, 0, n_bins - 1)
    _, a, ca = np.unique(sym, axis=0, return_inverse=True, return_counts=True)
    a = a.ravel()
    n = len(a)
    p_a = ca / n
    h = float(-(p_a * np.log2(p_a)).sum())
    se_h = math.sqrt(max(0.0, float((p_a * np.log2(p_a) ** 2).sum()) - h * h) / n)
    pairs, c_ab = np.unique(np.stack([a, labels], 1), axis=0, return_counts=True)
    c_b = np.bincount(labels)
    r = np.log2(c_ab * n / (ca[pairs[:, 0]] * c_b[pairs[:, 1]]))
    i = float((c_ab / n) @ r)
    se_i = math.sqrt(max(0.0, float((c_ab / n) @ (r * r)) - i * i) / n)
    return h, i, se_h, se_i


def test_vectorised_counting_equals_the_plain_plugin_row_by_row() -> None:
    rng = np.random.default_rng(3)
    for trial in range(60):
        n, e = int(rng.integers(2, 200)), int(rng.integers(1, 5))
        ids = rng.integers(0, int(rng.integers(1, 30)), size=(e, n))
        if trial % 3 == 0:  # hashed-looking ids, large and negative
            ids = ids * int(rng.integers(1, 2**40)) - 7
        labels = rng.integers(0, int(rng.integers(1, 6)), size=n)
        out = binned_plane_bits(ids, labels)
        for row in range(e):
            assert out["I_XT_bits"][row] == pytest.approx(entropy_bits(ids[row]), abs=1e-12)
            assert out["I_TY_bits"][row] == pytest.approx(plugin_mi_bits(ids[row], labels),
                                                          abs=1e-12)


def test_distinct_labels_give_i_equal_to_h() -> None:
    ids = np.array([[0, 0, 1, 2], [5, 5, 5, 5]])
    out = binned_plane_bits(ids, np.arange(4))
    assert out["I_TY_bits"].tolist() == out["I_XT_bits"].tolist() == [1.5, 0.0]
    assert out["I_TY_stderr_bits"][1] == 0.0


@pytest.mark.parametrize("units", [3, 12])  # 12 units of 30 bins: too wide to pack, hashed
def test_binning_of_a_layer_equals_np_unique_with_its_standard_errors(units: int) -> None:
    rng = np.random.default_rng(units)
    t = np.tanh(rng.normal(size=(3000, units)) * 2).astype(np.float32)
    labels = rng.integers(0, 3, size=3000)
    info = BinningEstimator(30).layer_information(t, labels)
    naive = _naive_bits(t, labels)
    got = (info["I_XT_bits"], info["I_TY_bits"], info["I_XT_stderr_bits"],
           info["I_TY_stderr_bits"])
    assert got[:2] == pytest.approx(naive[:2], abs=1e-10)
    # a standard error near 0 is the square root of a difference of nearly equal sums
    assert got[2:] == pytest.approx(naive[2:], abs=1e-8)
    assert 0.5 < info["I_TY_bits"] < info["I_XT_bits"] > 10.0  # many cells: the test means something


def test_values_on_a_bin_edge_go_to_the_bin_on_their_right() -> None:
    edges = np.linspace(-1.0, 1.0, 30)
    t = np.stack([edges, np.nextafter(edges, -2.0)], 1)  # exactly on, and just below, each edge
    labels = np.arange(len(t)) % 2
    info = BinningEstimator(30).layer_information(t, labels)
    assert (info["I_XT_bits"], info["I_TY_bits"]) == pytest.approx(_naive_bits(t, labels)[:2],
                                                                   abs=1e-12)


def test_a_batch_of_recordings_equals_one_call_each() -> None:
    rng = np.random.default_rng(0)
    ts = [torch.tanh(torch.as_tensor(rng.normal(size=(256, 4)), dtype=torch.float32) * s)
          for s in (0.5, 2.0, 8.0)]
    labels = torch.as_tensor(rng.integers(0, 2, 256))
    for est in (BinningEstimator(30), BinningEstimator(10, strategy="observed"),
                BinningEstimator(8, strategy="adaptive"), KDEEstimator(noise_var=0.1)):
        batch = est.plane_information_batch(ts, labels)
        assert batch == [est.plane_information(t, labels) for t in ts]
    with pytest.raises(ValueError, match="ts"):
        BinningEstimator().plane_information_batch([ts[0], ts[0][:, :2]], labels)


def test_estimate_points_batch_equals_epoch_by_epoch_in_the_same_order() -> None:
    torch.manual_seed(0)
    x = all_bit_patterns(8).float()
    y = (x[:, 0] + x[:, 2] > 0.5).long()
    recorded = []
    for epoch in range(3):
        model = MLP(8, (6, 3), 2, "tanh")
        from ibkit.plane import record_activations
        recorded.append((epoch, record_activations(model, ["act1", "act2", "output"], x)))
    ests = [BinningEstimator(30), KDEEstimator(noise_var=0.1)]
    one_by_one = [p for e, a in recorded for p in estimate_points(ests, {"kde": 100}, e, a, y)]
    batch = estimate_points_batch(ests, {"kde": 100}, recorded, y)
    key = [(p.epoch, p.layer, p.estimator, p.I_XT_bits, p.I_TY_bits, p.I_XT_stderr_bits)
           for p in batch]
    assert key == [(p.epoch, p.layer, p.estimator, p.I_XT_bits, p.I_TY_bits, p.I_XT_stderr_bits)
                   for p in one_by_one]
    assert {p.n_samples for p in batch if p.estimator.startswith("kde")} == {100}


@pytest.mark.parametrize("background", ["thread", "process", "inline"])
def test_a_batched_plane_during_training_equals_the_inline_plane(background: str,
                                                                 tmp_path) -> None:
    from ibkit.data import Dataset, Split
    from ibkit.engine import TrainConfig, Trainer

    x = all_bit_patterns(8).float()
    y = ((x[:, 0] + x[:, 3] + x[:, 5]) >= 2).long()
    data = Dataset("8bit", Split(x[:200], y[:200]), None, Split(x[200:], y[200:]), 2)
    rows = {}
    for name, bg, batch in (("inline", "inline", 1), ("bulk", background, 5)):
        torch.manual_seed(0)
        model = MLP(8, (6, 4), 2, "tanh")
        plane = InformationPlane(model, x, y, [BinningEstimator(30)], ["act1", "act2", "output"],
                                 path=tmp_path / f"{name}.csv", background=bg, batch=batch)
        config = TrainConfig(epochs=12, batch_size=64, lr=1e-2, progress=False, threads=1)
        Trainer(model, data, config, callbacks=[plane]).fit()
        rows[name] = [(p.epoch, p.layer, p.I_XT_bits, p.I_TY_bits, p.I_XT_stderr_bits,
                       p.I_TY_stderr_bits) for p in read_points(tmp_path / f"{name}.csv")]
    assert len(rows["inline"]) == 13 * 3
    assert rows["bulk"] == rows["inline"]


def test_batch_must_be_a_positive_int() -> None:
    x = all_bit_patterns(4).float()
    model = MLP(4, (3,), 2, "tanh")
    with pytest.raises(ValueError, match="'batch'.*int >= 1.*0"):
        InformationPlane(model, x, x[:, 0].long(), [BinningEstimator()], background=False,
                         batch=0)


def test_waiting_epochs_reach_the_store_at_flush() -> None:
    x = all_bit_patterns(6).float()
    y = x[:, 0].long()
    model = MLP(6, (4,), 2, "tanh")
    with InformationPlane(model, x, y, [BinningEstimator()], ["act1"], background="thread",
                          batch=10) as plane:
        for epoch in range(3):
            plane.update(epoch)
        plane.flush()
        assert sorted(p.epoch for p in plane.points) == [0, 1, 2]
