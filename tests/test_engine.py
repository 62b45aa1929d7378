"""The training loop: seeds, EMA, schedules, full batch, checkpoints and resume."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from ibkit._errors import ConfigError
from ibkit.data import Dataset, Split, load_digits
from ibkit.engine import Callback, TrainConfig, Trainer, TrainingInterrupted, seed_everything
from ibkit.models import MLP, VIBClassifier
from ibkit.objectives import VIBObjective


def _tiny(n: int = 64) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 5, generator=g)
    y = (x[:, 0] > 0).long()
    return Dataset("tiny", Split(x, y), Split(x[:16], y[:16]), None, 2)


def _fit(cfg: TrainConfig, data: Dataset | None = None, run_dir=None, resume=False,
         hidden=(8,), **kw):
    data = data or _tiny()
    seed_everything(cfg.seed)
    model = MLP(data.input_dim, hidden, data.n_classes)
    trainer = Trainer(model, data, cfg, run_dir=run_dir, **kw)
    return trainer, trainer.fit(resume=resume)


def test_same_seed_same_numbers_other_seed_other_numbers():
    cfg = TrainConfig(epochs=3, batch_size=8, progress=False)
    _, a = _fit(cfg)
    _, b = _fit(cfg)
    _, c = _fit(TrainConfig(epochs=3, batch_size=8, progress=False, seed=1))
    assert a == b
    assert a[-1]["train_loss"] != c[-1]["train_loss"]


def test_lr_decays_by_factor_every_k_epochs():
    cfg = TrainConfig(epochs=5, lr=1.0, lr_decay=0.97, lr_decay_every=2, progress=False)
    _, rows = _fit(cfg)
    assert [r["lr"] for r in rows] == pytest.approx([1, 1, 0.97, 0.97, 0.97**2])


def test_cosine_schedule_anneals_from_lr_towards_zero():
    _, rows = _fit(TrainConfig(epochs=4, lr=0.1, lr_schedule="cosine", lr_decay=0.5,
                               progress=False))
    expected = [0.1 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]
    assert [r["lr"] for r in rows] == pytest.approx(expected)  # lr_decay is not used


def test_full_batch_takes_one_step_per_epoch():
    steps = []

    class Count(Callback):
        def on_batch_end(self, trainer, batch, out):
            steps.append(batch)

    _fit(TrainConfig(epochs=3, batch_size=0, progress=False), callbacks=[Count()])
    assert steps == [0, 0, 0]


def test_ema_weights_are_the_evaluated_ones_and_bias_corrected():
    decay = 0.9
    data = _tiny()
    seed_everything(0)
    model = MLP(5, (8,), 2)
    trainer = Trainer(model, data, TrainConfig(epochs=1, batch_size=16, ema_decay=decay,
                                               progress=False))
    snapshots = []

    class Snap(Callback):
        def on_batch_end(self, trainer, batch, out):
            snapshots.append(copy.deepcopy(trainer.model.state_dict()))

    trainer.callbacks.append(Snap())
    trainer.fit()
    t = len(snapshots)
    weights = [decay ** (t - 1 - i) * (1 - decay) for i in range(t)]
    expected = sum(w * s["fc1.weight"] for w, s in zip(weights, snapshots, strict=True)) / (1 - decay**t)
    evaluated = trainer.eval_model.state_dict()["fc1.weight"]
    torch.testing.assert_close(evaluated, expected)
    assert not torch.allclose(evaluated, trainer.model.state_dict()["fc1.weight"])
    # and evaluation really runs the averaged weights
    assert trainer.evaluate(data.val) == trainer.evaluate(data.val, trainer.eval_model)
    assert trainer.evaluate(data.val) != trainer.evaluate(data.val, trainer.model)


def test_resume_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path):
    data = load_digits()
    full_cfg = TrainConfig(epochs=4, batch_size=32, ema_decay=0.99, lr_decay=0.9, progress=False)
    _, full = _fit(full_cfg, data)
    part_cfg = TrainConfig(**{**full_cfg.__dict__, "epochs": 2})
    _fit(part_cfg, data, run_dir=tmp_path)
    # a new process would rebuild the model with a different init; resume must not care
    torch.manual_seed(123)
    trainer = Trainer(MLP(data.input_dim, (8,), data.n_classes), data, full_cfg, run_dir=tmp_path)
    resumed = trainer.fit(resume=True)
    assert resumed == full
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert len(lines) == 5


@pytest.mark.parametrize("shift", [0, 1])
def test_interrupt_mid_epoch_writes_a_checkpoint_and_resumes_exactly(tmp_path, shift):
    data = load_digits()
    cfg = TrainConfig(epochs=2, batch_size=32, progress=False, augment_shift=shift)
    _, full = _fit(cfg, data)

    class StopAt(Callback):
        def on_batch_end(self, trainer, batch, out):
            if batch == 7 and not trainer.history:
                trainer._stop_requested = True  # what the SIGINT handler sets

    with pytest.raises(TrainingInterrupted, match="after batch 8.*--resume"):
        _fit(cfg, data, run_dir=tmp_path, callbacks=[StopAt()])
    trainer = Trainer(MLP(data.input_dim, (8,), data.n_classes), data, cfg, run_dir=tmp_path)
    assert trainer.fit(resume=True) == full


def test_bad_train_config_is_refused_with_the_standard_message():
    with pytest.raises(ConfigError, match=r"'lr' parameter of TrainConfig must be > 0.0. Got -1"):
        Trainer(nn.Linear(5, 2), _tiny(), TrainConfig(lr=-1.0))
    with pytest.raises(ConfigError, match=r"'optimizer' .* one of \('adam', 'sgd'\)"):
        Trainer(nn.Linear(5, 2), _tiny(), TrainConfig(optimizer="rmsprop"))


def test_shift_augmentation_changes_training_only_and_needs_images():
    data = load_digits()
    _, plain = _fit(TrainConfig(epochs=2, batch_size=32, progress=False), data)
    _, shifted = _fit(TrainConfig(epochs=2, batch_size=32, progress=False, augment_shift=1), data)
    assert shifted[-1]["train_loss"] != plain[-1]["train_loss"]
    with pytest.raises(ConfigError, match=r"'augment_shift' .* must be 0 for inputs that are not "
                                          r"images.*\(64, 5\). Got 2 instead"):
        Trainer(nn.Linear(5, 2), _tiny(), TrainConfig(augment_shift=2))


def test_a_short_run_on_digits_learns():
    cfg = TrainConfig(epochs=15, batch_size=32, progress=False)
    _, rows = _fit(cfg, load_digits(), hidden=(64,))
    assert rows[-1]["val_acc"] > 0.9


def test_metrics_rows_evaluate_the_ema_weights_computed_independently(tmp_path):
    """The last row of metrics.csv is the evaluation of an EMA kept here, by hand, from the
    weights after every step (not the engine's own eval_model), and not of the raw weights."""
    decay, data = 0.8, _tiny()
    seed_everything(0)
    model = MLP(5, (8,), 2)
    avg = [torch.zeros_like(p) for p in model.parameters()]
    steps = [0]

    class OwnEMA(Callback):
        def on_batch_end(self, trainer, batch, out):
            steps[0] += 1
            for a, p in zip(avg, trainer.model.parameters(), strict=True):
                a.mul_(decay).add_(p.detach(), alpha=1 - decay)

    cfg = TrainConfig(epochs=2, batch_size=16, ema_decay=decay, lr=0.05, progress=False)
    trainer = Trainer(model, data, cfg, callbacks=[OwnEMA()], run_dir=tmp_path)
    rows = trainer.fit()
    mine = copy.deepcopy(model)
    with torch.no_grad():
        for p, a in zip(mine.parameters(), avg, strict=True):
            p.copy_(a / (1 - decay ** steps[0]))
    probe = Trainer(mine, data, TrainConfig(progress=False))
    expected = probe.evaluate(data.val, mine)
    assert rows[-1]["val_loss"] == pytest.approx(expected["loss"], rel=1e-6)
    assert rows[-1]["val_acc"] == expected["acc"]
    raw = probe.evaluate(data.val, trainer.model)
    assert abs(rows[-1]["val_loss"] - raw["loss"]) > 1e-4  # the raw weights would differ
    csv_last = (tmp_path / "metrics.csv").read_text().splitlines()[-1]
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert float(csv_last.split(",")[header.index("val_loss")]) == rows[-1]["val_loss"]


def _stop_at(batch: int, epochs_done: int) -> Callback:
    """A callback that asks for a stop (as the SIGINT handler does) after ``batch`` of the
    epoch that follows ``epochs_done`` finished epochs."""

    class StopAt(Callback):
        def on_batch_end(self, trainer, b, out):
            if b == batch and len(trainer.history) == epochs_done:
                trainer._stop_requested = True

    return StopAt()


def _vib_fit(cfg: TrainConfig, data: Dataset, run_dir=None, resume=False, **kw):
    seed_everything(cfg.seed)
    model = VIBClassifier(data.input_dim, (16,), 4, data.n_classes, train_samples=2)
    trainer = Trainer(model, data, cfg, VIBObjective(1e-2, 1.0), run_dir=run_dir, **kw)
    return trainer.fit(resume=resume)


@pytest.mark.parametrize("stop", ["epoch", "batch"])
def test_resume_of_a_stochastic_vib_run_is_bit_identical(tmp_path, stop):
    """The VIB model draws its noise from torch's global generator: resume must restore it."""
    data = load_digits()
    cfg = TrainConfig(epochs=3, batch_size=64, progress=False)
    full = _vib_fit(cfg, data)
    if stop == "epoch":
        _vib_fit(TrainConfig(**{**cfg.__dict__, "epochs": 2}), data, run_dir=tmp_path)
    else:
        with pytest.raises(TrainingInterrupted):
            _vib_fit(cfg, data, run_dir=tmp_path, callbacks=[_stop_at(5, epochs_done=1)])
    torch.manual_seed(999)  # a new process: another init and another generator state
    resumed = _vib_fit(cfg, data, run_dir=tmp_path, resume=True)
    assert resumed == full


def _ae_fit(cfg: TrainConfig, data: Dataset, run_dir=None, resume=False, **kw):
    from ibkit.models import Autoencoder
    from ibkit.objectives import ReconstructionBits

    seed_everything(cfg.seed)
    trainer = Trainer(Autoencoder(data.input_dim, (16,), 4), data, cfg, ReconstructionBits(),
                      run_dir=run_dir, **kw)
    return trainer, trainer.fit(resume=resume)


def test_a_generative_objective_trains_checkpoints_resumes_and_evaluates(tmp_path):
    """No class scores: no accuracy anywhere, the objective's bits per dimension instead."""
    data = load_digits()
    cfg = TrainConfig(epochs=3, batch_size=64, ema_decay=0.9, progress=False)
    trainer, full = _ae_fit(cfg, data)
    assert set(full[-1]) == {"epoch", "lr", *(f"{s}_{m}" for s in ("train", "val", "test")
                                              for m in ("loss", "recon_bits_per_dim"))}
    assert full[-1]["val_recon_bits_per_dim"] < full[0]["val_recon_bits_per_dim"]
    assert trainer.evaluate(data.val) == {k[4:]: v for k, v in full[-1].items()
                                          if k.startswith("val_")}

    with pytest.raises(TrainingInterrupted):
        _ae_fit(cfg, data, run_dir=tmp_path, callbacks=[_stop_at(4, epochs_done=1)])
    torch.manual_seed(5)
    _, resumed = _ae_fit(cfg, data, run_dir=tmp_path, resume=True)
    assert resumed == full
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0]
    assert "acc" not in header and "val_recon_bits_per_dim" in header


