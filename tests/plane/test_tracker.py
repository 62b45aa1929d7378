"""InformationPlane: hooks that cannot leak, three ways to use it with the same numbers,
plane.csv written as points are computed, resume, bad input."""

from __future__ import annotations

import copy
import csv

import pytest
import torch
from torch import nn

from ibkit._errors import ConfigError
from ibkit._io import load_checked
from ibkit.data import Dataset, Split
from ibkit.data.synthetic import all_bit_patterns
from ibkit.engine import Callback, TrainConfig, Trainer
from ibkit.estimators import BinningEstimator, KDEEstimator, KSGEstimator, MixedKNNEstimator
from ibkit.models import MLP
from ibkit.plane import (
    InformationPlane,
    capture,
    default_layers,
    epoch_schedule,
    executors,
    plane_from_checkpoints,
    read_points,
    record_activations,
)

ESTIMATORS = [BinningEstimator(30), KDEEstimator(noise_var=0.1)]


def _probe() -> tuple[torch.Tensor, torch.Tensor]:
    x = all_bit_patterns(8).float()
    y = ((x[:, 0] + x[:, 3] + x[:, 5]) >= 2).long()
    return x, y


def _values(points: list) -> list[tuple]:
    return sorted((p.epoch, p.layer, p.estimator, round(p.I_XT_bits, 6), round(p.I_TY_bits, 6))
                  for p in points)


def test_hooks_are_removed_when_the_block_raises() -> None:
    model = MLP(8, (6, 4), 2, "tanh")
    with pytest.raises(RuntimeError), capture(model, ["act1", "act2"]):
        assert model.act1._forward_hooks
        raise RuntimeError("boom")
    assert not any(m._forward_hooks for m in model.modules())


def test_hooks_are_removed_after_a_normal_exit() -> None:
    model = MLP(8, (6, 4), 2, "tanh")
    with capture(model, ["act1", "act2"]) as store:
        assert model.act1._forward_hooks and model.act2._forward_hooks
        model(torch.zeros(3, 8))
    assert [len(v) for v in store.values()] == [1, 1]
    assert not any(m._forward_hooks for m in model.modules())
    record_activations(model, ["act1", "output"], torch.zeros(3, 8))
    assert not any(m._forward_hooks for m in model.modules())


def test_hooks_are_removed_when_the_forward_pass_raises() -> None:
    class Broken(MLP):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            super().forward(x)
            raise ValueError("bad forward")

    model = Broken(8, (6, 4), 2, "tanh").train()
    with pytest.raises(ValueError, match="bad forward"):
        record_activations(model, ["act1", "output"], torch.zeros(3, 8))
    assert not any(m._forward_hooks for m in model.modules())
    assert model.training  # the training flag is restored


def test_record_activations_values_and_output_softmax() -> None:
    model = MLP(8, (6, 4), 3, "tanh")
    x = torch.randn(50, 8)
    acts = record_activations(model, ["act1", "output"], x, batch_size=7)
    assert torch.allclose(acts["act1"], torch.tanh(model.fc1(x)), atol=1e-6)
    assert torch.allclose(acts["output"], torch.softmax(model(x), 1), atol=1e-6)
    assert default_layers(model) == ["act1", "act2"]


