"""The papers' architectures as ``nn.Module``s."""

from ibkit.models.mlp import ACTIVATIONS, MLP, make_activation
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
    "DeterministicClassifier",
    "VIBClassifier",
    "VIBOutput",
    "encoder_mlp",
    "make_activation",
]
