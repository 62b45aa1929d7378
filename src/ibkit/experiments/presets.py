"""Presets: one per reproduced result, each a typed config and its expected result."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from ibkit._errors import ConfigError
from ibkit.engine import TrainConfig
from ibkit.experiments.config import DataConfig, ExperimentConfig, ModelConfig

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
    """A named experiment: a config factory, a one-line description and expected results."""

    name: str
    description: str
    make_config: Callable[[], ExperimentConfig]
    expected: tuple[Expected, ...] = ()


def _demo() -> ExperimentConfig:
    return ExperimentConfig(
        preset="demo",
        data=DataConfig(name="digits"),
        model=ModelConfig(hidden=(128, 64), activation="relu"),
        train=TrainConfig(epochs=30, batch_size=64, lr=1e-3),
    )


def _digits_random_labels() -> ExperimentConfig:
    config = _demo()
    config.preset = "digits-random-labels"
    config.data.random_labels = True
    return config


PRESETS: dict[str, Preset] = {
    "demo": Preset(
        "demo",
        "MLP 64-128-64-10 on the embedded 8x8 digits, 30 epochs, under a minute on a CPU",
        _demo,
        (Expected("test_acc", 0.95, ">=", "ibkit's own run"),),
    ),
    "digits-random-labels": Preset(
        "digits-random-labels",
        "the demo with labels drawn independently of the inputs: nothing to learn "
        "(Herwana & Kadian's zero-information sanity run)",
        _digits_random_labels,
        (Expected("test_acc", 0.2, "<=", "chance is 0.1"),),
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ConfigError listing the presets otherwise."""
    if name not in PRESETS:
        raise ConfigError(
            f"Unknown preset {name!r}. Allowed presets: {', '.join(sorted(PRESETS))}."
        )
    return PRESETS[name]