def _train_own_loop(epochs: int = 4) -> tuple[nn.Module, dict[int, dict], list]:
    """A plain PyTorch loop (no ibkit engine), with update() each epoch and saved weights."""
    torch.manual_seed(3)
    x, y = _probe()
    model = nn.Sequential(nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 3), nn.Tanh(), nn.Linear(3, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    states = {0: copy.deepcopy(model.state_dict())}
    with InformationPlane(model, x, y, ESTIMATORS) as plane:
        plane.update(0)
        for epoch in range(1, epochs + 1):
            for idx in torch.randperm(len(y)).split(32):
                opt.zero_grad()
                nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()
            plane.update(epoch)
            states[epoch] = copy.deepcopy(model.state_dict())
        points = plane.compute()
    return model, states, points


def test_own_loop_and_checkpoints_give_the_same_plane(tmp_path) -> None:
    model, states, points = _train_own_loop()
    assert {p.layer for p in points} == {"1", "3"}  # default: the two Tanh modules
    assert {p.estimator for p in points} == {"binning", "kde-upper", "kde-lower"}
    files = {}
    for epoch, state in states.items():
        files[epoch] = tmp_path / f"epoch{epoch}.pt"
        torch.save(state, files[epoch])
    again = plane_from_checkpoints(model, files, *_probe(), ESTIMATORS)
    assert _values(again) == _values(points)
    # the plane moves during training: layer "1" at epoch 0 differs from the last epoch
    first = [p for p in points if p.epoch == 0 and p.estimator == "kde-upper"]
    last = [p for p in points if p.epoch == 4 and p.estimator == "kde-upper"]
    assert first[0].I_TY_bits != pytest.approx(last[0].I_TY_bits, abs=1e-3)


class _Snapshots(Callback):
    def __init__(self) -> None:
        self.states: dict[int, dict] = {}

    def on_train_start(self, trainer: Trainer) -> None:
        self.states[0] = copy.deepcopy(trainer.eval_model.state_dict())

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict) -> None:
        self.states[epoch] = copy.deepcopy(trainer.eval_model.state_dict())


def _dataset() -> Dataset:
    x, y = _probe()
    return Dataset("bits", Split(x[:200], y[:200]), None, Split(x[200:], y[200:]), 2)


def test_engine_callback_matches_checkpoints_and_writes_csv(tmp_path) -> None:
    torch.manual_seed(0)
    model = MLP(8, (6, 3), 2, "tanh")
    x, y = _probe()
    path = tmp_path / "plane.csv"
    plane = InformationPlane(model, x, y, ESTIMATORS, layers=["act1", "act2", "output"],
                             epochs=[0, 1, 3, 5], path=path)
    snaps = _Snapshots()
    Trainer(model, _dataset(), TrainConfig(epochs=5, batch_size=32, progress=False, ema_decay=0.9),
            callbacks=[plane, snaps]).fit()
    points = plane.compute()
    assert sorted({p.epoch for p in points}) == [0, 1, 3, 5]
    assert _values(read_points(path)) == _values(points)
    with open(path) as f:
        header = next(csv.reader(f))
    assert header[:6] == ["epoch", "layer", "estimator", "I_XT_bits", "I_TY_bits", "kind"]
    wanted = {e: snaps.states[e] for e in (0, 1, 3, 5)}
    again = plane_from_checkpoints(copy.deepcopy(model), wanted, x, y, ESTIMATORS,
                                   layers=["act1", "act2", "output"])
    assert _values(again) == _values(points)  # the EMA weights are the ones measured


def _scale_(model: nn.Module, factor: float) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(factor)


def test_background_and_inline_estimation_agree() -> None:
    """The workers hold their own copy of the model: each epoch must see that epoch's
    weights (they change between updates here) and the model passed to ``update``."""
    x, y = _probe()
    out = []
    for background in ("thread", "inline", "process"):
        torch.manual_seed(0)
        model, other = MLP(8, (6, 3), 2, "tanh"), MLP(8, (6, 3), 2, "tanh")
        with InformationPlane(model, x, y, ESTIMATORS, background=background) as plane:
            plane.update(0)
            _scale_(model, 3.0)
            plane.update(1)
            plane.update(2, other)
            _scale_(model, 0.1)
            plane.update(3)
            out.append(_values(plane.compute()))
    assert out[0] == out[1] == out[2]
    by_epoch = [[v[3:] for v in out[0] if v[0] == e] for e in range(4)]
    assert len({tuple(b) for b in by_epoch}) == 4  # every epoch's weights differ


