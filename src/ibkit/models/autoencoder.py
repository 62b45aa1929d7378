"""A small fully connected autoencoder: the toy generative model of the engine's tests and
of the ``autoencoder`` family (no classes, no accuracy)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ibkit.models.mlp import make_activation
from ibkit.models.vib import encoder_mlp


class Autoencoder(nn.Module):
    """Flatten -> encoder MLP -> a ``code_dim`` code -> decoder MLP -> one logit per input value.

    Args:
        input_dim: values per example once flattened (64 for the 8x8 digits).
        hidden: widths of the encoder; the decoder mirrors them.
        code_dim: width of the code.
        activation: the non-linearity of both halves.

    The output has the input's flattened shape ``(batch, input_dim)``: logits of Bernoulli
    parameters, one per input value (see :class:`ibkit.objectives.ReconstructionBits`).

    Example:
        >>> Autoencoder(64, (16,), 4)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 64])
    """

    def __init__(self, input_dim: int, hidden: Sequence[int], code_dim: int,
                 activation: str = "relu") -> None:
        super().__init__()
        if input_dim < 1 or code_dim < 1:
            raise ValueError(f"Autoencoder needs input_dim >= 1 and code_dim >= 1. Got "
                             f"input_dim={input_dim}, code_dim={code_dim}.")
        self.encoder = encoder_mlp(input_dim, hidden, activation)
        self.code = nn.Linear(hidden[-1] if hidden else input_dim, code_dim)
        layers: list[nn.Module] = []
        width = code_dim
        for h in reversed(tuple(hidden)):
            layers += [nn.Linear(width, h), make_activation(activation)]
            width = h
        self.decoder = nn.Sequential(*layers, nn.Linear(width, input_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction logits ``(batch, input_dim)``."""
        return self.decoder(self.code(self.encoder(x)))
