"""The Gaussian-dropout information bottleneck (seed 004, Theorem 1).

In training, y = x * eps with eps ~ N(1, sigma^2) and sigma^2 = p / (1 - p); in
evaluation the layer is the identity. There is no extra loss term: the noise
itself bounds the information, per unit,

    I(X;Y) <= 1/2 * E_X[ ln( (V_X + Xbar^2 + V_X / sigma^2) / X^2 ) ]      (nats),

with Xbar = E[X] and V_X = Var[X]. Numerator and denominator both scale by a^2
under x -> a x, so the bound is invariant to rescaling the input.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn

from ibkit._units import LN2


class GaussianDropoutBottleneck(nn.Module):
    """Multiplicative Gaussian noise with rate ``p`` as an information bottleneck.

    Args:
        p: dropout rate in (0, 1); the noise standard deviation is sqrt(p / (1 - p)).

    Example:
        >>> layer = GaussianDropoutBottleneck(0.5)
        >>> round(layer.sigma, 6)
        1.0
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 < p < 1.0:
            raise ValueError(f"The 'p' parameter of GaussianDropoutBottleneck must be in (0, 1). "
                             f"Got {p!r} instead.")
        self.p = float(p)

    @property
    def sigma(self) -> float:
        """Standard deviation of the multiplicative noise, sqrt(p / (1 - p))."""
        return math.sqrt(self.p / (1.0 - self.p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * eps`` with eps ~ N(1, sigma^2) in training; ``x`` unchanged in evaluation."""
        if not self.training:
            return x
        return x * (1.0 + self.sigma * torch.randn_like(x))

    @torch.no_grad()
    def mi_upper_bound(self, x: torch.Tensor) -> torch.Tensor:
        """Theorem 1's upper bound on I(X;Y) per unit, in bits, from a batch of inputs.

        Args:
            x: inputs to the layer, ``(n_samples, n_units)`` (further dims are flattened into units).

        Returns:
            ``(n_units,)`` bounds in bits. A unit that is exactly 0 on some input (a ReLU
            unit, say) has an infinite bound: it is returned as ``inf`` with a warning.
        """
        if x.dim() < 2 or len(x) < 2:
            raise ValueError(f"The 'x' argument of mi_upper_bound must have shape "
                             f"(n_samples >= 2, n_units). Got shape {tuple(x.shape)} instead.")
        x = x.reshape(len(x), -1).double()
        mean, var = x.mean(0), x.var(0, unbiased=False)  # (U,)
        numerator = var + mean.pow(2) + var / self.sigma**2  # (U,)
        bound = 0.5 * (numerator.log() - x.pow(2).log().mean(0)) / LN2  # (U,)
        zero_units = (x == 0).any(0)
        if zero_units.any():
            warnings.warn(f"{int(zero_units.sum())} unit(s) are exactly 0 on some inputs: their "
                          "Gaussian-dropout bound is infinite (Theorem 1 needs P(X = 0) = 0).",
                          RuntimeWarning, stacklevel=2)
            bound = torch.where(zero_units, torch.full_like(bound, math.inf), bound)
        return bound.float()
