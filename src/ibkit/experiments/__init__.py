"""Presets (typed configs with expected results), the run directory, and the runner."""

from ibkit.experiments.config import DataConfig, ExperimentConfig, ModelConfig
from ibkit.experiments.presets import PRESETS, Expected, Preset, get_preset
from ibkit.experiments.rundir import RunDirectory
from ibkit.experiments.runner import build_model, resolve_config, run

__all__ = [
    "PRESETS",
    "DataConfig",
    "ExperimentConfig",
    "Expected",
    "ModelConfig",
    "Preset",
    "RunDirectory",
    "build_model",
    "get_preset",
    "resolve_config",
    "run",
]
