"""The compression part of a run: gates before training; prune, export, report, fine-tune after."""

from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path
from typing import Any

from torch import nn

from ibkit._errors import ConfigError
from ibkit._io import write_rows_csv
from ibkit.compress import (
    VIBNetObjective,
    add_gates,
    compression_report,
    export_pruned,
    gate_name,
    prune_gates,
    save_exported,
)
from ibkit.data import Dataset
from ibkit.engine import Trainer, cross_entropy
from ibkit.experiments.config import CompressConfig, ExperimentConfig


def gated_model(model: nn.Module, data: Dataset, c: CompressConfig) -> nn.Sequential:
    """``model`` with gates after ``c.gates``."""
    if not c.gates:
        raise ConfigError("The 'compress.gates' parameter is empty: name the modules to gate "
                          "(for example input,act1,act2).")
    if not isinstance(model, nn.Sequential):
        raise ConfigError(f"Compression needs a sequential model; {type(model).__name__} is not.")
    return add_gates(model, c.gates, data.train.x[:8], c.threshold)


def pretrain_dense(model: nn.Module, data: Dataset, config: ExperimentConfig,
                   run_dir: Path, resume: bool) -> dict[str, Any]:
    """Train the dense ``model`` in place with cross-entropy for ``compress.pretrain_epochs``
    epochs (checkpoints and metrics in ``run_dir/pretrain``; resumed from there when
    ``resume``); return its last epoch's metrics and time (empty when there is no phase)."""
    c = config.compress
    if not c.pretrain_epochs:
        return {}
    train = dataclasses.replace(config.train, epochs=c.pretrain_epochs, lr=c.pretrain_lr,
                                ema_decay=0.0)
    out = run_dir / "pretrain"
    trainer = Trainer(model, data, train, cross_entropy, run_dir=out)
    trainer.fit(resume=resume and (out / "checkpoints" / "last.pt").is_file())
    last = trainer.history[-1] if trainer.history else {}
    return {"seconds": round(sum(trainer.epoch_seconds), 2), **error_pcts(last, "pretrained")}


def error_pcts(row: dict[str, float], prefix: str) -> dict[str, float]:
    """``{prefix}_{split}_error_pct`` in per cent for the val and test accuracies in ``row``."""
    return {f"{prefix}_{split}_error_pct": 100.0 * (1.0 - row[f"{split}_acc"])
            for split in ("val", "test") if f"{split}_acc" in row}


def gate_gammas(c: CompressConfig) -> dict[str, float]:
    """Gate name -> gamma (one value for every gate, or one per gate)."""
    if len(c.gamma) not in (1, len(c.gates)):
        raise ConfigError(f"The 'compress.gamma' parameter needs 1 or {len(c.gates)} values (one "
                          f"per gate). Got {len(c.gamma)}: {c.gamma}.")
    values = c.gamma * len(c.gates) if len(c.gamma) == 1 else c.gamma
    return {gate_name(g): float(v) for g, v in zip(c.gates, values, strict=True)}


def vibnet_objective(config: ExperimentConfig, data: Dataset) -> VIBNetObjective:
    """Objective (*) with the configured gammas."""
    c = config.compress
    return VIBNetObjective(gate_gammas(c), len(data.train), c.gamma_warmup_epochs,
                           c.gate_lr or None)


def finish_compression(config: ExperimentConfig, data: Dataset, dense: nn.Module,
                       trainer: Trainer, run_dir: Path) -> dict[str, Any]:
    """Prune the evaluated model, export it, report r_W, r_N, FLOPs and errors, fine-tune."""
    gated = copy.deepcopy(trainer.eval_model).cpu()
    kept = prune_gates(gated)
    example = data.train.x[:64]
    exported = export_pruned(gated, example)
    report = compression_report(dense.cpu(), gated, exported, data.train.x[:1])
    out_dir = run_dir / "exported"
    save_exported(exported, out_dir)
    write_rows_csv(run_dir / "compression.csv", [
        {"gate": n, "kept": k, "units": u, "kept_pct": 100.0 * k / u} for n, (k, u) in kept.items()])
    metrics = {"r_W_pct": report.r_W_pct, "r_N_pct": report.r_N_pct,
               "r_N_positions_pct": report.r_N_positions_pct,
               "flops_after": float(report.flops_after)}
    evaluate = Trainer(exported, data, dataclasses.replace(config.train, ema_decay=0.0,
                                                           progress=False), cross_entropy)
    for split in ("val", "test"):
        if getattr(data, split) is not None:
            acc = evaluate.evaluate(getattr(data, split))["acc"]
            metrics[f"exported_{split}_error_pct"] = 100.0 * (1.0 - acc)
    result: dict[str, Any] = {"report": report.as_dict(), "exported_dir": str(out_dir)}
    c = config.compress
    if c.finetune_epochs:
        start = time.perf_counter()
        schedule = "cosine" if c.finetune_schedule == "cosine" else "step"
        tune = dataclasses.replace(config.train, epochs=c.finetune_epochs, lr=c.finetune_lr,
                                   lr_decay=1.0, lr_schedule=schedule, ema_decay=0.0)
        ft = Trainer(exported, data, tune, cross_entropy, run_dir=run_dir / "finetune")
        ft.fit()
        save_exported(ft.model.cpu().eval(), run_dir / "finetune")
        metrics.update(error_pcts(ft.history[-1], "finetuned"))
        result["finetune_seconds"] = round(time.perf_counter() - start, 2)
    result["metrics"] = metrics
    return result
