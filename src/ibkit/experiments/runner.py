"""Run an experiment end to end into a run directory (the CLI calls exactly this)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

import ibkit
from ibkit._config import apply_override, validate
from ibkit._errors import ConfigError
from ibkit._io import save_torch, write_json, write_text
from ibkit.data import Dataset, Split, load_dataset
from ibkit.engine import Objective, Trainer, TrainingInterrupted, cross_entropy, seed_everything
from ibkit.experiments.compress_run import (
    finish_compression,
    gated_model,
    pretrain_dense,
    vibnet_objective,
)
from ibkit.experiments.config import MODELS, ExperimentConfig
from ibkit.experiments.plane_run import plane_callbacks, plane_results
from ibkit.experiments.presets import Preset, get_preset
from ibkit.experiments.rundir import RunDirectory
from ibkit.models import MLP, DeterministicClassifier, VIBClassifier, lenet5_caffe, vgg16_cifar
from ibkit.objectives import BetaSchedule, VIBObjective, label_entropy_bits


def resolve_config(
    preset: str,
    overrides: list[str] | tuple[str, ...] = (),
    data_dir: str | None = None,
    device: str | None = None,
    seed: int | None = None,
) -> ExperimentConfig:
    """The preset's config with ``--set key=value`` overrides and the common options applied."""
    config = get_preset(preset).make_config()
    for assignment in overrides:
        config = apply_override(config, assignment)
    if data_dir is not None:
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, data_dir=data_dir))
    train_changes: dict[str, Any] = {}
    if device is not None:
        train_changes["device"] = device
    if seed is not None:
        train_changes["seed"] = seed
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, **train_changes))
    validate(config)
    return config


def build_model(config: ExperimentConfig, data: Dataset) -> nn.Module:
    """The model named by ``config.model``, sized for ``data``."""
    m = config.model
    if m.name == "mlp":
        return MLP(data.input_dim, m.hidden, data.n_classes, m.activation)
    if m.name == "vib":
        return VIBClassifier(data.input_dim, m.hidden, m.bottleneck_dim, data.n_classes, m.prior,
                             m.std_offset, m.train_samples, m.eval_samples, m.eval_mode,
                             m.activation)
    if m.name == "lenet5":
        return lenet5_caffe(data.n_classes, data.train.x.shape[1])
    if m.name == "vgg16":
        return vgg16_cifar(data.n_classes, m.hidden[0] / 512 if m.hidden else 1.0)
    if m.name == "deterministic":
        return DeterministicClassifier(data.input_dim, m.hidden, m.bottleneck_dim,
                                       data.n_classes, m.activation)
    raise ConfigError(f"The 'model.name' parameter must be one of {MODELS}. Got {m.name!r}.")


def build_objective(config: ExperimentConfig, data: Dataset) -> Objective:
    """VIBNet's objective (*) when compressing; the VIB objective for ``model.name=vib``
    (H(Y) from the training labels); else cross-entropy."""
    if config.compress.enabled:
        return vibnet_objective(config, data)
    if config.model.name != "vib":
        return cross_entropy
    o = config.objective
    h_y = label_entropy_bits(data.train.y, data.n_classes)
    return VIBObjective(BetaSchedule(o.beta, o.beta_warmup_epochs), h_y)


def final_metrics(row: dict[str, float]) -> dict[str, float]:
    """The last epoch's metrics plus error rates in per cent."""
    out = dict(row)
    for split in ("train", "val", "test"):
        if f"{split}_acc" in row:
            out[f"{split}_error_pct"] = 100.0 * (1.0 - row[f"{split}_acc"])
    return out


def write_summary(rd: RunDirectory, preset: Preset, trainer: Trainer, status: str,
                  extras: dict | None = None) -> dict:
    """Write ``summary.json`` (final metrics, expected vs measured) and ``timing.csv``."""
    extras = dict(extras or {})
    final = final_metrics(trainer.history[-1]) if trainer.history else {}
    final.update(extras.pop("metrics", {}))
    expected = []
    for e in preset.expected:
        measured = final.get(e.metric)
        expected.append({**dataclasses.asdict(e), "measured": measured,
                         "met": None if measured is None else e.met(measured)})
    summary = {
        "preset": preset.name, "status": status, "ibkit_version": ibkit.__version__,
        "epochs_completed": len(trainer.history), "epochs_planned": trainer.config.epochs,
        "train_seconds": round(sum(trainer.epoch_seconds), 3),
        "device": str(trainer.device), "final": final, "expected": expected, **extras,
    }
    write_json(rd.summary_path, summary)
    write_text(rd.path / "timing.csv", "epoch,seconds\n" + "".join(
        f"{i + 1},{s:.4f}\n" for i, s in enumerate(trainer.epoch_seconds)))
    return summary


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


def run(
    config: ExperimentConfig,
    run_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> dict:
    """Train ``config`` and write its run directory; return the summary.

    Args:
        config: a resolved config (see :func:`resolve_config`).
        run_dir: where to write; default ``runs/<preset>/<timestamp>``.
        resume: continue the run in ``run_dir`` from its last checkpoint (its own
            ``config.yaml`` is used; it must belong to the same preset).
        overwrite: replace an existing run in ``run_dir``.
    """
    preset = get_preset(config.preset)
    if run_dir is None:
        run_dir = Path("runs") / config.preset / time.strftime("%Y%m%d-%H%M%S")
    rd = RunDirectory(run_dir)
    if resume:
        config = rd.check_resumable(config.preset)
    else:
        rd.prepare_new(overwrite)
        rd.write_config(config)
    data = load_dataset(config.data.name, config.data.data_dir, config.data.scale,
                        config.data.split_seed, config.data.random_labels)
    seed_everything(config.train.seed)
    model = build_model(config, data)
    dense, pretrained = None, {}
    if config.compress.enabled:
        pretrained = pretrain_dense(model, data, config, rd.path, resume)
        dense, model = model, gated_model(model, data, config.compress)
    callbacks = plane_callbacks(config, data, model, rd.path)
    if not resume:
        for name in ("plane.csv", "dynamics.csv"):
            (rd.path / name).unlink(missing_ok=True)
    trainer = Trainer(model, data, config.train, build_objective(config, data), callbacks,
                      run_dir=rd.path)
    from_checkpoint = resume and (rd.checkpoints / "last.pt").is_file()
    try:
        trainer.fit(resume=from_checkpoint)
    except TrainingInterrupted:
        write_summary(rd, preset, trainer, "interrupted")
        raise
    save_torch(trainer.eval_model.state_dict(), rd.checkpoints / "model.pt")
    if isinstance(model, VIBClassifier) and model.bottleneck.dim == 2 and data.test is not None:
        write_embedding(rd.path / "embedding.csv", trainer.eval_model, data.test, trainer.device)
    extras = {"plane": plane_results(config, data, trainer, rd.path)}
    extras["metrics"] = extras["plane"].pop("metrics", {})
    if dense is not None:
        extras["compression"] = finish_compression(config, data, dense, trainer, rd.path)
        extras["metrics"].update(extras["compression"].pop("metrics"))
        if pretrained:
            extras["compression"]["pretrain_seconds"] = pretrained.pop("seconds")
            extras["metrics"].update(pretrained)
    from ibkit.report import render_figures

    render_figures(rd.path)
    if preset.post:
        extras.update(preset.post(rd.path, config))
    return write_summary(rd, preset, trainer, "completed", extras)
