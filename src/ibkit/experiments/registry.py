"""What experiment families register: recipes, presets (typed config + expected results) and
model builders. The runner composes what is registered and knows no family by name.

A family is one module of :mod:`ibkit.experiments.families` that calls :func:`register_recipe`,
:func:`register_presets` and, for new architectures, :func:`register_model` at import.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from ibkit._errors import ConfigError
from ibkit.callbacks import Callback
from ibkit.data import Dataset
from ibkit.experiments.config import ExperimentConfig
from ibkit.objectives import Objective, cross_entropy

_OPS = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Expected:
    """An expected result: ``metric`` (a key of the summary's ``final``) compared with ``value``.

    ``op`` is ``"<="``, ``">="`` or ``"~"`` (within ``tolerance``); ``source`` says
    where the number comes from (paper, table, or our own measurement).
    """

    metric: str
    value: float
    op: str
    source: str
    tolerance: float = 0.0

    def met(self, measured: float) -> bool:
        """Whether ``measured`` satisfies the expectation."""
        if self.op == "~":
            return abs(measured - self.value) <= self.tolerance
        return bool(_OPS[self.op](measured, self.value))

    def describe(self) -> str:
        """One line, for example ``test_error_pct <= 1.25 (paper)``."""
        tol = f" +/- {self.tolerance:g}" if self.op == "~" else ""
        return f"{self.metric} {self.op} {self.value:g}{tol} ({self.source})"


@dataclass(frozen=True)
class Preset:
    """A named experiment: a config factory (whose ``recipes`` say what the run composes),
    a one-line description and expected results."""

    name: str
    description: str
    make_config: Callable[[], ExperimentConfig]
    expected: tuple[Expected, ...] = ()


@dataclass(frozen=True)
class SweepPreset:
    """A named sweep (``ibkit sweep NAME``): the preset every point runs and its points, each a
    dict of dotted config keys to value texts. Points need not share keys, so one sweep can
    compare model variants (a bottleneck type with its own strength parameter, baselines
    without one); a point with ``train.seed`` is a further seed of the point without it."""

    name: str
    preset: str
    description: str
    points: tuple[dict[str, str], ...]


@dataclass
class RunContext:
    """What the recipes of one run build up, in order, and the runner hands to the trainer.

    Attributes:
        config, data, run_dir, resume: the run's resolved config, data set, directory and
            whether it continues from a checkpoint.
        model, objective, callbacks: what the trainer trains (a base recipe sets the model
            and objective; later recipes may replace them, as compression gates the model).
        trainer: set by the runner once training has finished.
        metrics: entries added to the summary's ``final`` metrics.
        sections: further summary sections (``plane``, ``compression``, ...).
        state: anything a recipe keeps from ``setup`` to ``finish`` (by recipe name).
    """

    config: ExperimentConfig
    data: Dataset
    run_dir: Path
    resume: bool
    model: nn.Module | None = None
    objective: Objective = cross_entropy
    callbacks: list[Callback] = field(default_factory=list)
    trainer: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


class Recipe:
    """One piece of a run: ``setup`` before training (model, objective, callbacks, phases
    such as pretraining) and ``finish`` after it (analyses, files, summary entries)."""

    name = "recipe"

    def setup(self, ctx: RunContext) -> None:
        """Add to ``ctx`` before the trainer is built."""

    def finish(self, ctx: RunContext) -> None:
        """Add to ``ctx`` (metrics, sections, files in ``ctx.run_dir``) after training."""


PRESETS: dict[str, Preset] = {}
SWEEP_PRESETS: dict[str, SweepPreset] = {}
RECIPES: dict[str, Recipe] = {}
MODEL_BUILDERS: dict[str, Callable[[ExperimentConfig, Dataset], nn.Module]] = {}


def register_recipe(recipe: Recipe) -> Recipe:
    """Make ``recipe`` available to configs as ``recipes=(..., recipe.name)``."""
    RECIPES[recipe.name] = recipe
    return recipe


def register_presets(*presets: Preset) -> None:
    """Add presets (their names must be new)."""
    for p in presets:
        if p.name in PRESETS:
            raise ValueError(f"Preset {p.name!r} is registered twice.")
        PRESETS[p.name] = p


def register_sweep_presets(*sweeps: SweepPreset) -> None:
    """Add named sweeps (their names must be new, and not those of presets)."""
    for s in sweeps:
        if s.name in SWEEP_PRESETS or s.name in PRESETS:
            raise ValueError(f"Sweep preset {s.name!r} is registered twice.")
        if not s.points:
            raise ValueError(f"Sweep preset {s.name!r} has no points.")
        SWEEP_PRESETS[s.name] = s


def register_model(name: str, builder: Callable[[ExperimentConfig, Dataset], nn.Module]) -> None:
    """Make ``model.name=name`` build ``builder(config, data)``."""
    MODEL_BUILDERS[name] = builder


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ConfigError listing the presets otherwise."""
    if name not in PRESETS:
        raise ConfigError(
            f"Unknown preset {name!r}. Allowed presets: {', '.join(sorted(PRESETS))}."
        )
    return PRESETS[name]


def get_recipes(config: ExperimentConfig) -> list[Recipe]:
    """The recipes ``config.recipes`` names, in order; ConfigError for an unknown one."""
    unknown = [r for r in config.recipes if r not in RECIPES]
    if unknown or not config.recipes:
        raise ConfigError(f"The 'recipes' parameter must name one or more of "
                          f"{tuple(RECIPES)}. Got {config.recipes!r} instead.")
    return [RECIPES[r] for r in config.recipes]


def check_model_name(config: ExperimentConfig) -> None:
    """ConfigError unless ``config.model.name`` is a registered model."""
    if config.model.name not in MODEL_BUILDERS:
        raise ConfigError(f"The 'model.name' parameter must be one of {tuple(MODEL_BUILDERS)}. "
                          f"Got {config.model.name!r} instead.")


def build_model(config: ExperimentConfig, data: Dataset) -> nn.Module:
    """The model named by ``config.model.name``, sized for ``data``."""
    check_model_name(config)
    return MODEL_BUILDERS[config.model.name](config, data)