def test_reconstruction_bits_is_the_bernoulli_nll_in_bits_per_dimension():
    from ibkit.objectives import ReconstructionBits

    x = torch.tensor([[1.0, 0.0, 1.0, 1.0]])
    model = nn.Identity()  # logits = the inputs: p = sigmoid(1) for ones, 1/2 for zeros
    out = ReconstructionBits()(model, x, None)
    p = torch.sigmoid(torch.tensor(1.0))
    expected = (3 * -torch.log2(p) + 1.0) / 4  # a zero at p = 1/2 costs one bit
    assert out.logits is None
    assert float(out.loss) == pytest.approx(float(expected), rel=1e-6)
    with pytest.raises(ValueError, match=r"'x' parameter of ReconstructionBits .* \[0, 1\]"):
        ReconstructionBits()(model, x - 2, None)


def test_full_batch_says_so_when_training_starts(capsys):
    trainer = Trainer(nn.Linear(5, 2), _tiny(), TrainConfig(epochs=1, batch_size=0))
    trainer.fit()
    out = capsys.readouterr()
    assert "batch_size=0: full-batch gradient descent, all 64 training examples" in (
        out.out + out.err)
    quiet = Trainer(nn.Linear(5, 2), _tiny(), TrainConfig(epochs=1, batch_size=16))
    quiet.fit()
    assert "full-batch" not in "".join(capsys.readouterr())