class _Scaled(nn.Module):
    """tanh(fc(x) * scale) with ``scale`` a non-persistent buffer (not in the state_dict)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.act = nn.Tanh()
        self.register_buffer("scale", torch.tensor(1.0), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc(x) * self.scale)


def test_workers_follow_buffers_and_changes_of_structure() -> None:
    x, y = _probe()
    out = []
    for background in ("inline", "thread", "process"):
        torch.manual_seed(0)
        model = _Scaled()
        with InformationPlane(model, x, y, [BinningEstimator(30)], ["act"],
                              background=background) as plane:
            plane.update(0)
            model.scale.fill_(4.0)  # a non-persistent buffer changes
            plane.update(1)
            model.fc = nn.Linear(8, 6)  # the structure changes: the workers copy it again
            plane.update(2)
            out.append(_values(plane.compute()))
    assert out[0] == out[1] == out[2]
    assert len({v[3:] for v in out[0]}) == 3


def test_workers_fall_back_for_models_they_cannot_copy() -> None:
    """A model whose class is local to a function cannot be pickled for a worker process:
    its activations are recorded on the training thread and sent instead, same numbers."""

    class Local(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.act = nn.Tanh()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.act(self.fc(x))

    x, y = _probe()
    torch.manual_seed(0)
    model = Local()
    out = []
    for background in ("inline", "process"):
        with InformationPlane(model, x, y, [BinningEstimator(30)], background=background) as plane:
            plane.update(0)
            out.append(_values(plane.compute()))
    assert out[0] == out[1] and len(out[0]) == 1


class _Crash(Callback):
    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict) -> None:
        if epoch == 7:
            raise RuntimeError("crash")


def _fit(tmp_path, run, callbacks_extra=(), resume=False) -> list:
    torch.manual_seed(0)
    model = MLP(8, (6, 3), 2, "tanh")
    x, y = _probe()
    plane = InformationPlane(model, x, y, ESTIMATORS, epochs=range(0, 10),
                             path=tmp_path / run / "plane.csv")
    trainer = Trainer(model, _dataset(), TrainConfig(epochs=9, batch_size=32, progress=False,
                                                     checkpoint_every=3),
                      callbacks=[plane, *callbacks_extra], run_dir=tmp_path / run)
    try:
        trainer.fit(resume=resume)
    finally:
        plane.close()
    return read_points(tmp_path / run / "plane.csv")


def test_crash_then_resume_gives_the_uninterrupted_plane(tmp_path) -> None:
    whole = _fit(tmp_path, "a")
    with pytest.raises(RuntimeError, match="crash"):
        _fit(tmp_path, "b", [_Crash()])
    partial = read_points(tmp_path / "b" / "plane.csv")
    assert max(p.epoch for p in partial) == 7  # nothing computed was lost
    resumed = _fit(tmp_path, "b", resume=True)  # the checkpoint is at epoch 6
    assert _values(resumed) == _values(whole)


def test_bad_input_is_refused_with_clear_messages() -> None:
    model = MLP(8, (6, 3), 2, "tanh")
    x, y = _probe()
    with pytest.raises(ConfigError, match="'layers'.*fc9"):
        InformationPlane(model, x, y, ESTIMATORS, layers=["fc9"])
    with pytest.raises(ConfigError, match="'estimators'"):
        InformationPlane(model, x, y, [KSGEstimator()])
    with pytest.raises(ValueError, match="'y'.*integer"):
        InformationPlane(model, x, y.float(), ESTIMATORS)
    with pytest.raises(ValueError, match="'noise_var'"):
        InformationPlane(model, x, y, [KDEEstimator(noise_var=-1.0)])
    with pytest.raises(ValueError, match="'epoch'"):
        InformationPlane(model, x, y, ESTIMATORS).update(-1)


def test_other_estimators_plug_in() -> None:
    model = MLP(8, (6, 3), 2, "tanh")
    x, y = _probe()
    with InformationPlane(model, x, y, [MixedKNNEstimator()], layers=["act2"]) as plane:
        plane.update(0)
        (point,) = plane.compute()
    acts = record_activations(model, ["act2"], x)["act2"]
    assert point.estimator == "knn-mixed"
    assert point.I_TY_bits == MixedKNNEstimator().estimate(acts, y).value_bits


def test_plane_points_equal_the_estimators_own_values_in_bits() -> None:
    """Every plane value is the estimator's own ``value_bits`` on the same activations:
    I(T;Y) with the labels, I(X;T) with the inputs' ids as y."""
    torch.manual_seed(0)
    model = MLP(8, (6, 3), 2, "tanh")
    x, y = _probe()
    ests = [BinningEstimator(30), KDEEstimator(noise_var=0.1)]
    with InformationPlane(model, x, y, ests, layers=["act1", "act2", "output"],
                          background=False) as plane:
        plane.update(0)
        points = plane.compute()
    acts = record_activations(model, ["act1", "act2", "output"], x)
    ids = torch.arange(len(y))
    for p in points:
        name, bound = (p.estimator.split("-") + ["upper"])[:2]
        est = BinningEstimator(30) if name == "binning" else KDEEstimator(0.1, bound)
        t = acts[p.layer]
        assert p.I_TY_bits == pytest.approx(est.estimate(t, y).value_bits, rel=1e-4, abs=1e-4)
        assert p.I_XT_bits == pytest.approx(est.estimate(t, ids).value_bits, rel=1e-4, abs=1e-4)
    assert len(points) == 3 * 3 and {p.estimator for p in points} == {"binning", "kde-upper",
                                                                      "kde-lower"}


