"""The two small modules an exported model may hold besides its own layers."""

from __future__ import annotations

import torch
from torch import nn


class Select(nn.Module):
    """Keep input units ``indices`` (dimension 1): the exported form of an input gate."""

    def __init__(self, indices: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("indices", torch.as_tensor(indices, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x[:, indices]``."""
        return x.index_select(1, self.get_buffer("indices"))


class Scale(nn.Module):
    """Multiply unit (or channel) j by ``scale[j]``: a gate's ``mu`` where it cannot be folded
    into the next layer (a negative mu before max-pooling, any mu before tanh)."""

    def __init__(self, scale: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * scale`` over dimension 1."""
        return x * self.get_buffer("scale").view((1, -1) + (1,) * (x.dim() - 2))
