"""Run an experiment end to end into a run directory (the CLI calls exactly this).

``run`` composes the recipes that ``config.recipes`` names (see
:mod:`ibkit.experiments.registry`): each recipe's ``setup`` in order, one ``Trainer.fit``, each
recipe's ``finish`` in order, the figures, the summary. It knows no experiment family.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import ibkit
from ibkit._config import apply_override, validate
from ibkit._errors import ConfigError, IbkitError, RunDirError
from ibkit._io import remove_orphan_temps, save_torch, write_json, write_text
from ibkit._provenance import code_version
from ibkit.data import load_dataset
from ibkit.engine import Trainer, TrainingInterrupted, seed_everything
from ibkit.experiments.config import ExperimentConfig
from ibkit.experiments.registry import (
    Preset,
    RunContext,
    check_model_name,
    get_preset,
    get_recipes,
)
from ibkit.experiments.rundir import RunDirectory
from ibkit.integrations import TensorBoardCallback, log_figures
from ibkit.objectives import error_pct
from ibkit.report import html_report, render_figures


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
    get_recipes(config)
    check_model_name(config)
    return config


def final_metrics(row: dict[str, float]) -> dict[str, float]:
    """The last epoch's metrics plus error rates in per cent (where accuracies are given)."""
    out = dict(row)
    for split in ("train", "val", "test"):
        if f"{split}_acc" in row:
            out[f"{split}_error_pct"] = error_pct(row[f"{split}_acc"])
    return out


def write_summary(rd: RunDirectory, preset: Preset, trainer: Trainer, status: str,
                  metrics: dict[str, float] | None = None,
                  sections: dict[str, Any] | None = None) -> dict:
    """Write ``summary.json`` (final metrics, expected vs measured) and ``timing.csv``."""
    final = final_metrics(trainer.history[-1]) if trainer.history else {}
    final.update(metrics or {})
    expected = []
    for e in preset.expected:
        measured = final.get(e.metric)
        expected.append({**dataclasses.asdict(e), "measured": measured,
                         "met": None if measured is None else e.met(measured)})
    summary = {
        "preset": preset.name, "status": status, "ibkit_version": ibkit.__version__,
        "code": code_version(), "host": f"{platform.node()} ({os.cpu_count()} CPUs)",
        "finished_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "epochs_completed": len(trainer.history), "epochs_planned": trainer.config.epochs,
        "train_seconds": round(sum(trainer.epoch_seconds), 3),
        "device": str(trainer.device), "final": final, "expected": expected, **(sections or {}),
    }
    write_json(rd.summary_path, summary)
    write_text(rd.path / "timing.csv", "epoch,seconds\n" + "".join(
        f"{i + 1},{s:.4f}\n" for i, s in enumerate(trainer.epoch_seconds)))
    return summary


def _open_run_dir(config: ExperimentConfig, rd: RunDirectory, resume: bool, overwrite: bool,
                  restart: bool = False) -> tuple[ExperimentConfig, Path | None]:
    """The config to run and, for ``overwrite``, where the old run was moved aside."""
    if resume or restart:
        config = rd.check_resumable(config.preset)
        if restart:
            rd.clear_for_restart()
            return config, None
        remove_orphan_temps(rd.path)
        remove_orphan_temps(rd.checkpoints)
        epochs = _epochs_recorded(rd)
        if not (rd.checkpoints / "last.pt").is_file() and epochs > 0:
            raise RunDirError(
                f"Cannot resume: '{rd.checkpoints / 'last.pt'}' is missing, but metrics.csv "
                f"records {epochs} epoch(s). Restore the checkpoint, or pass --restart to "
                "begin the run again.")
        return config, None
    aside = rd.prepare_new(overwrite)
    rd.write_config(config)
    return config, aside


def _prepare(config: ExperimentConfig, rd: RunDirectory, resume: bool) -> tuple[RunContext, Trainer]:
    """Data, recipes' setup and the trainer: everything before the first epoch."""
    d = config.data
    data = load_dataset(d.name, d.data_dir, d.scale, d.split_seed, d.random_labels, d.binarize,
                        d.train_size, d.eval_size)
    if not resume:
        rd.write_config(config, data.notes)
    ctx = RunContext(config, data, rd.path, resume)
    ctx.sections["data"] = {"name": data.name, **data.notes}
    seed_everything(config.train.seed)
    for recipe in get_recipes(config):
        recipe.setup(ctx)
    if ctx.model is None:
        raise ConfigError(f"The 'recipes' parameter {config.recipes!r} builds no model: start "
                          "with a base recipe (classification, vib or autoencoder).")
    if config.log.tensorboard:
        ctx.callbacks.append(TensorBoardCallback(rd.path / "tensorboard"))
    trainer = Trainer(ctx.model, ctx.data, config.train, ctx.objective, ctx.callbacks,
                      run_dir=rd.path)
    return ctx, trainer