def test_epoch_schedule() -> None:
    s = epoch_schedule(8000, 274)
    assert len(s) == 274 and s[0] == 0 and s[-1] == 8000 and s == sorted(set(s))
    assert epoch_schedule(5) == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="'n_points'"):
        epoch_schedule(10, 1)


class _Round(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.round(2 * x)


def test_every_estimator_that_takes_labels_works_in_the_plane_discrete_included() -> None:
    """The plane calls only ``plane_information``; the discrete estimator on a layer of integer
    values gives the binning numbers of the same symbols (I(X;T) = H(T))."""
    from ibkit.estimators import DiscreteEstimator, VariationalBounds
    from ibkit.models import VIBClassifier

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 3), nn.Tanh(), _Round(), nn.Linear(3, 2))
    x, y = _probe()
    ests = [DiscreteEstimator(), BinningEstimator(5, "width", bin_width=1.0)]
    with InformationPlane(model, x, y, ests, layers=["2"], background=False) as plane:
        plane.update(0)
        binned, discrete = sorted(plane.compute(), key=lambda p: p.estimator)
    assert discrete.estimator == "discrete" and binned.estimator == "binning"
    assert discrete.I_XT_bits == pytest.approx(binned.I_XT_bits, abs=1e-12)
    assert discrete.I_XT_bits > 0.5
    assert discrete.I_TY_bits == pytest.approx(binned.I_TY_bits, abs=1e-12)
    with pytest.raises(ConfigError, match="layer's values"):
        InformationPlane(model, x, y, [VariationalBounds(VIBClassifier(8, (4,), 2, 2))])
    with pytest.raises(ConfigError, match="integer labels"):
        InformationPlane(model, x, y, [KSGEstimator()])


def test_follow_replays_the_stored_points_once_then_forwards_each_new_batch():
    x, y = _probe()
    torch.manual_seed(0)
    model = MLP(8, (6, 3), 2, "tanh")
    seen: list[list] = []
    earlier: list[list] = []
    with InformationPlane(model, x, y, [BinningEstimator(30)], background="thread") as plane:
        plane.on_points = earlier.append
        plane.update(0)
        plane.flush()  # epoch 0 stored before anyone follows (a callback that starts later)
        plane.follow(seen.append, replay=True)
        plane.update(1)
        plane.flush()
    epochs = [sorted({p.epoch for p in batch}) for batch in seen]
    assert epochs == [[0], [1]]  # the replay, then the new batch: nothing missed or twice
    assert [sorted({p.epoch for p in b}) for b in earlier] == [[0], [1]]  # still called
    assert sum(len(b) for b in seen) == len(plane.points)


