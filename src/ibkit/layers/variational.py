"""The variational information bottleneck layer of Deep VIB (Alemi et al. 2017).

From features h, an affine head gives the mean and a pre-activation rho of a diagonal
Gaussian encoder p(z|x) = N(mu, diag sigma^2) with sigma = softplus(rho - offset)
(offset 5 as in the authors' demo), and z = mu + sigma * eps, eps ~ N(0, I)
(the reparameterisation trick, so gradients reach both heads). The layer also
returns KL[p(z|x) || r(z)] per example, the term whose mean upper-bounds I(Z;X):

- ``prior="standard"``: r = N(0, I), closed form
  KL = 1/2 * sum_k (mu_k^2 + sigma_k^2 - 1 - ln sigma_k^2);
- ``prior="gaussian"``: learnable r = N(m, diag s^2), closed form
  KL = 1/2 * sum_k (ln(s_k^2/sigma_k^2) + (sigma_k^2 + (mu_k - m_k)^2)/s_k^2 - 1);
- ``prior="mixture"``: learnable mixture of Gaussians, Monte Carlo
  KL ~ (1/S) sum_s [ln p(z_s|x) - ln r(z_s)] over the drawn samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from ibkit._units import LN2

PRIORS = ("standard", "gaussian", "mixture")


@dataclass
class BottleneckOutput:
    """What :class:`VariationalBottleneck` returns.

    Attributes:
        z: samples, shape ``(n_samples, batch, dim)``.
        mean: encoder means mu, ``(batch, dim)``.
        std: encoder standard deviations sigma, ``(batch, dim)``.
        kl_nats: KL[p(z|x) || r(z)] per example, ``(batch,)``, in nats.
        kl_bits: (property) the same KL in bits, ``kl_nats / ln 2``.
    """

    z: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    kl_nats: torch.Tensor

    @property
    def kl_bits(self) -> torch.Tensor:
        """The KL per example in bits, ``(batch,)``."""
        return self.kl_nats / LN2


class VariationalBottleneck(nn.Module):
    """Stochastic Gaussian encoding layer with its KL to a prior (Deep VIB).

    Args:
        in_features: width of the incoming features.
        dim: K, the dimension of z (256 in the paper, 2 for the embedding figure).
        prior: ``"standard"``, ``"gaussian"`` (learnable diagonal) or ``"mixture"``.
        n_components: mixture components when ``prior="mixture"``.
        std_offset: sigma = softplus(rho - std_offset); 5 in the authors' demo.

    Example:
        >>> out = VariationalBottleneck(8, 2)(torch.randn(4, 8), n_samples=3)
        >>> tuple(out.z.shape), tuple(out.kl_bits.shape)
        ((3, 4, 2), (4,))
    """

    def __init__(self, in_features: int, dim: int, prior: str = "standard",
                 n_components: int = 10, std_offset: float = 5.0) -> None:
        super().__init__()
        if in_features < 1 or dim < 1:
            raise ValueError(f"VariationalBottleneck needs in_features >= 1 and dim >= 1. "
                             f"Got in_features={in_features}, dim={dim}.")
        if prior not in PRIORS:
            raise ValueError(f"The 'prior' parameter of VariationalBottleneck must be one of "
                             f"{PRIORS}. Got {prior!r} instead.")
        if n_components < 1:
            raise ValueError(f"The 'n_components' parameter of VariationalBottleneck must be >= 1. "
                             f"Got {n_components!r} instead.")
        self.dim, self.prior, self.std_offset = dim, prior, float(std_offset)
        self.head = nn.Linear(in_features, 2 * dim)
        if prior == "gaussian":
            self.prior_mean = nn.Parameter(torch.zeros(dim))
            self.prior_log_std = nn.Parameter(torch.zeros(dim))
        elif prior == "mixture":
            self.prior_logits = nn.Parameter(torch.zeros(n_components))
            self.prior_means = nn.Parameter(torch.randn(n_components, dim))
            self.prior_log_stds = nn.Parameter(torch.zeros(n_components, dim))

    def encode(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of p(z|x), each ``(batch, dim)``."""
        mean, rho = self.head(h).chunk(2, dim=-1)
        return mean, F.softplus(rho - self.std_offset)

    def prior_distribution(self) -> torch.distributions.Distribution:
        """r(z) as a ``torch.distributions`` object over ``dim``-vectors."""
        if self.prior == "standard":
            zeros = torch.zeros(self.dim, device=self.head.weight.device)
            return Independent(Normal(zeros, torch.ones_like(zeros)), 1)
        if self.prior == "gaussian":
            return Independent(Normal(self.prior_mean, self.prior_log_std.exp()), 1)
        components = Independent(Normal(self.prior_means, self.prior_log_stds.exp()), 1)
        return MixtureSameFamily(Categorical(logits=self.prior_logits), components)

    def kl_nats(self, mean: torch.Tensor, std: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """KL[p(z|x) || r(z)] per example in nats: closed form, or Monte Carlo over ``z``."""
        var = std.pow(2)
        if self.prior == "standard":
            return 0.5 * (mean.pow(2) + var - 1.0 - var.log()).sum(-1)
        if self.prior == "gaussian":
            prior_var = (2 * self.prior_log_std).exp()
            return 0.5 * ((prior_var / var).log() + (var + (mean - self.prior_mean) ** 2)
                          / prior_var - 1.0).sum(-1)
        log_q = Independent(Normal(mean, std), 1).log_prob(z)  # (S, B)
        return (log_q - self.prior_distribution().log_prob(z)).mean(0)

    def forward(self, h: torch.Tensor, n_samples: int = 1) -> BottleneckOutput:
        """Encode ``h`` of shape ``(batch, in_features)`` and draw ``n_samples`` z per example."""
        mean, std = self.encode(h)
        eps = torch.randn((n_samples, *mean.shape), device=mean.device, dtype=mean.dtype)
        z = mean + std * eps  # (S, B, K)
        return BottleneckOutput(z, mean, std, self.kl_nats(mean, std, z))
