"""The papers' architectures as ``nn.Module``s."""

from ibkit.models.autoencoder import Autoencoder
from ibkit.models.convnets import lenet5_caffe, vgg16_cifar
from ibkit.models.mlp import ACTIVATIONS, MLP, make_activation
from ibkit.models.vae import VAE, VAEOutput
from ibkit.models.vib import (
    EVAL_MODES,
    DeterministicClassifier,
    VIBClassifier,
    VIBOutput,
    encoder_mlp,
)

__all__ = [
    "ACTIVATIONS",
    "EVAL_MODES",
    "MLP",
    "VAE",
    "VAEOutput",
    "Autoencoder",
    "DeterministicClassifier",
    "VIBClassifier",
    "VIBOutput",
    "encoder_mlp",
    "lenet5_caffe",
    "vgg16_cifar",
    "make_activation",
]
