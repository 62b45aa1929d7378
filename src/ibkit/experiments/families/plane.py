"""The information-plane family: the plane recipe (InformationPlane and GradientStats during
training; peaks, the optimal IB curve and partitions after it) and the reproductions of
Shwartz-Ziv & Tishby 2017, Saxe et al. 2018 and the survey's 4-bit task."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ibkit._errors import ConfigError
from ibkit._io import write_rows_csv
from ibkit.callbacks import Callback
from ibkit.data import Dataset, Split
from ibkit.engine import TrainConfig, Trainer
from ibkit.estimators import BinningEstimator, KDEEstimator, MIEstimator, MixedKNNEstimator
from ibkit.experiments.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    PlaneConfig,
)
from ibkit.experiments.registry import (
    Expected,
    Preset,
    Recipe,
    RunContext,
    register_presets,
    register_recipe,
)
from ibkit.plane import (
    OUTPUT,
    GradientStats,
    InformationPlane,
    PlanePoint,
    compression_bound,
    default_layers,
    epoch_schedule,
    homogeneity,
    ib_curve,
    joint_from_labels,
    partition_cells,
    peak_epochs,
    read_points,
    record_activations,
)


def probe_split(data: Dataset, plane: PlaneConfig) -> Split:
    """The inputs and labels the plane is measured on (see :class:`PlaneConfig`)."""
    options: dict[str, list[Split | None]] = {"train": [data.train], "test": [data.test],
                                              "all": [data.train, data.val, data.test]}
    chosen = options[plane.probe]
    parts = [p for p in chosen if p is not None]
    x, y = torch.cat([p.x for p in parts]), torch.cat([p.y for p in parts])
    n = plane.probe_size or len(y)
    return Split(x[:n], y[:n])


def make_estimators(plane: PlaneConfig) -> list[MIEstimator]:
    """The configured estimators: binning, KDE bounds, mixed k-NN."""
    made: dict[str, MIEstimator] = {
        "binning": BinningEstimator(plane.n_bins, plane.binning),
        "kde": KDEEstimator(plane.kde_noise_var),
        "knn-mixed": MixedKNNEstimator(),
    }
    return [made[name] for name in plane.estimators]


def plane_layers(model: nn.Module, plane: PlaneConfig) -> list[str]:
    """Configured layers (default: every activation), plus ``output`` when asked for."""
    layers = list(plane.layers) or default_layers(model)
    return layers + [OUTPUT] if plane.include_output and OUTPUT not in layers else layers


def plane_callbacks(config: ExperimentConfig, data: Dataset, model: nn.Module,
                    run_dir: Path) -> list[Callback]:
    """InformationPlane on the probe set, and GradientStats when ``plane.dynamics``."""
    p = config.plane
    probe = probe_split(data, p)
    points = p.points or None
    callbacks: list[Callback] = [InformationPlane(
        model, probe.x, probe.y, make_estimators(p), plane_layers(model, p),
        epochs=epoch_schedule(config.train.epochs, points), path=run_dir / "plane.csv",
        max_samples={"kde": p.kde_samples} if p.kde_samples else None, background=p.executor,
    )]
    if p.dynamics:
        callbacks.append(GradientStats(run_dir / "dynamics.csv"))
    return callbacks


def plane_results(config: ExperimentConfig, data: Dataset, trainer: Trainer,
                  run_dir: Path) -> dict[str, Any]:
    """After training: peak epochs, timings, and the configured analyses (for the summary)."""
    points = read_points(run_dir / "plane.csv")
    if not points:
        return {}
    out: dict[str, Any] = {"peaks": peak_epochs(points),
                           "plane_evaluations": len({p.epoch for p in points}),
                           "estimation_seconds": round(sum(p.seconds for p in points), 3)}
    metrics: dict[str, float] = {}
    deepest = _deepest_hidden(points)
    if deepest is not None and "binning" in out["peaks"]:
        metrics["compression_bits_binning"] = out["peaks"]["binning"][deepest]["compression_bits"]
    if "optimal-curve" in config.plane.analyses:
        out["optimal_curve"] = _optimal_curve(data, config.plane, run_dir)
    if "partitions" in config.plane.analyses and deepest is not None:
        part = _partitions(config, data, trainer, run_dir, deepest)
        out["partitions"] = part
        metrics.update({k: part[k] for k in ("homogeneity", "generalisation_gap",
                                              "compression_bound")})
    out["metrics"] = metrics
    return out


def _deepest_hidden(points: list[PlanePoint]) -> str | None:
    layers = list(dict.fromkeys(p.layer for p in points if p.layer != OUTPUT))
    return layers[-1] if layers else None


def _optimal_curve(data: Dataset, plane: PlaneConfig, run_dir: Path) -> dict[str, Any]:
    probe = probe_split(data, plane)
    start = time.perf_counter()
    curve = ib_curve(joint_from_labels(probe.x, probe.y, data.n_classes))
    write_rows_csv(run_dir / "optimal_curve.csv", [
        {"beta": float(b), "I_XT_bits": float(a), "I_TY_bits": float(c)}
        for b, a, c in zip(curve.beta, curve.I_XT_bits, curve.I_TY_bits, strict=True)])
    return {"I_XY_bits": float(curve.I_XY_bits), "seconds": round(time.perf_counter() - start, 3)}


def _partitions(config: ExperimentConfig, data: Dataset, trainer: Trainer, run_dir: Path,
                layer: str) -> dict[str, Any]:
    """Cells of ``layer`` (binned) on the probe, with label shares; the input-compression
    bound against the measured generalisation gap (Tishby's survey)."""
    probe = probe_split(data, config.plane)
    t = record_activations(trainer.eval_model, [layer], probe.x)[layer]
    binning = BinningEstimator(config.plane.n_bins, config.plane.binning)
    cells = partition_cells(t.numpy(), probe.y.numpy(), binning, data.n_classes)
    write_rows_csv(run_dir / "partitions.csv", cells)
    info = binning.layer_information(t.numpy(), probe.y.numpy())
    train_err = 1.0 - trainer.evaluate(data.train)["acc"]
    test_err = 1.0 - trainer.evaluate(data.test)["acc"] if data.test is not None else np.nan
    return {"layer": layer, "cells": len(cells), "homogeneity": homogeneity(cells),
            "I_XT_bits": info["I_XT_bits"], "generalisation_gap": test_err - train_err,
            "compression_bound": compression_bound(info["I_XT_bits"], len(data.train)),
            "delta": 0.05}


class Plane(Recipe):
    """The information plane of the trained model's layers (see :class:`PlaneConfig`)."""

    name = "plane"

    def setup(self, ctx: RunContext) -> None:
        """Start from empty tables (unless resuming) and add the plane's callbacks."""
        if not ctx.resume:
            for name in ("plane.csv", "dynamics.csv"):
                (ctx.run_dir / name).unlink(missing_ok=True)
        if ctx.model is None:
            raise ConfigError("The 'plane' recipe needs a base recipe before it that builds the "
                              "model (for example recipes=classification,plane).")
        ctx.callbacks += plane_callbacks(ctx.config, ctx.data, ctx.model, ctx.run_dir)

    def finish(self, ctx: RunContext) -> None:
        """Peaks, timings and analyses into the summary's ``plane`` section."""
        add_plane_summary(ctx)


def add_plane_summary(ctx: RunContext) -> None:
    """The ``plane`` section and its metrics from ``plane.csv`` (nothing when it is empty)."""
    results = plane_results(ctx.config, ctx.data, ctx.trainer, ctx.run_dir)
    ctx.metrics.update(results.pop("metrics", {}))
    ctx.sections["plane"] = results


register_recipe(Plane())


TISHBY_HIDDEN = (10, 7, 5, 4, 3)


def tishby(preset: str = "tishby-tanh", activation: str = "tanh", epochs: int = 8000,
           points: int = 274) -> ExperimentConfig:
    """12-10-7-5-4-3-2 on the 12-bit task, the original's set-up: Adam lr 4e-4, batch 512,
    8000 epochs, 80 % of the 4,096 inputs to train, the plane on all 4,096 at 274
    log-spaced epochs, binning (30 edges on [-1, 1]) and KDE bounds (noise variance 0.1),
    estimated in a worker process (no contention with training for Python's GIL: 8,000
    short epochs are mostly Python)."""
    binning = "fixed" if activation == "tanh" else "observed"
    return ExperimentConfig(
        preset=preset,
        recipes=("classification", "plane"),
        data=DataConfig(name="tishby-12bit"),
        model=ModelConfig(hidden=TISHBY_HIDDEN, activation=activation),
        train=TrainConfig(epochs=epochs, batch_size=512, lr=4e-4, checkpoint_every=500,
                          eval_batch_size=4096, threads=1),
        plane=PlaneConfig(points=points, binning=binning, executor="process",
                          analyses=("optimal-curve",)),
    )


def tishby_relu() -> ExperimentConfig:
    """As tishby-tanh with ReLU, binned over each layer's observed range (Saxe et al.)."""
    return tishby("tishby-relu", "relu")


def tishby_fullbatch() -> ExperimentConfig:
    """As tishby-tanh with full-batch Adam (no stochastic gradients; Saxe et al.)."""
    c = tishby("tishby-fullbatch")
    c.train.batch_size = 0
    c.train.lr = 4e-3
    return c


def boolean_4bit() -> ExperimentConfig:
    """The survey's 4-bit task: rule (x1 AND x2) XOR (x3 OR x4) (the original rule was lost),
    label noise 0.07, 4-4-4-4-2 tanh, SGD, batch 16."""
    return ExperimentConfig(
        preset="boolean-4bit",
        recipes=("classification", "plane"),
        data=DataConfig(name="boolean-4bit"),
        model=ModelConfig(hidden=(4, 4, 4), activation="tanh"),
        train=TrainConfig(epochs=300, batch_size=16, optimizer="sgd", lr=0.05, momentum=0.9,
                          checkpoint_every=50, threads=1),
        plane=PlaneConfig(points=100, analyses=("partitions",)),
    )


def saxe_mnist(activation: str = "tanh") -> ExperimentConfig:
    """784-1024-20-20-20-10 on MNIST with SGD (Saxe et al.): binning on the 10,000 test
    images, KDE bounds on the first 4,096 of them, every epoch."""
    preset = "saxe-mnist" if activation == "tanh" else "saxe-mnist-relu"
    return ExperimentConfig(
        preset=preset,
        recipes=("classification", "plane"),
        data=DataConfig(name="mnist"),
        model=ModelConfig(hidden=(1024, 20, 20, 20), activation=activation),
        train=TrainConfig(epochs=20, batch_size=128, optimizer="sgd", lr=0.01, momentum=0.9),
        plane=PlaneConfig(probe="test", kde_samples=4096,
                          binning="fixed" if activation == "tanh" else "observed"),
    )


FITTING = "compression_bits_binning"
register_presets(
    Preset("tishby-tanh", "Shwartz-Ziv & Tishby's 12-bit network (12-10-7-5-4-3-2 tanh), 8000 "
           "epochs, plane at 274 epochs with binning and KDE; the optimal IB curve",
           tishby, (Expected(FITTING, 0.1, ">=", "Shwartz-Ziv & Tishby: fitting then "
                             "compression in the deepest hidden layer"),)),
    Preset("tishby-relu", "tishby-tanh with ReLU, binned over the observed range",
           tishby_relu, (Expected(FITTING, 0.1, "<=", "Saxe et al.: no compression "
                                  "phase with ReLU"),)),
    Preset("tishby-fullbatch", "tishby-tanh with full-batch Adam (no gradient noise)",
           tishby_fullbatch, (Expected(FITTING, 0.1, ">=", "Saxe et al.: tanh "
                                       "compresses without stochastic gradients"),)),
    Preset("boolean-4bit", "the survey's 4-bit boolean task, 4-4-4-4-2 tanh, label noise "
           "0.07; partitions of the last hidden layer and the compression bound",
           boolean_4bit, (Expected("test_error_pct", 12.0, "<=", "7 % label noise: "
                                   "ibkit's target"),)),
    Preset("saxe-mnist", "Saxe et al.'s MNIST network 784-1024-20-20-20-10 tanh, SGD; plane "
           "every epoch (binning on 10,000 test images, KDE on 4,096)",
           saxe_mnist, (Expected("test_error_pct", 4.0, "<=", "ibkit's run: 3.44 after 20 "
                                 "epochs; Saxe et al. report no error rate"),)),
    Preset("saxe-mnist-relu", "saxe-mnist with ReLU, binned over the observed range",
           lambda: saxe_mnist("relu"), (Expected("test_error_pct", 4.0, "<=",
                                                 "ibkit's target"),)),
)
