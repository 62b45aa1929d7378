"""The Deep VIB family (Alemi et al. 2017): the VIB classifier and objective, the plane of its
variational bounds, the 2-D embedding, and the MNIST and digits presets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ibkit._errors import ConfigError
from ibkit._io import write_text
from ibkit.callbacks import Callback
from ibkit.data import Dataset, Split
from ibkit.engine import TrainConfig
from ibkit.experiments.config import DataConfig, ExperimentConfig, ModelConfig, ObjectiveConfig
from ibkit.experiments.families.plane import add_plane_summary
from ibkit.experiments.registry import (
    Expected,
    Preset,
    Recipe,
    RunContext,
    build_model,
    register_model,
    register_presets,
    register_recipe,
)
from ibkit.models import CEBClassifier, VIBClassifier
from ibkit.objectives import BetaSchedule, CEBObjective, VIBObjective, label_entropy_bits
from ibkit.plane import PlanePoint, read_points
from ibkit.plane.tracker import truncate_points, write_points


class VariationalPlane(Callback):
    """The plane of a VIB model from its variational bounds (Herwana & Kadian, Figure 5):
    per epoch, the upper bound on I(Z;X) (mean KL) and the lower bound on I(Z;Y)
    (H(Y) - cross-entropy) on the validation split (the test split when there is none)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_epoch_end(self, trainer: Any, epoch: int, row: dict[str, float]) -> None:
        """Append the epoch's point to ``plane.csv``."""
        split = "val" if "val_kl_bits" in row else "test"
        if f"{split}_kl_bits" not in row:
            return
        n = len(getattr(trainer.data, split))
        write_points(self.path, [PlanePoint(
            epoch, "bottleneck", "variational", row[f"{split}_kl_bits"],
            row[f"{split}_izy_lower_bits"], "upper_bound", "lower_bound", n, 0.0)], mode="a")

    def load_state_dict(self, state: dict) -> None:
        """Resume: rows after the checkpoint are written again, so drop them."""
        truncate_points(self.path, int(state.get("last_epoch", 0)))

    def state_dict(self) -> dict:
        """Nothing to restore beyond the epoch (taken from the file on resume)."""
        return {"last_epoch": max((p.epoch for p in read_points(self.path)), default=0)}


@torch.no_grad()
def write_embedding(path: Path, model: VIBClassifier, split: Split, device: torch.device,
                    n: int = 2000) -> None:
    """Encoder means and stds of the first ``n`` examples of ``split`` as a CSV (K = 2 runs)."""
    model.eval()
    x, y = split.x[:n].to(device), split.y[:n]
    mean, std = model.bottleneck.encode(model.encoder(x))
    rows = torch.cat([mean.cpu(), std.cpu(), y.unsqueeze(1).float()], 1)
    write_text(path, "mean1,mean2,std1,std2,label\n" + "".join(
        f"{a:.6g},{b:.6g},{c:.6g},{d:.6g},{int(e)}\n" for a, b, c, d, e in rows.tolist()))


def _vib_model(config: ExperimentConfig, data: Dataset) -> nn.Module:
    m = config.model
    return VIBClassifier(data.input_dim, m.hidden, m.bottleneck_dim, data.n_classes, m.prior,
                         m.std_offset, m.train_samples, m.eval_samples, m.eval_mode,
                         m.activation)


def vib_objective(config: ExperimentConfig, data: Dataset) -> VIBObjective:
    """The VIB objective with ``objective.beta`` (and its warm-up), H(Y) from the training
    labels."""
    o = config.objective
    h_y = label_entropy_bits(data.train.y, data.n_classes)
    return VIBObjective(BetaSchedule(o.beta, o.beta_warmup_epochs), h_y)


