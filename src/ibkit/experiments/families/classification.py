"""The classification family: the papers' deterministic networks trained with cross-entropy,
and the digits presets that run in seconds."""

from __future__ import annotations

from torch import nn

from ibkit.data import Dataset
from ibkit.engine import TrainConfig
from ibkit.experiments.config import DataConfig, ExperimentConfig, ModelConfig
from ibkit.experiments.registry import (
    Expected,
    Preset,
    Recipe,
    RunContext,
    build_model,
    register_model,
    register_presets,
    register_recipe,
)
from ibkit.models import MLP, DeterministicClassifier, lenet5_caffe, vgg16_cifar
from ibkit.objectives import cross_entropy


def _mlp(config: ExperimentConfig, data: Dataset) -> nn.Module:
    m = config.model
    return MLP(data.input_dim, m.hidden, data.n_classes, m.activation)


def _deterministic(config: ExperimentConfig, data: Dataset) -> nn.Module:
    m = config.model
    return DeterministicClassifier(data.input_dim, m.hidden, m.bottleneck_dim, data.n_classes,
                                   m.activation)


def _lenet5(config: ExperimentConfig, data: Dataset) -> nn.Module:
    return lenet5_caffe(data.n_classes, data.train.x.shape[1])


def _vgg16(config: ExperimentConfig, data: Dataset) -> nn.Module:
    hidden = config.model.hidden
    return vgg16_cifar(data.n_classes, hidden[0] / 512 if hidden else 1.0)


class Classification(Recipe):
    """The model named by ``model.name``, trained with cross-entropy."""

    name = "classification"

    def setup(self, ctx: RunContext) -> None:
        """Build the model; the objective is cross-entropy."""
        ctx.model = build_model(ctx.config, ctx.data)
        ctx.objective = cross_entropy


for _name, _builder in (("mlp", _mlp), ("deterministic", _deterministic), ("lenet5", _lenet5),
                        ("vgg16", _vgg16)):
    register_model(_name, _builder)
register_recipe(Classification())


def digits_mlp(preset: str = "digits-mlp") -> ExperimentConfig:
    """MLP 64-128-64-10 on the embedded 8x8 digits, 30 epochs."""
    return ExperimentConfig(
        preset=preset,
        data=DataConfig(name="digits"),
        model=ModelConfig(hidden=(128, 64), activation="relu"),
        train=TrainConfig(epochs=30, batch_size=64, lr=1e-3),
    )


def _digits_random_labels() -> ExperimentConfig:
    config = digits_mlp("digits-random-labels")
    config.data.random_labels = True
    return config


register_presets(
    Preset("digits-mlp", "MLP 64-128-64-10 on the embedded 8x8 digits, 30 epochs, seconds on a CPU",
           digits_mlp, (Expected("test_acc", 0.95, ">=", "ibkit's own run"),)),
    Preset("digits-random-labels",
           "digits-mlp with labels drawn independently of the inputs: nothing to learn "
           "(Herwana & Kadian's zero-information sanity run)",
           _digits_random_labels, (Expected("test_acc", 0.2, "<=", "chance is 0.1"),)),
)
