"""TensorBoard logging of engine runs, read back from the event file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from ibkit.experiments import resolve_config, run  # noqa: E402
from ibkit.integrations import gate_counts  # noqa: E402


def _events(folder: Path) -> EventAccumulator:
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _scalars(acc: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_plane_run_logs_metrics_points_and_figures(tmp_path) -> None:
    out = tmp_path / "b"
    run(resolve_config("boolean-4bit", ["train.epochs=4", "plane.points=3", "log.tensorboard=true",
                                        "train.progress=false"]), out)
    acc = _events(out / "tensorboard")
    metrics = _rows(out / "metrics.csv")
    logged = _scalars(acc, "metrics/train_loss")
    assert [s for s, _ in logged] == [int(r["epoch"]) for r in metrics]
    assert [v for _, v in logged] == pytest.approx([float(r["train_loss"]) for r in metrics],
                                                   rel=1e-6)
    points = _rows(out / "plane.csv")
    assert points, "the preset tracks a plane"
    for p in points:
        base = f"plane/{p['layer']}/{p['estimator']}"
        for coord in ("I_XT_bits", "I_TY_bits"):
            logged = dict(_scalars(acc, f"{base}/{coord}"))
            assert logged[int(p["epoch"])] == pytest.approx(float(p[coord]), rel=1e-6)
    figures = {p.stem for p in (out / "figures").glob("*.png")}
    assert figures and {f"figures/{f}" for f in figures} <= set(acc.Tags()["images"])


def test_compression_run_logs_gate_counts(tmp_path) -> None:
    out = tmp_path / "c"
    run(resolve_config("vibnet-lenet300", [
        "data.name=digits", "train.epochs=2", "compress.finetune_epochs=1",
        "compress.gamma=0.5,1,1", "train.progress=false", "log.tensorboard=true"]), out)
    acc = _events(out / "tensorboard")
    tags = [t for t in acc.Tags()["scalars"] if t.startswith("gates/")]
    assert sorted(tags) == ["gates/act1_gate/units_kept", "gates/act2_gate/units_kept",
                            "gates/input_gate/units_kept"]
    units = {r["gate"]: r for r in _rows(out / "compression.csv")}
    for gate in units:  # epoch 0 has every unit (64 pixels of digits at the input)
        steps = dict(_scalars(acc, f"gates/{gate}/units_kept"))
        assert sorted(steps) == [0, 1, 2]
    assert dict(_scalars(acc, "gates/input_gate/units_kept"))[0] == 64


def test_gate_counts_of_a_model_without_gates_is_empty() -> None:
    from torch import nn

    assert gate_counts(nn.Linear(2, 2)) == {}


def test_resumed_run_drops_events_written_after_the_checkpoint(tmp_path) -> None:
    """A run killed after logging epoch 3 but before its checkpoint: the resumed run's
    epoch 3 replaces the stale value, one value per epoch remains."""
    from ibkit.callbacks import Callback
    from ibkit.data import load_digits
    from ibkit.engine import TrainConfig, Trainer, TrainingInterrupted
    from ibkit.integrations import TensorBoardCallback, summary_writer
    from ibkit.models import MLP

    data, cfg, tb = load_digits(), TrainConfig(epochs=4, batch_size=64, progress=False), \
        tmp_path / "tensorboard"

    class StopInEpoch3(Callback):
        def on_batch_end(self, trainer, batch, out):
            if len(trainer.history) == 2:
                trainer._stop_requested = True

    def fit(callbacks, resume=False):
        model = MLP(data.input_dim, (8,), data.n_classes)
        return Trainer(model, data, cfg, callbacks=[*callbacks, TensorBoardCallback(tb)],
                       run_dir=tmp_path).fit(resume=resume)

    with pytest.raises(TrainingInterrupted):
        fit([StopInEpoch3()])
    stale = summary_writer(tb)
    stale.add_scalar("metrics/val_acc", -1.0, 3)
    stale.close()
    history = fit([], resume=True)
    logged = _scalars(_events(tb), "metrics/val_acc")
    assert [s for s, _ in logged] == [1, 2, 3, 4]
    assert [v for _, v in logged] == pytest.approx([r["val_acc"] for r in history], rel=1e-6)
