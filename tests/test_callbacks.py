"""Callbacks checkpoint under their own state_key: two of a kind in one run resume apart."""

from __future__ import annotations

import pytest

from ibkit._errors import ConfigError
from ibkit.callbacks import Callback
from ibkit.data import load_digits
from ibkit.engine import TrainConfig, Trainer, TrainingInterrupted, load_checkpoint, seed_everything
from ibkit.estimators import BinningEstimator
from ibkit.models import MLP
from ibkit.plane import GradientStats, InformationPlane, read_points


def _run(tmp, cfg, resume=False, stop_at=None):
    data = load_digits()
    seed_everything(0)
    model = MLP(data.input_dim, (12, 6), data.n_classes, "tanh")
    probe = data.train.x[:300], data.train.y[:300]
    planes = [InformationPlane(model, *probe, [BinningEstimator(30)], layers=[layer],
                               path=tmp / f"plane_{layer}.csv", background=False)
              for layer in ("act1", "act2")]

    class Stop(Callback):
        def on_batch_end(self, trainer, batch, out):
            if stop_at is not None and len(trainer.history) == stop_at and batch == 3:
                trainer._stop_requested = True

    callbacks = [*planes, GradientStats(tmp / "dyn_a.csv"), GradientStats(tmp / "dyn_b.csv"),
                 Stop()]
    trainer = Trainer(model, data, cfg, callbacks=callbacks, run_dir=tmp)
    return trainer, trainer.fit(resume=resume)


def _plane(path):
    return [(p.epoch, p.layer, p.I_XT_bits, p.I_TY_bits) for p in read_points(path)]


def test_two_planes_in_one_run_are_killed_and_resume_each_to_its_own_values(tmp_path):
    cfg = TrainConfig(epochs=4, batch_size=64, progress=False)
    full_dir, part_dir = tmp_path / "full", tmp_path / "part"
    _, full = _run(full_dir, cfg)
    with pytest.raises(TrainingInterrupted):
        _run(part_dir, cfg, stop_at=2)
    trainer, resumed = _run(part_dir, cfg, resume=True)
    assert resumed == full
    for name in ("plane_act1.csv", "plane_act2.csv"):
        assert _plane(part_dir / name) == _plane(full_dir / name)
        assert {p.layer for p in read_points(part_dir / name)} == {name[6:10]}
    assert (part_dir / "dyn_a.csv").read_text() == (full_dir / "dyn_b.csv").read_text()
    state = load_checkpoint(part_dir / "checkpoints" / "last.pt")["callbacks"]
    assert {"InformationPlane[plane_act1.csv]", "InformationPlane[plane_act2.csv]",
            "GradientStats[dyn_a.csv]", "GradientStats[dyn_b.csv]"} <= set(state)


def test_two_callbacks_with_one_state_key_are_refused():
    data = load_digits()
    with pytest.raises(ConfigError, match=r"same state_key \['GradientStats\[d.csv\]'\]"):
        Trainer(MLP(data.input_dim, (4,), 10), data, TrainConfig(),
                callbacks=[GradientStats("d.csv"), GradientStats("d.csv")])
