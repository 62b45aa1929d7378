"""Gradient statistics, the optimal IB curve, and the plane analyses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ibkit.callbacks import Callback
from ibkit.data import Dataset, Split
from ibkit.data.synthetic import twelve_bit_task
from ibkit.engine import TrainConfig, Trainer
from ibkit.estimators import BinningEstimator
from ibkit.plane import (
    GradientStats,
    bsc_curve_bits,
    compression_bound,
    homogeneity,
    ib_curve,
    joint_from_labels,
    partition_cells,
    peak_epochs,
)
from ibkit.plane.estimation import PlanePoint


def test_gradient_stats_match_a_hand_computation(tmp_path) -> None:
    torch.manual_seed(0)
    x, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    data = Dataset("toy", Split(x, y), None, None, 2)
    model = nn.Sequential(nn.Linear(3, 2))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    stats = GradientStats(tmp_path / "dynamics.csv")
    config = TrainConfig(epochs=1, batch_size=10, optimizer="sgd", lr=0.1, progress=False)
    trainer = Trainer(model, data, config, callbacks=[stats])
    batches = trainer._batches(0)
    trainer.fit()
    # replay the same four SGD steps by hand, keeping every gradient of the weight
    ref = nn.Sequential(nn.Linear(3, 2))
    ref.load_state_dict(start)
    opt, grads = torch.optim.SGD(ref.parameters(), lr=0.1), []
    for idx in batches:
        opt.zero_grad()
        nn.functional.cross_entropy(ref(x[idx]), y[idx]).backward()
        grads.append(ref[0].weight.grad.clone())
        opt.step()
    g = torch.stack(grads)
    (row,) = stats.rows
    assert row["layer"] == "0" and row["batches"] == 4
    assert row["grad_mean_norm"] == pytest.approx(float(g.mean(0).norm()), rel=1e-5)
    assert row["grad_std_norm"] == pytest.approx(float(g.std(0, unbiased=False).norm()), rel=1e-4)
    assert row["snr"] == pytest.approx(row["grad_mean_norm"] / row["grad_std_norm"])
    assert row["weight_norm"] == pytest.approx(float(ref[0].weight.detach().norm()), rel=1e-5)
    assert (tmp_path / "dynamics.csv").read_text().startswith("epoch,layer,grad_mean_norm")


class _StopAt(Callback):
    """Ask the trainer to stop (as Ctrl-C does) after batch 1 of epoch ``epoch``."""

    def __init__(self, epoch: int = 2) -> None:
        self.epoch = epoch

    def on_batch_end(self, trainer, batch, out):
        if batch == 1 and len(trainer.history) == self.epoch - 1:
            trainer._stop_requested = True


class _WithUnusedLayer(nn.Module):
    """3 -> 4 -> 2 with tanh, and a layer that forward never uses (its weight gets no .grad)."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.unused, self.out = nn.Linear(3, 4), nn.Linear(4, 4), nn.Linear(4, 2)

    def forward(self, x):
        return self.out(torch.tanh(self.first(x)))


def _stats_run(tmp_path, name, stop=0, resume=False, path=True):
    from ibkit.engine import TrainingInterrupted

    torch.manual_seed(0)
    x, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    data = Dataset("toy", Split(x, y), None, None, 2)
    model = _WithUnusedLayer()
    stats = GradientStats(tmp_path / name / "dynamics.csv" if path else None)
    config = TrainConfig(epochs=3, batch_size=10, optimizer="sgd", lr=0.1, progress=False)
    callbacks = [stats, _StopAt(stop)] if stop else [stats]
    trainer = Trainer(model, data, config, callbacks=callbacks, run_dir=tmp_path / name)
    try:
        trainer.fit(resume=resume)
    except TrainingInterrupted:
        pass
    return stats


