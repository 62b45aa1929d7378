"""The information-plane part of a run: callbacks during training, analyses and tables after."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ibkit._io import write_rows_csv
from ibkit.data import Dataset, Split
from ibkit.engine import Callback, Trainer
from ibkit.estimators import BinningEstimator, KDEEstimator, MIEstimator, MixedKNNEstimator
from ibkit.experiments.config import ExperimentConfig, PlaneConfig
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
    record_activations,
)
from ibkit.plane.tracker import _write_points


def probe_split(data: Dataset, plane: PlaneConfig) -> Split:
    """The inputs and labels the plane is measured on (see :class:`PlaneConfig`)."""
    parts = {"train": [data.train], "test": [data.test],
             "all": [data.train, data.val, data.test]}[plane.probe]
    parts = [p for p in parts if p is not None]
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
        _write_points(self.path, [PlanePoint(
            epoch, "bottleneck", "variational", row[f"{split}_kl_bits"],
            row[f"{split}_izy_lower_bits"], "upper_bound", "lower_bound", n, 0.0)], mode="a")

    def load_state_dict(self, state: dict) -> None:
        """Resume: rows after the checkpoint are written again, so drop them."""
        from ibkit.plane import read_points

        last = int(state.get("last_epoch", 0))
        _write_points(self.path, [p for p in read_points(self.path) if p.epoch <= last], "w")

    def state_dict(self) -> dict:
        """Nothing to restore beyond the epoch (taken from the file on resume)."""
        from ibkit.plane import read_points

        return {"last_epoch": max((p.epoch for p in read_points(self.path)), default=0)}


def plane_callbacks(config: ExperimentConfig, data: Dataset, model: nn.Module,
                    run_dir: Path) -> list[Callback]:
    """The callbacks of the plane: InformationPlane and GradientStats, or VariationalPlane."""
    if config.model.name == "vib":
        return [VariationalPlane(run_dir / "plane.csv")]
    p = config.plane
    if not p.enabled:
        return []
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
    from ibkit.plane import read_points

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