class VIB(Recipe):
    """A VIB classifier (``model.name=vib``) with its objective and variational plane."""

    name = "vib"

    def setup(self, ctx: RunContext) -> None:
        """Model, objective, and the plane of the bounds in ``plane.csv``."""
        if ctx.config.model.name != "vib":
            raise ConfigError(f"The 'vib' recipe trains model.name='vib'. Got "
                              f"{ctx.config.model.name!r} instead.")
        ctx.model = build_model(ctx.config, ctx.data)
        ctx.objective = vib_objective(ctx.config, ctx.data)
        if not ctx.resume:
            (ctx.run_dir / "plane.csv").unlink(missing_ok=True)
        ctx.callbacks.append(VariationalPlane(ctx.run_dir / "plane.csv"))

    def finish(self, ctx: RunContext) -> None:
        """The embedding of a K = 2 model; the plane's peaks into the summary."""
        model, data = ctx.trainer.eval_model, ctx.data
        if isinstance(model, VIBClassifier) and model.bottleneck.dim == 2 and data.test is not None:
            write_embedding(ctx.run_dir / "embedding.csv", model, data.test, ctx.trainer.device)
        add_plane_summary(ctx)


def _ceb_model(config: ExperimentConfig, data: Dataset) -> nn.Module:
    m = config.model
    return CEBClassifier(data.input_dim, m.hidden, m.bottleneck_dim, data.n_classes,
                         m.std_offset, m.train_samples, m.eval_samples, m.eval_mode,
                         m.activation)


class CEB(Recipe):
    """A Conditional Entropy Bottleneck classifier (``model.name=ceb``, Fischer 2020) with
    :class:`ibkit.objectives.CEBObjective` at ``objective.beta``."""

    name = "ceb"

    def setup(self, ctx: RunContext) -> None:
        """Model and objective."""
        if ctx.config.model.name != "ceb":
            raise ConfigError(f"The 'ceb' recipe trains model.name='ceb'. Got "
                              f"{ctx.config.model.name!r} instead.")
        o = ctx.config.objective
        ctx.model = build_model(ctx.config, ctx.data)
        ctx.objective = CEBObjective(BetaSchedule(o.beta, o.beta_warmup_epochs),
                                     label_entropy_bits(ctx.data.train.y, ctx.data.n_classes))


register_model("vib", _vib_model)
register_model("ceb", _ceb_model)
register_recipe(VIB())
register_recipe(CEB())


def _vib_mnist(preset: str = "vib-mnist", model: str = "vib") -> ExperimentConfig:
    """The authors' demo set-up: pixels in [-1, 1], Adam(1e-4, 0.5, 0.999), x0.97 every 2
    epochs, batch 100, 200 epochs, EMA 0.999, beta 1e-3, 12 samples at test time."""
    return ExperimentConfig(
        preset=preset,
        recipes=("vib",) if model == "vib" else ("classification",),
        data=DataConfig(name="mnist", scale="symmetric"),
        model=ModelConfig(name=model, hidden=(1024, 1024), bottleneck_dim=256, eval_samples=12),
        objective=ObjectiveConfig(beta=1e-3),
        train=TrainConfig(epochs=200, batch_size=100, lr=1e-4, betas=(0.5, 0.999), lr_decay=0.97,
                          lr_decay_every=2, ema_decay=0.999),
    )


def _vib_mnist_fast() -> ExperimentConfig:
    """ibkit's fast schedule: 12 training samples of z, twice the learning rate, 30 epochs,
    beta 5e-3 (at beta 1e-3 the same schedule over-fits: 1.32 % test error)."""
    c = _vib_mnist("vib-mnist-fast")
    c.model.train_samples = 12
    c.objective.beta = 5e-3
    c.train.lr, c.train.epochs = 2e-4, 30
    return c


def _vib_mnist_2d() -> ExperimentConfig:
    """K = 2 for the embedding figure (Alemi et al., Figure 2)."""
    c = _vib_mnist("vib-mnist-2d")
    c.model.bottleneck_dim, c.model.train_samples = 2, 12
    c.train.lr, c.train.epochs = 2e-4, 30
    return c