def test_gradient_stats_resume_mid_epoch_to_the_same_rows(tmp_path) -> None:
    full = _stats_run(tmp_path, "full")
    for epoch in (1, 2):  # stopped before any row was written, and after one epoch's rows
        _stats_run(tmp_path, f"cut{epoch}", stop=epoch)
        resumed = _stats_run(tmp_path, f"cut{epoch}", resume=True)
        assert resumed.rows == full.rows  # the stopped epoch's partial sums were restored
    assert [r["epoch"] for r in full.rows] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    frozen = [r for r in full.rows if r["layer"] == "unused"]
    assert len(frozen) == 3
    assert all(r["grad_mean_norm"] == 0.0 and r["grad_std_norm"] == 0.0 for r in frozen)
    assert all(r["batches"] == 4 for r in full.rows)
    assert (tmp_path / "cut2" / "dynamics.csv").read_text() == \
        (tmp_path / "full" / "dynamics.csv").read_text()
    state = resumed.state_dict()
    assert state["last_epoch"] == 3 and state["batches"] == 0


def test_gradient_stats_without_a_file_keep_rows_in_memory(tmp_path) -> None:
    stats = _stats_run(tmp_path, "mem", path=False)
    assert len(stats.rows) == 9 and stats.path is None
    assert not (tmp_path / "mem" / "dynamics.csv").exists()


@pytest.mark.parametrize("flip", [0.05, 0.2])
def test_ib_curve_of_a_binary_symmetric_channel_is_exact(flip: float) -> None:
    p = np.array([[1 - flip, flip], [flip, 1 - flip]]) / 2
    curve = ib_curve(p, betas=np.logspace(-1, 2, 40))
    exact = bsc_curve_bits(curve.I_XT_bits, flip)
    assert np.abs(curve.I_TY_bits - exact).max() < 2e-3
    assert curve.I_XT_bits[0] == pytest.approx(0.0, abs=1e-6)  # beta -> 0: T forgets X
    assert curve.I_TY_bits[-1] == pytest.approx(curve.I_XY_bits, abs=1e-4)  # beta -> inf
    assert curve.I_XY_bits == pytest.approx(float(bsc_curve_bits(np.array([1.0]), flip)[0]))
    assert np.all(np.diff(curve.I_XT_bits) >= -1e-6)  # annealing: information only grows


def test_ib_curve_lies_under_its_ceiling_on_a_random_joint() -> None:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(12), size=20)  # p(y|x) for 20 inputs, 12 labels
    curve = ib_curve(p / 20, betas=np.logspace(-1, 3, 30))
    ceiling = np.minimum(curve.I_XT_bits, curve.I_XY_bits)
    assert np.all(curve.I_TY_bits <= ceiling + 1e-6)
    assert curve.I_TY_bits[-1] > 0.95 * curve.I_XY_bits


def test_ib_curve_of_the_12_bit_task_reaches_h_y() -> None:
    x, y, _ = twelve_bit_task(download=False)
    curve = ib_curve(joint_from_labels(x, y))
    h_y = -sum(q * np.log2(q) for q in (y.float().mean().item(), 1 - y.float().mean().item()))
    assert curve.I_XY_bits == pytest.approx(h_y, abs=1e-9)  # labels are a function of x


def test_ib_curve_counts_its_iterations_and_stops_at_max_iter() -> None:
    p = np.array([[0.45, 0.05], [0.05, 0.45]])
    capped = ib_curve(p, betas=np.array([1.0, 10.0]), tol=0.0, max_iter=5)  # never converges
    assert capped.iterations.tolist() == [5, 5]
    free = ib_curve(p, betas=np.array([1.0, 10.0]))
    assert np.all((free.iterations >= 1) & (free.iterations < 2000))


def test_ib_curve_of_one_input_or_one_label_is_zero_and_counts_work_as_probabilities() -> None:
    for joint in (np.array([[0.3, 0.7]]), np.array([[0.4], [0.6]])):
        curve = ib_curve(joint, betas=np.array([1.0, 10.0]))
        np.testing.assert_allclose(curve.I_TY_bits, 0.0, atol=1e-9)
        assert curve.I_XY_bits == pytest.approx(0.0, abs=1e-12)
    counts = ib_curve(np.array([[9, 1], [1, 9]]), betas=np.array([0.5, 50.0]))
    probs = ib_curve(np.array([[0.45, 0.05], [0.05, 0.45]]), betas=np.array([0.5, 50.0]))
    np.testing.assert_allclose(counts.I_TY_bits, probs.I_TY_bits, atol=1e-12)


