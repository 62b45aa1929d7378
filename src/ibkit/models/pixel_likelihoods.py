"""Per-pixel likelihoods of image decoders, in nats: Bernoulli for binarised images, a
discretised logistic for 8-bit grey values (Salimans et al. 2017, one component)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ibkit._errors import param_error

PIXEL_LIKELIHOODS = ("bernoulli", "logistic")
"""``bernoulli``: one logit per value; ``logistic``: a mean and a log scale per value."""


def params_per_value(likelihood: str) -> int:
    """How many decoder outputs one pixel value needs under ``likelihood``."""
    if likelihood not in PIXEL_LIKELIHOODS:
        raise param_error("likelihood", "the pixel likelihood", f"one of {PIXEL_LIKELIHOODS}",
                          likelihood)
    return 1 if likelihood == "bernoulli" else 2


def bernoulli_nll_nats(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-ln p(x) per value for x in {0, 1}: the binary cross-entropy of the logits."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none")


def discretized_logistic_nll_nats(mean: torch.Tensor, log_scale: torch.Tensor, x: torch.Tensor,
                                  levels: int = 256) -> torch.Tensor:
    """-ln P(x) per value for x on the grid {0, 1/(levels-1), ..., 1}:

        P(x) = F((x + d - mean) / s) - F((x - d - mean) / s),   d = 1 / (2 (levels - 1)),

    F the logistic CDF, with the whole tail below the first level and above the last one
    given to them (so the levels' probabilities sum to 1). ``log_scale`` is clamped at -7.

    Example:
        >>> nll = discretized_logistic_nll_nats(torch.zeros(3), torch.zeros(3),
        ...                                     torch.tensor([0.0, 0.5, 1.0]))
        >>> bool((nll > 0).all())
        True
    """
    half = 1.0 / (2 * (levels - 1))
    inv_s = torch.exp(-log_scale.clamp(min=-7.0))
    centred = x - mean
    upper, lower = (centred + half) * inv_s, (centred - half) * inv_s
    # log(F(u) - F(l)) computed on the side where both are small (F(u)-F(l) = F(-l)-F(-u)).
    flip = (upper + lower) > 0
    a, b = torch.where(flip, -lower, upper), torch.where(flip, -upper, lower)
    log_fa, log_fb = F.logsigmoid(a), F.logsigmoid(b)
    diff = log_fa + torch.log1p(-torch.exp(log_fb - log_fa).clamp(max=1 - 1e-12))
    mid = centred * inv_s  # fallback for extreme scales: density at x times the bin width
    density = mid - 2 * F.softplus(mid) - log_scale.clamp(min=-7.0) + math.log(2 * half)
    interior = torch.where(torch.isfinite(diff) & (diff > -30), diff, density)
    log_p = torch.where(x <= half, F.logsigmoid(upper),
                        torch.where(x >= 1 - half, F.logsigmoid(-lower), interior))
    return -log_p


def pixel_nll_nats(params: torch.Tensor, x: torch.Tensor, likelihood: str) -> torch.Tensor:
    """-ln p(x) summed over each example's values, ``(batch,)``; ``params`` is ``(batch,
    k * C, H, W)`` with k = :func:`params_per_value` (the logistic's means first)."""
    if likelihood == "bernoulli":
        nll = bernoulli_nll_nats(params, x)
    else:
        mean, log_scale = params.chunk(2, dim=1)
        nll = discretized_logistic_nll_nats(mean, log_scale, x)
    return nll.flatten(1).sum(1)


def sample_pixels(params: torch.Tensor, likelihood: str,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """One draw of the pixel values from ``params`` (the same layout as
    :func:`pixel_nll_nats`), on the grid of the likelihood."""
    if likelihood == "bernoulli":
        u = torch.rand(params.shape, generator=generator).to(params)
        return (u < torch.sigmoid(params)).to(params.dtype)
    mean, log_scale = params.chunk(2, dim=1)
    u = torch.rand(mean.shape, generator=generator).to(mean).clamp(1e-5, 1 - 1e-5)
    value = mean + log_scale.clamp(min=-7.0).exp() * (u.log() - torch.log1p(-u))
    return (value.clamp(0.0, 1.0) * 255).round() / 255