def _vib_digits() -> ExperimentConfig:
    """A small VIB on the embedded digits: seconds per run, for sweeps and the demo."""
    return ExperimentConfig(
        preset="vib-digits",
        recipes=("vib",),
        data=DataConfig(name="digits", scale="symmetric"),
        model=ModelConfig(name="vib", hidden=(256, 256), bottleneck_dim=32, train_samples=4),
        objective=ObjectiveConfig(beta=1e-3),
        train=TrainConfig(epochs=60, batch_size=64, lr=1e-3, betas=(0.5, 0.999), ema_decay=0.99),
    )


def _deterministic(config: ExperimentConfig, preset: str) -> ExperimentConfig:
    """The same network and schedule without noise or KL (the robustness baseline)."""
    config.preset, config.recipes, config.model.name = preset, ("classification",), "deterministic"
    return config


def _ceb(config: ExperimentConfig, preset: str) -> ExperimentConfig:
    config.preset, config.recipes, config.model.name = preset, ("ceb",), "ceb"
    return config


register_presets(
    Preset("vib-mnist",
           "Deep VIB on MNIST as in the authors' demo (784-1024-1024-2x256, beta 1e-3, 200 epochs)",
           _vib_mnist, (Expected("test_error_pct", 1.13, "~",
                                 "Alemi et al. 2017 Table 1; demo run 1.21", 0.15),)),
    Preset("deterministic-mnist",
           "the same network without noise or KL, same schedule (the paper's baseline)",
           lambda: _vib_mnist("deterministic-mnist", "deterministic"),
           (Expected("test_error_pct", 1.38, "~", "Alemi et al. 2017 Table 1", 0.15),)),
    Preset("vib-mnist-fast",
           "Deep VIB on MNIST in 30 epochs: 12 training samples of z, lr 2e-4, beta 5e-3",
           _vib_mnist_fast, (Expected("test_error_pct", 1.45, "<=",
                                      "ibkit's 3-seed mean 1.39 +- 0.03 (the 1.25 once targeted "
                                      "was never reproduced, not even by its own commit); "
                                      "paper 1.13 in 200 epochs"),)),
    Preset("vib-mnist-2d",
           "Deep VIB on MNIST with K = 2, for the 2-D embedding figure (Alemi et al. Fig. 2)",
           _vib_mnist_2d, (Expected("test_error_pct", 5.0, "<=", "ibkit's target for K = 2"),)),
    Preset("vib-digits",
           "Deep VIB on the embedded digits (256-256-2x32), seconds per run: sweeps and the demo",
           _vib_digits, (Expected("test_error_pct", 5.0, "<=", "ibkit's own run"),)),
    Preset("ceb-mnist-fast",
           "the Conditional Entropy Bottleneck (Fischer 2020) with vib-mnist-fast's network and "
           "schedule: a learned class-conditional b(z|y) in place of the prior",
           lambda: _ceb(_vib_mnist_fast(), "ceb-mnist-fast"),
           (Expected("test_error_pct", 1.5, "<=", "ibkit's target"),)),
    Preset("deterministic-mnist-fast", "vib-mnist-fast's network and schedule without noise "
           "or KL (the deterministic baseline of the robustness presets)",
           lambda: _deterministic(_vib_mnist_fast(), "deterministic-mnist-fast"),
           (Expected("test_error_pct", 1.8, "<=", "ibkit's target"),)),
    Preset("deterministic-digits", "vib-digits' network without noise or KL, seconds",
           lambda: _deterministic(_vib_digits(), "deterministic-digits"),
           (Expected("test_error_pct", 5.0, "<=", "ibkit's own run"),)),
    Preset("ceb-digits", "the CEB with vib-digits' network on the embedded digits, seconds",
           lambda: _ceb(_vib_digits(), "ceb-digits"),
           (Expected("test_error_pct", 5.0, "<=", "ibkit's own run"),)),
)
