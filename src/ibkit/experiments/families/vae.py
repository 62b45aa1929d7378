"""The VAE family: a variational autoencoder trained on its negative ELBO in bits per dimension
(no classes). Its presets train the teacher of the teacher-student bound (Herwana & Kadian)."""

from __future__ import annotations

import torch
from torch import nn

from ibkit._io import write_rows_csv
from ibkit.data import Dataset
from ibkit.engine import TrainConfig
from ibkit.experiments.config import DataConfig, ExperimentConfig, ModelConfig, ObjectiveConfig
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
from ibkit.models import VAE
from ibkit.objectives import ELBOBits

N_SAMPLES = 64


def _vae(config: ExperimentConfig, data: Dataset) -> nn.Module:
    m = config.model
    return VAE(data.input_shape, m.bottleneck_dim, m.hidden, m.encoder, m.likelihood,
               m.activation)


@torch.no_grad()
def write_samples(model: VAE, path, seed: int) -> None:
    """``samples.csv``: the decoder's means of ``N_SAMPLES`` draws z_v ~ N(0, I), one row each
    (what :func:`ibkit.report.render_figures` draws as ``figures/samples.png``)."""
    g = torch.Generator().manual_seed(seed)
    param = next(model.parameters())
    z = torch.randn(N_SAMPLES, model.latent_dim, generator=g).to(param)
    write_image_rows(path, model.decode(z).mean, model.input_shape)


def write_image_rows(path, images: torch.Tensor, shape, source: str | None = None) -> None:
    """``samples.csv``: one row per image, its ``shape`` (``CxHxW``), an optional ``source``
    (what the images are) and the values ``v0, v1, ...``."""
    text = "x".join(str(s) for s in shape)
    head = {"shape": text, **({"source": source} if source else {})}
    write_rows_csv(path, [{**head, **{f"v{i}": float(v) for i, v in enumerate(row)}}
                          for row in images.flatten(1).cpu()])


class VAERecipe(Recipe):
    """The ``model.name=vae`` model trained on :class:`ibkit.objectives.ELBOBits`
    (``objective.beta`` weighs the KL; 1 is the ELBO)."""

    name = "vae"

    def setup(self, ctx: RunContext) -> None:
        """The model and the negative-ELBO objective."""
        ctx.model = build_model(ctx.config, ctx.data)
        ctx.objective = ELBOBits(ctx.config.objective.beta)

    def finish(self, ctx: RunContext) -> None:
        """Samples from the prior, for the figure."""
        assert ctx.trainer is not None
        model = ctx.trainer.eval_model
        if isinstance(model, VAE):
            write_samples(model, ctx.run_dir / "samples.csv", ctx.config.train.seed)


register_model("vae", _vae)
register_recipe(VAERecipe())


def _vae_digits() -> ExperimentConfig:
    return ExperimentConfig(
        preset="vae-digits",
        recipes=("vae",),
        data=DataConfig(name="digits"),
        model=ModelConfig(name="vae", hidden=(128,), bottleneck_dim=8),
        objective=ObjectiveConfig(beta=1.0),
        train=TrainConfig(epochs=40, batch_size=64, lr=2e-3),
    )


def _vae_mnist() -> ExperimentConfig:
    config = _vae_digits()
    config.preset = "vae-mnist"
    config.data = DataConfig(name="mnist")
    config.model = ModelConfig(name="vae", hidden=(512, 256), bottleneck_dim=20)
    config.train = TrainConfig(epochs=30, batch_size=128, lr=1e-3)
    return config


register_presets(
    Preset("vae-digits", "a VAE with 8 latents on the embedded digits (Bernoulli decoder on "
           "grey values), negative ELBO in bits per pixel; seconds on a CPU", _vae_digits,
           (Expected("test_nelbo_bits_per_dim", 0.6, "<=", "ibkit's own run"),)),
    Preset("vae-mnist", "the teacher of Herwana & Kadian: a VAE with 20 latents, 784-512-256 "
           "MLP encoder, on MNIST (30 epochs; the paper trains 100)", _vae_mnist,
           (Expected("test_nelbo_bits_per_dim", 0.2, "<=", "ibkit's own run"),)),
)
