"""Pixel scaling shared by the image data sets."""

from __future__ import annotations

import torch

from ibkit._errors import param_error

SCALES = ("unit", "symmetric")


def scale_pixels(raw: torch.Tensor, max_value: float, scale: str) -> torch.Tensor:
    """Map raw pixel values in ``[0, max_value]`` to float32.

    ``scale="unit"`` gives ``[0, 1]`` (x / max); ``scale="symmetric"`` gives
    ``[-1, 1]`` (2 x / max - 1), the scaling of the Deep VIB authors' demo.

    Example:
        >>> scale_pixels(torch.tensor([0, 255]), 255, "symmetric").tolist()
        [-1.0, 1.0]
    """
    if scale not in SCALES:
        raise param_error("scale", "the image loaders", f"one of {SCALES}", scale)
    x = raw.to(torch.float32) / max_value
    return x * 2 - 1 if scale == "symmetric" else x
