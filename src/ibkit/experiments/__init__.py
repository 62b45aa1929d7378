"""Experiments: recipes and presets registered by the families, the run directory, the runner.

Importing this package registers every family of :mod:`ibkit.experiments.families`.
"""

from ibkit.experiments import families
from ibkit.experiments.config import DataConfig, ExperimentConfig, ModelConfig
from ibkit.experiments.registry import (
    PRESETS,
    RECIPES,
    SWEEP_PRESETS,
    Expected,
    Preset,
    Recipe,
    RunContext,
    SweepPreset,
    build_model,
    get_preset,
    register_model,
    register_presets,
    register_recipe,
    register_sweep_presets,
)
from ibkit.experiments.rundir import RunDirectory
from ibkit.experiments.runner import resolve_config, run

__all__ = [
    "PRESETS",
    "RECIPES",
    "SWEEP_PRESETS",
    "SweepPreset",
    "register_sweep_presets",
    "DataConfig",
    "ExperimentConfig",
    "Expected",
    "ModelConfig",
    "Preset",
    "Recipe",
    "RunContext",
    "RunDirectory",
    "build_model",
    "families",
    "get_preset",
    "register_model",
    "register_presets",
    "register_recipe",
    "resolve_config",
    "run",
]
