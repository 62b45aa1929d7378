"""Typed configs of an experiment: data, model, training, assembled per preset."""

from __future__ import annotations

from dataclasses import dataclass, field

from ibkit.data import DATASETS
from ibkit.engine import TrainConfig
from ibkit.models import ACTIVATIONS


@dataclass
class DataConfig:
    """Which data set and how to prepare it.

    ``data_dir`` is searched first for files (``--data-dir``); ``split_seed`` fixes the
    train/validation/test split independently of the training seed.
    """

    name: str = field(default="digits", metadata={"choices": DATASETS})
    scale: str = field(default="unit", metadata={"choices": ("unit", "symmetric")})
    random_labels: bool = False
    split_seed: int = field(default=0, metadata={"min": 0})
    data_dir: str | None = None


@dataclass
class ModelConfig:
    """The network: ``mlp`` is Flatten, hidden ``Linear -> activation`` layers, linear output."""

    name: str = field(default="mlp", metadata={"choices": ("mlp",)})
    hidden: tuple[int, ...] = field(default=(64,), metadata={"min": 1})
    activation: str = field(default="relu", metadata={"choices": tuple(ACTIVATIONS)})


@dataclass
class ExperimentConfig:
    """A whole experiment; ``preset`` names the preset it came from."""

    preset: str
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
