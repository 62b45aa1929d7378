"""A small masked PixelCNN (van den Oord et al. 2016), the autoregressive path of the hybrid VAE.

Pixels are ordered in raster order (row by row, left to right). The first convolution uses
mask ``A`` (a pixel sees only the pixels before it), the later ones mask ``B`` (also their own
position, whose features already depend only on earlier pixels), so output j depends on
x_<j only. All colour channels of a pixel are predicted together from the earlier pixels
(PixelCNN++ also conditions them on each other; this one does not). The vertical blind spot of
the original PixelCNN remains (no gated two-stack design): it is a small model for CPUs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ibkit._errors import param_error

MASK_TYPES = ("A", "B")


def causal_mask(kernel_size: int, mask_type: str) -> torch.Tensor:
    """The ``(k, k)`` 0/1 mask of a causal convolution: the rows above the centre, and the
    centre row left of the centre (``A``) or up to and including it (``B``).

    Example:
        >>> causal_mask(3, "A").tolist()
        [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    if mask_type not in MASK_TYPES:
        raise param_error("mask_type", "causal_mask", f"one of {MASK_TYPES}", mask_type)
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise param_error("kernel_size", "causal_mask", "an odd int >= 1", kernel_size)
    mask = torch.zeros(kernel_size, kernel_size)
    c = kernel_size // 2
    mask[:c] = 1.0
    mask[c, : c + (mask_type == "B")] = 1.0
    return mask


class MaskedConv2d(nn.Conv2d):
    """A 'same'-padded convolution whose kernel is multiplied by :func:`causal_mask` on every
    call (so the masked weights get no gradient and can never leak the future)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 mask_type: str) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.mask_type = mask_type
        self.mask: torch.Tensor
        self.register_buffer("mask", causal_mask(kernel_size, mask_type), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The masked convolution of ``x``, ``(batch, in, H, W) -> (batch, out, H, W)``."""
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCNN(nn.Module):
    """Masked convolutions from the image to ``out_channels`` features per pixel, conditioned
    on per-pixel features ``cond`` that do not depend on the image (the decoded VAE latents u).

    h_1 = ELU(A7x7(x) + W_1 u); h_l = h_(l-1) + ELU(B3x3(h_(l-1)) + W_l u); v = B1x1(h_L),
    W_l a 1x1 convolution of u.

    Args:
        in_channels: the image's channels.
        cond_channels: channels of ``cond`` (0: unconditioned).
        channels: width of the hidden layers.
        layers: number of masked layers (the first with mask A), >= 1.
        out_channels: size of v_j, the output per pixel.

    Example:
        >>> net = PixelCNN(1, 4, channels=8, layers=2, out_channels=3)
        >>> net(torch.zeros(2, 1, 6, 6), torch.zeros(2, 4, 6, 6)).shape
        torch.Size([2, 3, 6, 6])
    """

    def __init__(self, in_channels: int, cond_channels: int, channels: int = 32,
                 layers: int = 5, out_channels: int = 4) -> None:
        super().__init__()
        for name, value, low in (("in_channels", in_channels, 1), ("cond_channels",
                                 cond_channels, 0), ("channels", channels, 1),
                                 ("layers", layers, 1), ("out_channels", out_channels, 1)):
            if value < low:
                raise param_error(name, "PixelCNN", f"an int >= {low}", value)
        self.first = MaskedConv2d(in_channels, channels, 7, "A")
        self.hidden = nn.ModuleList(MaskedConv2d(channels, channels, 3, "B")
                                    for _ in range(layers - 1))
        self.cond = nn.ModuleList(nn.Conv2d(cond_channels, channels, 1)
                                  for _ in range(layers)) if cond_channels else None
        self.out = MaskedConv2d(channels, out_channels, 1, "B")

    def _cond(self, i: int, cond: torch.Tensor | None) -> torch.Tensor | float:
        return 0.0 if self.cond is None or cond is None else self.cond[i](cond)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """v, ``(batch, out_channels, H, W)``; v at pixel j depends on x_<j and ``cond``."""
        h = F.elu(self.first(x) + self._cond(0, cond))
        for i, layer in enumerate(self.hidden, start=1):
            h = h + F.elu(layer(h) + self._cond(i, cond))
        return self.out(h)
