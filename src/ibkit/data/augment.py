"""Training-time data augmentation on image batches (no torchvision needed)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ibkit._errors import param_error


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image of ``x`` by its own random whole-pixel offset.

    Each example gets ``(dy, dx)`` drawn uniformly from ``{-max_shift, ..., max_shift}``;
    pixels moved in from outside the frame take the batch's smallest value (the
    background of MNIST in either scaling). Equivalent to padding by ``max_shift`` and a
    random crop of the original size.

    Args:
        x: images ``(batch, channels, height, width)``.
        max_shift: largest offset in pixels, ``>= 0`` (0 returns ``x`` unchanged).
        generator: CPU generator the offsets are drawn from (seed it for reproducibility).

    Returns:
        A tensor of ``x``'s shape, dtype and device.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> random_shift(torch.ones(2, 1, 4, 4), 1, g).shape
        torch.Size([2, 1, 4, 4])
    """
    if x.dim() != 4:
        raise param_error("x", "random_shift", "a 4-d batch (batch, channels, height, width)",
                          tuple(x.shape))
    if not isinstance(max_shift, int) or max_shift < 0:
        raise param_error("max_shift", "random_shift", "an int >= 0", max_shift)
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    s = max_shift
    offsets = torch.randint(-s, s + 1, (2, n), generator=generator).to(x.device)
    rows = (torch.arange(h, device=x.device) + s)[None, :] - offsets[0][:, None]  # (n, h)
    cols = (torch.arange(w, device=x.device) + s)[None, :] - offsets[1][:, None]  # (n, w)
    padded = F.pad(x, (s, s, s, s), value=float(x.min()))
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]