def test_a_split_step_keeps_each_row_a_distribution_and_halves_a_cluster() -> None:
    from ibkit.plane.optimal import _split_clusters

    q = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    p_x = torch.full((3,), 1 / 3, dtype=torch.float64)
    p_y_x = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9]], dtype=torch.float64)
    out = _split_clusters(q.clone(), p_x, p_y_x, 1e-2, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out.sum(1), torch.ones(3, dtype=torch.float64))
    # cluster 0 (two inputs) gave about half of each input to the empty column 2
    assert torch.all((out[:2, 2] > 0.49) & (out[:2, 2] < 0.51))
    assert torch.all((out[:2, 0] > 0.49) & (out[:2, 0] < 0.51))
    # cluster 1 holds one input and cannot split: it keeps (nearly) all of it
    assert out[2, 1] > 0.98 and out[2, 2] == 0.0


def test_joint_from_labels_keeps_classes_that_no_sample_has() -> None:
    joint = joint_from_labels(torch.tensor([[0.0], [1.0], [1.0]]), torch.tensor([0, 1, 1]),
                              n_classes=3)
    np.testing.assert_allclose(joint, [[1 / 3, 0, 0], [0, 2 / 3, 0]])


def test_bsc_curve_at_its_ends_and_in_between() -> None:
    # flip = 1 makes Y = not X: I(T;Y) = I(X;T), and h(1) = 0 (not NaN from 0 * log 0)
    np.testing.assert_allclose(bsc_curve_bits(np.array([1.0, 0.0]), 1.0), [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(bsc_curve_bits(np.array([1.0, 0.0]), 0.0), [1.0, 0.0], atol=1e-12)
    # delta = 0.11 has h = 0.49992 bits; with flip 0.1, delta * flip = 0.178, h = 0.67628
    h = lambda q: -(q * np.log2(q) + (1 - q) * np.log2(1 - q))  # noqa: E731
    i_xt = 1 - h(0.11)
    expected = 1 - h(0.11 * 0.9 + 0.1 * 0.89)
    assert bsc_curve_bits(np.array([i_xt]), 0.1)[0] == pytest.approx(expected, abs=1e-12)
    assert np.isnan(bsc_curve_bits(np.array([np.nan]), 0.1)[0])


def test_ib_curve_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="'p_xy'"):
        ib_curve(np.array([[-0.1, 1.1]]))
    with pytest.raises(ValueError, match="'betas'"):
        ib_curve(np.eye(2) / 2, betas=np.array([3.0, 1.0]))


def test_peaks_partitions_and_bound() -> None:
    pts = [PlanePoint(e, "act1", "binning", v, 0.5, "estimate", "estimate", 10, 0.0)
           for e, v in [(0, 2.0), (5, 4.0), (9, 3.0)]]
    peak = peak_epochs(pts)["binning"]["act1"]
    assert peak["peak_epoch"] == 5 and peak["compression_bits"] == pytest.approx(1.0)
    t = np.array([[-0.9], [-0.9], [0.9], [0.9], [0.9]])
    cells = partition_cells(t, np.array([0, 0, 1, 1, 0]), BinningEstimator(), 2)
    assert [c["size"] for c in cells] == [3, 2]
    assert homogeneity(cells) == pytest.approx((3 * 2 / 3 + 2 * 1.0) / 5)
    # one bit less of I(X;T) is worth doubling m
    assert compression_bound(5.0, 100, 0.5) > compression_bound(4.0, 100, 0.5)
    assert compression_bound(0.0, 1, 0.5) == pytest.approx(np.sqrt((1 + np.log(2)) / 2))
    with pytest.raises(ValueError, match="'delta'"):
        compression_bound(1.0, 10, 1.5)