def test_standard_errors_travel_from_the_estimator_to_the_csv_the_figure_and_the_page(tmp_path):
    from ibkit.plane import read_points
    from ibkit.report import plane_svg, plot_plane

    x, y = _probe()
    torch.manual_seed(0)
    model = MLP(8, (6, 3), 2, "tanh")
    with InformationPlane(model, x, y, [MixedKNNEstimator(k=3), BinningEstimator(30)],
                          path=tmp_path / "plane.csv", background="inline") as plane:
        plane.update(0)
        points = plane.compute()
    knn = [p for p in points if p.estimator == "knn-mixed"]
    assert knn and all(p.I_TY_stderr_bits is not None and p.I_TY_stderr_bits > 0 for p in knn)
    assert all(p.I_XT_stderr_bits is None for p in knn)
    binned = [p for p in points if p.estimator == "binning"]
    assert binned and all(p.I_XT_stderr_bits is not None and p.I_TY_stderr_bits is not None
                          for p in binned)
    def key(p):
        return (p.epoch, p.layer, p.estimator)

    back = {key(p): p for p in read_points(tmp_path / "plane.csv")}
    for p in points:  # the CSV round trip keeps them
        assert (back[key(p)].I_TY_stderr_bits, back[key(p)].I_XT_stderr_bits) == (
            p.I_TY_stderr_bits, p.I_XT_stderr_bits)
    ax = plot_plane(points, "knn-mixed")
    assert len(ax.collections) > len({p.layer for p in knn})  # error bars beside the scatters
    with open(tmp_path / "plane.csv") as f:
        rows = list(csv.DictReader(f))
    assert "&plusmn;" in plane_svg(rows, "knn-mixed")
    assert "&plusmn;" in plane_svg(rows, "binning")
    for row in rows:  # no standard error, no interval drawn
        row["I_XT_stderr_bits"] = row["I_TY_stderr_bits"] = ""
    assert "&plusmn;" not in plane_svg(rows, "binning")


class _Killed(Exception):
    pass


class _Kill(Callback):
    """A hard stop after epoch 7: the plane is not closed, so what it has not stored is lost
    unless the checkpoint holds it."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, row: dict) -> None:
        if epoch == 7:
            raise _Killed


@pytest.mark.parametrize("background", ["thread", "process"])
def test_a_checkpoint_does_not_wait_for_estimation_and_loses_no_point(tmp_path, monkeypatch,
                                                                      background) -> None:
    """With a batch larger than the run, no epoch is estimated before the end: the
    checkpoints at epochs 3 and 6 hold every epoch so far as pending weights, and a run
    killed at epoch 7 (plane never closed) resumes to the uninterrupted plane."""
    monkeypatch.setattr(executors, "MAX_DELAY_S", 1e9)  # nothing dispatched before the end

    def fit(run, extra=(), resume=False):
        torch.manual_seed(0)
        model = MLP(8, (6, 3), 2, "tanh")
        x, y = _probe()
        plane = InformationPlane(model, x, y, ESTIMATORS, epochs=range(0, 10), batch=1000,
                                 path=tmp_path / run / "plane.csv", background=background)
        trainer = Trainer(model, _dataset(), TrainConfig(epochs=9, batch_size=32, progress=False,
                                                         checkpoint_every=3),
                          callbacks=[plane, *extra], run_dir=tmp_path / run)
        try:
            trainer.fit(resume=resume)
        except _Killed:
            return plane, None
        plane.close()
        return plane, read_points(tmp_path / run / "plane.csv")

    _, whole = fit("a")
    plane, _ = fit("b", [_Kill()])
    state = load_checked(tmp_path / "b" / "checkpoints" / "last.pt")["callbacks"]
    pending = state[plane.state_key]["pending"]
    assert [p["epoch"] for p in pending] == list(range(0, 7))  # nothing was waited for
    assert set(pending[0]["weights"]) == set(plane.model.state_dict())
    assert read_points(tmp_path / "b" / "plane.csv") == []  # the kill lost the queue...
    plane._executor.shutdown()
    _, resumed = fit("b", resume=True)  # ... and the checkpoint at epoch 6 brought it back
    assert _values(resumed) == _values(whole)
