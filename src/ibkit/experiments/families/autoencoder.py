"""The autoencoder family: a generative toy that trains through the same engine with no classes
(reconstruction in bits per dimension), the proof that a family is one module."""

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
from ibkit.models import Autoencoder
from ibkit.objectives import ReconstructionBits


def _autoencoder(config: ExperimentConfig, data: Dataset) -> nn.Module:
    m = config.model
    return Autoencoder(data.input_dim, m.hidden, m.bottleneck_dim, m.activation)


class AutoencoderRecipe(Recipe):
    """The ``model.name=autoencoder`` model trained to reconstruct its inputs."""

    name = "autoencoder"

    def setup(self, ctx: RunContext) -> None:
        """The model and the reconstruction objective."""
        ctx.model = build_model(ctx.config, ctx.data)
        ctx.objective = ReconstructionBits()


register_model("autoencoder", _autoencoder)
register_recipe(AutoencoderRecipe())


def _autoencoder_digits() -> ExperimentConfig:
    return ExperimentConfig(
        preset="autoencoder-digits",
        recipes=("autoencoder",),
        data=DataConfig(name="digits"),
        model=ModelConfig(name="autoencoder", hidden=(64,), bottleneck_dim=8),
        train=TrainConfig(epochs=20, batch_size=64, lr=2e-3),
    )


register_presets(Preset(
    "autoencoder-digits",
    "a 64-64-8 autoencoder on the embedded digits, reconstruction in bits per pixel "
    "(the engine without classes); seconds on a CPU",
    _autoencoder_digits,
    (Expected("test_recon_bits_per_dim", 0.5, "<=", "ibkit's own run: 0.42"),),
))
