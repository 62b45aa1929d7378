"""The papers' architectures as ``nn.Module``s."""

from ibkit.models.mlp import ACTIVATIONS, MLP, make_activation

__all__ = ["ACTIVATIONS", "MLP", "make_activation"]
