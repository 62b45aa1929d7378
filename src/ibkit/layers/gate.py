"""The information gate of VIBNet (Dai et al. 2018): a learnable Gaussian multiplier per unit.

Per unit j (a neuron, or a channel of a convolution) the gate holds mu_j and log sigma_j^2.
In training the layer's output h_j is multiplied by ``mu_j + sigma_j * eps`` with
eps ~ N(0, 1) drawn per example and unit (shared over a channel's spatial positions).
Under the optimal prior variance the KL term of unit j is ``1/2 * ln(1 + alpha_j)`` with

    alpha_j = mu_j^2 / sigma_j^2        (the paper's convention; its public code scores 1/alpha)

Small alpha: the unit passes little information and is pruned (default: ln alpha < 0).
In evaluation the output is multiplied by ``mu * mask``, mask = (ln alpha >= threshold).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ibkit._errors import param_error
from ibkit._units import LN2


class InformationGate(nn.Module):
    """VIBNet's gate over ``num_units`` features (input ``(B, units)``) or channels
    (input ``(B, units, H, W)``).

    Args:
        num_units: neurons or channels gated.
        threshold: units with ln alpha below it are masked in evaluation (default 0).
        init_log_sigma2: initial ln sigma^2 (-9 as VIBNet's code: almost no noise at first).

    Example:
        >>> gate = InformationGate(3).eval()
        >>> gate(torch.ones(2, 3)).shape
        torch.Size([2, 3])
    """

    def __init__(self, num_units: int, threshold: float = 0.0, init_log_sigma2: float = -9.0) -> None:
        super().__init__()
        if not isinstance(num_units, int) or num_units < 1:
            raise param_error("num_units", "InformationGate", "an int >= 1", num_units)
        if not math.isfinite(threshold):
            raise param_error("threshold", "InformationGate", "a finite float", threshold)
        self.num_units = num_units
        self.threshold = threshold
        self.mu = nn.Parameter(torch.ones(num_units) + 0.01 * torch.randn(num_units))
        self.log_sigma2 = nn.Parameter(torch.full((num_units,), float(init_log_sigma2)))

    def log_alpha(self) -> torch.Tensor:
        """ln alpha = ln mu^2 - ln sigma^2 per unit."""
        return torch.log(self.mu * self.mu + 1e-16) - self.log_sigma2

    def mask(self) -> torch.Tensor:
        """1.0 for units kept (ln alpha >= threshold), else 0.0."""
        return (self.log_alpha() >= self.threshold).to(self.mu.dtype)

    def multiplier(self) -> torch.Tensor:
        """The evaluation multiplier per unit: ``mu * mask``, or ``mu`` once pruned with
        :func:`ibkit.compress.prune_gates` (whose mask on ``mu`` then decides)."""
        if hasattr(self, "mu_mask"):
            return self.mu
        return self.mu * self.mask()

    def kept(self) -> torch.Tensor:
        """Indices of the units that pass in evaluation."""
        return torch.nonzero(self.multiplier() != 0).flatten()

    def penalty_nats(self) -> torch.Tensor:
        """sum_j ln(1 + alpha_j): the regulariser of VIBNet's objective (*) for this layer."""
        return torch.nn.functional.softplus(self.log_alpha()).sum()  # ln(1 + e^{ln alpha})

    def kl_bits(self) -> torch.Tensor:
        """The layer's KL term, 1/2 * sum_j log2(1 + alpha_j), in bits."""
        return 0.5 * self.penalty_nats() / LN2

    def _shape(self, h: torch.Tensor) -> tuple[int, ...]:
        if h.dim() not in (2, 4) or h.shape[1] != self.num_units:
            raise ValueError(
                f"InformationGate({self.num_units}) takes (batch, {self.num_units}) or "
                f"(batch, {self.num_units}, H, W) inputs. Got shape {tuple(h.shape)}."
            )
        return (-1, self.num_units) + (1, 1) * (h.dim() == 4)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``h * (mu + sigma * eps)`` in training, ``h * mu * mask`` in evaluation."""
        shape = self._shape(h)
        if self.training:
            eps = torch.randn(h.shape[0], self.num_units, device=h.device, dtype=h.dtype)
            z = self.mu + torch.exp(0.5 * self.log_sigma2) * eps
            return h * z.view(shape)
        return h * self.multiplier().view(shape)

    def extra_repr(self) -> str:
        return f"num_units={self.num_units}, threshold={self.threshold}"
