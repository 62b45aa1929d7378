"""The variational autoencoder (Kingma & Welling 2014): the teacher of the teacher-student bound
and the base of the hybrid VAE of the Gaussian-dropout paper.

q(z_v | x) = N(mu(x), diag(sigma(x)^2)), prior p(z_v) = N(0, I), decoder p(x | z_v) one of:

- ``bernoulli``: independent Bernoulli pixels (binarised images; for grey values in [0, 1] the
  cross-entropy of the intensities, which is not a normalised density);
- ``continuous_bernoulli``: the normalised density on [0, 1] of Loaiza-Ganem & Cunningham (2019),
  for grey images;
- ``gaussian``: N(mean(z_v), s^2 I) with one learned s.

The negative ELBO, -ln p(x) <= E_q[-ln p(x | z_v)] + KL[q(z_v | x) || N(0, I)], is reported in
bits per dimension (divided by D ln 2) and its KL term in bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import Bernoulli, ContinuousBernoulli, Distribution, Independent, Normal

from ibkit._errors import param_error
from ibkit.models.mlp import make_activation
from ibkit.models.vib import encoder_mlp

LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian")
ENCODERS = ("mlp", "cnn")


@dataclass(frozen=True)
class VAEOutput:
    """One pass of a :class:`VAE` over a batch, per example, in nats.

    Attributes:
        z: ``(batch, latent_dim)`` samples of q(z_v | x).
        rec_nats: ``(batch,)`` -ln p(x | z_v) of the sampled z.
        kl_nats: ``(batch,)`` KL[q(z_v | x) || N(0, I)] (closed form).
        dims: D, the number of values per example.
    """

    z: torch.Tensor
    rec_nats: torch.Tensor
    kl_nats: torch.Tensor
    dims: int


def _cnn(shape: Sequence[int], width: int, activation: str) -> nn.Sequential:
    channels = shape[0]
    body = nn.Sequential(
        nn.Conv2d(channels, 32, 3, stride=2, padding=1), make_activation(activation),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), make_activation(activation),
        nn.Conv2d(64, 64, 3, stride=1, padding=1), make_activation(activation), nn.Flatten())
    with torch.no_grad():
        flat = body(torch.zeros(1, *shape)).shape[1]
    return nn.Sequential(body, nn.Linear(flat, width), make_activation(activation))


def make_encoder(input_shape: Sequence[int], hidden: Sequence[int], encoder: str,
                 activation: str) -> nn.Module:
    """The trunk of q(z | x): an MLP with the ``hidden`` widths, or a 3-layer CNN (images
    ``(C, H, W)`` only) ending in one linear layer of width ``hidden[-1]``."""
    if encoder not in ENCODERS or (encoder == "cnn" and len(input_shape) != 3):
        raise param_error("encoder", "VAE", "mlp, or cnn for (C, H, W) images",
                          (encoder, tuple(input_shape)))
    if encoder == "cnn":
        return _cnn(input_shape, hidden[-1], activation)
    return encoder_mlp(int(torch.tensor(tuple(input_shape)).prod()), hidden, activation)


def diagonal_gaussian(params: torch.Tensor) -> Independent:
    """N(mean, diag(std^2)) from a ``(..., 2k)`` head output split into mean and log std
    (clamped to [-10, 5]), one event of k per row."""
    mean, log_std = params.chunk(2, dim=-1)
    return Independent(Normal(mean, log_std.clamp(-10, 5).exp()), 1)


def standard_normal_kl_nats(q: Independent) -> torch.Tensor:
    """KL[q || N(0, I)] per row in nats, closed form:
    1/2 * sum_k (mu_k^2 + sigma_k^2 - 1 - ln sigma_k^2)."""
    mean, var = q.mean, q.variance
    return 0.5 * (var + mean**2 - 1 - var.log()).sum(-1)


class VAE(nn.Module):
    """A VAE with an MLP or a 3-layer CNN encoder and an MLP decoder.

    Args:
        input_shape: one example's shape, e.g. ``(1, 28, 28)``.
        latent_dim: k, the size of z_v.
        hidden: the encoder MLP's widths (the CNN's last width is ``hidden[-1]``); the decoder
            mirrors them.
        encoder: ``mlp`` or ``cnn`` (images ``(C, H, W)`` only).
        likelihood: one of :data:`LIKELIHOODS`.

    Example:
        >>> vae = VAE((1, 8, 8), latent_dim=2, hidden=(16,))
        >>> out = vae(torch.rand(3, 1, 8, 8))
        >>> out.z.shape, out.rec_nats.shape, out.dims
        (torch.Size([3, 2]), torch.Size([3]), 64)
    """

    def __init__(self, input_shape: Sequence[int], latent_dim: int = 20,
                 hidden: Sequence[int] = (512, 256), encoder: str = "mlp",
                 likelihood: str = "bernoulli", activation: str = "relu") -> None:
        super().__init__()
        if latent_dim < 1 or not hidden:
            raise param_error("latent_dim, hidden", "VAE", "latent_dim >= 1 and one width or more",
                              (latent_dim, tuple(hidden)))
        if likelihood not in LIKELIHOODS:
            raise param_error("likelihood", "VAE", f"one of {LIKELIHOODS}", likelihood)
        self.input_shape = tuple(input_shape)
        self.dims = int(torch.tensor(self.input_shape).prod())
        self.latent_dim, self.likelihood = latent_dim, likelihood
        self.encoder = make_encoder(self.input_shape, hidden, encoder, activation)
        self.posterior = nn.Linear(hidden[-1], 2 * latent_dim)
        layers: list[nn.Module] = []
        width = latent_dim
        for h in reversed(tuple(hidden)):
            layers += [nn.Linear(width, h), make_activation(activation)]
            width = h
        self.decoder = nn.Sequential(*layers, nn.Linear(width, self.dims))
        self.log_scale = nn.Parameter(torch.zeros(())) if likelihood == "gaussian" else None

    def encode(self, x: torch.Tensor) -> Independent:
        """q(z_v | x), one event of ``latent_dim`` per example."""
        return diagonal_gaussian(self.posterior(self.encoder(x)))

    def decode(self, z: torch.Tensor) -> Distribution:
        """p(x | z_v), one event of ``input_shape`` per row of ``z``."""
        out = self.decoder(z).reshape(*z.shape[:-1], *self.input_shape)
        if self.likelihood == "bernoulli":
            base: Distribution = Bernoulli(logits=out, validate_args=False)
        elif self.likelihood == "continuous_bernoulli":
            base = ContinuousBernoulli(logits=out, validate_args=False)
        else:
            assert self.log_scale is not None
            base = Normal(out, self.log_scale.exp().expand_as(out))
        return Independent(base, len(self.input_shape))

    def forward(self, x: torch.Tensor) -> VAEOutput:
        """Encode, sample z_v (reparameterised), decode; the two ELBO terms per example."""
        q = self.encode(x)
        z = q.rsample()
        rec = -self.decode(z).log_prob(x.reshape(len(x), *self.input_shape))
        return VAEOutput(z, rec, standard_normal_kl_nats(q), self.dims)