def _remove_failed_start(rd: RunDirectory) -> None:
    """A run that failed before its first epoch leaves nothing: its config.yaml goes (the
    directory too, when nothing else is in it), so that the same command can be run again."""
    if not (rd.checkpoints / "last.pt").is_file() and _epochs_recorded(rd) == 0:
        rd.config_path.unlink(missing_ok=True)
        if rd.path.is_dir() and not any(rd.path.iterdir()):
            rd.path.rmdir()


def _epochs_recorded(rd: RunDirectory) -> int:
    if not rd.metrics_path.is_file():
        return 0
    return max(0, len(rd.metrics_path.read_text().splitlines()) - 1)


def run(
    config: ExperimentConfig,
    run_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    restart: bool = False,
) -> dict:
    """Train ``config`` and write its run directory; return the summary.

    Args:
        config: a resolved config (see :func:`resolve_config`).
        run_dir: where to write; default ``runs/<preset>/<timestamp>``.
        resume: continue the run in ``run_dir`` from its last checkpoint (its own
            ``config.yaml`` is used; it must belong to the same preset).
        overwrite: replace an existing run in ``run_dir``.
        restart: begin the run in ``run_dir`` again from epoch 1 with its own ``config.yaml``
            (its other files are deleted): for a run whose checkpoint is lost or damaged.
    """
    preset = get_preset(config.preset)
    if run_dir is None:
        run_dir = Path("runs") / config.preset / time.strftime("%Y%m%d-%H%M%S")
    rd = RunDirectory(run_dir)
    with rd.lock():
        config, aside = _open_run_dir(config, rd, resume, overwrite, restart)
        try:
            return _run(preset, config, rd, resume, aside)
        except BaseException:
            if aside is not None and not (rd.checkpoints / "last.pt").is_file():
                rd.restore(aside)  # nothing of the new run to keep: the old one back
            raise
        finally:
            if aside is not None and aside.exists():  # the new run has a checkpoint
                shutil.rmtree(aside, ignore_errors=True)


def _run(preset: Preset, config: ExperimentConfig, rd: RunDirectory, resume: bool,
         aside: Path | None) -> dict:
    try:
        ctx, trainer = _prepare(config, rd, resume)
    except IbkitError:
        if not resume and aside is None:
            _remove_failed_start(rd)
        raise
    recipes = get_recipes(config)
    try:
        trainer.fit(resume=resume and (rd.checkpoints / "last.pt").is_file())
    except TrainingInterrupted:
        write_summary(rd, preset, trainer, "interrupted")
        raise
    save_torch(trainer.eval_model.state_dict(), rd.checkpoints / "model.pt")
    ctx.trainer = trainer
    for recipe in recipes:
        recipe.finish(ctx)
    render_figures(rd.path)
    if config.log.tensorboard:
        log_figures(rd.path / "tensorboard", rd.path, step=len(trainer.history))
    summary = write_summary(rd, preset, trainer, "completed", ctx.metrics, ctx.sections)
    html_report(rd.path)
    return summary


def load_run(run_dir: str | Path) -> tuple[ExperimentConfig, Any, Any]:
    """``(config, model, data)`` of a finished run directory: its ``config.yaml``, the model it
    saved (``checkpoints/model.pt``, read with ``weights_only=True``) in evaluation mode, and
    its data set (its splits and scaling), which also sizes the model.

    Raises:
        ConfigError: the directory holds no finished run.
    """
    from ibkit._io import load_torch
    from ibkit.experiments.registry import build_model

    rd = RunDirectory(run_dir)
    if not rd.is_run() or not (rd.checkpoints / "model.pt").is_file():
        raise ConfigError(f"The run directory '{run_dir}' holds no finished run (config.yaml "
                          "and checkpoints/model.pt are needed).")
    config = rd.read_config()
    d = config.data
    data = load_dataset(d.name, d.data_dir, d.scale, d.split_seed, d.random_labels, d.binarize,
                        d.train_size, d.eval_size)
    model = build_model(config, data)
    model.load_state_dict(load_torch(rd.checkpoints / "model.pt"))
    return config, model.eval(), data
