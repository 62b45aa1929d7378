"""The hybrid VAE-PixelCNN of "Gaussian dropout as an information bottleneck layer" (seed 004,
section 3), with a bottleneck on its autoregressive path.

q(z | x) is the VAE's Gaussian encoder (:func:`ibkit.models.vae.make_encoder`, standard-normal
prior). The decoder has two paths that meet per pixel j:

- a convolutional net from z to per-pixel features u = (u_1, ..., u_n), the latents' path;
- a masked :class:`ibkit.models.pixelcnn.PixelCNN` on the preceding pixels x_<j, conditioned
  on u, giving a low-dimensional v_j, the autoregressive path, passed through a bottleneck:
  ``none``; ``dropout``, :class:`ibkit.layers.GaussianDropoutBottleneck` (y = v * eps,
  eps ~ N(1, p / (1 - p))); or ``variational``, a Deep VIB layer per pixel whose
  KL(p(v_j | x_<j, z) || N(0, I)) the objective L_VBL weighs by beta.

A one-hidden-layer MLP per pixel (1x1 convolutions, ELU) maps [u_j, bottleneck(v_j)] to the
pixel's distribution. As in the paper's appendix B, neither bottleneck injects noise in
evaluation (``eval()``): the dropout layer passes v, the variational one its mean. With
``aux_decoder`` an extra non-autoregressive decoder p_aux(x | u) (1x1 convolution of u) is
returned for the Lucas & Verbeek (2018) baseline. All terms are per example, in nats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import Independent

from ibkit._errors import param_error
from ibkit.layers import GaussianDropoutBottleneck, VariationalBottleneck
from ibkit.models.pixel_likelihoods import (
    params_per_value,
    pixel_nll_nats,
    sample_pixels,
)
from ibkit.models.pixelcnn import PixelCNN
from ibkit.models.vae import diagonal_gaussian, make_encoder, standard_normal_kl_nats

BOTTLENECKS = ("none", "dropout", "variational")


@dataclass(frozen=True)
class HybridVAEOutput:
    """One pass of a :class:`HybridVAE` over a batch, per example, in nats.

    Attributes:
        z: ``(batch, latent_dim)`` samples of q(z | x).
        rec_nats: ``(batch,)`` -ln p(x | z), the autoregressive decoder's.
        kl_nats: ``(batch,)`` the VAE KL, KL[q(z | x) || N(0, I)].
        bottleneck_kl_nats: ``(batch,)`` sum_j KL(p(v_j | x_<j, z) || N(0, I)) of the
            variational bottleneck (zeros for the others).
        aux_rec_nats: ``(batch,)`` -ln p_aux(x | z) of the auxiliary decoder, or None.
        v: ``(batch, v_dim, H, W)`` the PixelCNN's outputs before the bottleneck.
        dims: D, the number of values per example.
    """

    z: torch.Tensor
    rec_nats: torch.Tensor
    kl_nats: torch.Tensor
    bottleneck_kl_nats: torch.Tensor
    aux_rec_nats: torch.Tensor | None
    v: torch.Tensor
    dims: int


def _latent_decoder(latent_dim: int, shape: tuple[int, ...], u_channels: int) -> nn.Module:
    h, w = -(-shape[1] // 4), -(-shape[2] // 4)
    return nn.Sequential(
        nn.Linear(latent_dim, 64 * h * w), nn.ELU(), nn.Unflatten(1, (64, h, w)),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ELU(),
        nn.ConvTranspose2d(32, u_channels, 4, stride=2, padding=1), nn.ELU())


class HybridVAE(nn.Module):
    """A VAE whose decoder mixes a latents path u and a bottlenecked PixelCNN path v per pixel.

    Args:
        input_shape: ``(C, H, W)``.
        latent_dim: size of z.
        hidden: the encoder's widths (see :func:`ibkit.models.vae.make_encoder`).
        encoder: ``mlp`` or ``cnn``.
        likelihood: ``bernoulli`` (binarised images) or ``logistic`` (8-bit grey values in
            [0, 1], a discretised logistic per value).
        bottleneck: one of :data:`BOTTLENECKS`.
        dropout_p: the Gaussian-dropout rate p in (0, 1) (``bottleneck="dropout"``).
        v_dim: size of v_j (the paper: 10).
        layers, channels: the PixelCNN's depth and width.
        u_channels: size of u_j.
        mix_hidden: the mixing MLP's hidden width (the paper: 266).
        aux_decoder: add the auxiliary non-autoregressive decoder.

    Example:
        >>> model = HybridVAE((1, 8, 8), latent_dim=4, hidden=(16,), layers=2, channels=8)
        >>> out = model(torch.bernoulli(torch.full((3, 1, 8, 8), 0.5)))
        >>> out.rec_nats.shape, out.v.shape, out.dims
        (torch.Size([3]), torch.Size([3, 4, 8, 8]), 64)
    """

    def __init__(self, input_shape: Sequence[int], latent_dim: int = 32,
                 hidden: Sequence[int] = (256,), encoder: str = "cnn",
                 likelihood: str = "bernoulli", bottleneck: str = "dropout",
                 dropout_p: float = 0.1, v_dim: int = 4, layers: int = 5, channels: int = 32,
                 u_channels: int = 16, mix_hidden: int = 64, aux_decoder: bool = False,
                 activation: str = "elu") -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise param_error("input_shape", "HybridVAE", "an image shape (C, H, W)",
                              tuple(input_shape))
        if bottleneck not in BOTTLENECKS:
            raise param_error("bottleneck", "HybridVAE", f"one of {BOTTLENECKS}", bottleneck)
        for name, value in (("latent_dim", latent_dim), ("v_dim", v_dim),
                            ("u_channels", u_channels), ("mix_hidden", mix_hidden)):
            if value < 1:
                raise param_error(name, "HybridVAE", "an int >= 1", value)
        self.input_shape = tuple(int(s) for s in input_shape)
        self.dims = int(torch.tensor(self.input_shape).prod())
        self.latent_dim, self.likelihood, self.bottleneck = latent_dim, likelihood, bottleneck
        k = params_per_value(likelihood)
        channels_in = self.input_shape[0]
        self.encoder = make_encoder(self.input_shape, hidden, encoder, activation)
        self.posterior = nn.Linear(hidden[-1], 2 * latent_dim)
        self.latent_decoder = _latent_decoder(latent_dim, self.input_shape, u_channels)
        self.pixelcnn = PixelCNN(channels_in, u_channels, channels, layers, v_dim)
        self.dropout = GaussianDropoutBottleneck(dropout_p) if bottleneck == "dropout" else None
        self.variational = (VariationalBottleneck(v_dim, v_dim) if bottleneck == "variational"
                            else None)
        self.mix = nn.Sequential(nn.Conv2d(u_channels + v_dim, mix_hidden, 1), nn.ELU(),
                                 nn.Conv2d(mix_hidden, k * channels_in, 1))
        self.aux = nn.Conv2d(u_channels, k * channels_in, 1) if aux_decoder else None

    def encode(self, x: torch.Tensor) -> Independent:
        """q(z | x), one event of ``latent_dim`` per example."""
        return diagonal_gaussian(self.posterior(self.encoder(x)))

    def decode_u(self, z: torch.Tensor) -> torch.Tensor:
        """u, ``(batch, u_channels, H, W)``, from z alone."""
        _, h, w = self.input_shape
        return self.latent_decoder(z)[..., :h, :w]

    def _bottleneck(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        zeros = v.new_zeros(len(v))
        if self.dropout is not None:
            return self.dropout(v), zeros
        if self.variational is None:
            return v, zeros
        b, c, h, w = v.shape
        mean, std = self.variational.encode(v.permute(0, 2, 3, 1).reshape(-1, c))
        kl = self.variational.kl_nats(mean, std, mean).reshape(b, h * w).sum(1)
        out = mean + std * torch.randn_like(std) if self.training else mean
        return out.reshape(b, h, w, c).permute(0, 3, 1, 2), kl

    def pixel_params(self, x: torch.Tensor, z: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The pixel distributions' parameters ``(batch, k * C, H, W)`` given x_<j and z, with
        v (before the bottleneck) and the bottleneck's KL per example."""
        return self._from_u(x, self.decode_u(z))

    def _from_u(self, x: torch.Tensor, u: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        v = self.pixelcnn(x, u)
        noisy, kl = self._bottleneck(v)
        return self.mix(torch.cat([u, noisy], dim=1)), v, kl

    def forward(self, x: torch.Tensor) -> HybridVAEOutput:
        """Encode, sample z (reparameterised), decode autoregressively (teacher forcing)."""
        x = x.reshape(len(x), *self.input_shape)
        q = self.encode(x)
        z = q.rsample()
        u = self.decode_u(z)  # once, for both decoders
        params, v, bottleneck_kl = self._from_u(x, u)
        aux = (pixel_nll_nats(self.aux(u), x, self.likelihood)
               if self.aux is not None else None)
        return HybridVAEOutput(z, pixel_nll_nats(params, x, self.likelihood),
                               standard_normal_kl_nats(q), bottleneck_kl, aux, v, self.dims)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images drawn pixel by pixel in raster order, z ~ N(0, I) (one full decoder
        pass per pixel; call ``eval()`` first for the noise-free bottleneck)."""
        param = next(self.parameters())
        z = torch.randn(n, self.latent_dim, generator=generator).to(param)
        c, h, w = self.input_shape
        x = torch.zeros(n, c, h, w).to(param)
        for i in range(h):
            for j in range(w):
                params, _, _ = self.pixel_params(x, z)
                x[:, :, i, j] = sample_pixels(params[:, :, i, j], self.likelihood, generator)
        return x
