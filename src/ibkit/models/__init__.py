"""The papers' architectures as ``nn.Module``s."""

from ibkit.models.autoencoder import Autoencoder
from ibkit.models.convnets import lenet5_caffe, vgg16_cifar
from ibkit.models.hybrid_vae import BOTTLENECKS, HybridVAE, HybridVAEOutput
from ibkit.models.mlp import ACTIVATIONS, MLP, make_activation
from ibkit.models.pixel_likelihoods import (
    PIXEL_LIKELIHOODS,
    discretized_logistic_nll_nats,
    pixel_nll_nats,
)
from ibkit.models.pixelcnn import MaskedConv2d, PixelCNN, causal_mask
from ibkit.models.vae import (
    VAE,
    VAEOutput,
    diagonal_gaussian,
    make_encoder,
    standard_normal_kl_nats,
)
from ibkit.models.vib import (
    EVAL_MODES,
    CEBClassifier,
    DeterministicClassifier,
    VIBClassifier,
    VIBOutput,
    encoder_mlp,
)

__all__ = [
    "ACTIVATIONS",
    "BOTTLENECKS",
    "CEBClassifier",
    "PIXEL_LIKELIHOODS",
    "HybridVAE",
    "HybridVAEOutput",
    "MaskedConv2d",
    "PixelCNN",
    "causal_mask",
    "diagonal_gaussian",
    "discretized_logistic_nll_nats",
    "make_encoder",
    "pixel_nll_nats",
    "standard_normal_kl_nats",
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
