"""Deep VIB's classifiers (Alemi et al. 2017): encoder MLP, Gaussian bottleneck, linear decoder.

The paper's network is 784-1024-1024-2K with ReLU (K = 256) and a linear softmax
decoder K-10. The deterministic baseline has the same shape with z = mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ibkit.layers import BottleneckOutput, VariationalBottleneck
from ibkit.models.mlp import make_activation

EVAL_MODES = ("average", "mean")


def encoder_mlp(input_dim: int, hidden: Sequence[int], activation: str = "relu") -> nn.Sequential:
    """Flatten, then ``Linear -> activation`` per width (the encoder trunk)."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = input_dim
    for h in hidden:
        layers += [nn.Linear(width, h), make_activation(activation)]
        width = h
    return nn.Sequential(*layers)


@dataclass
class VIBOutput:
    """What :class:`VIBClassifier` returns.

    Attributes:
        logits: class logits per sample of z, ``(n_samples, batch, n_classes)``.
        log_probs: log of the class probabilities averaged over samples, ``(batch, n_classes)``
            (in ``"mean"`` evaluation mode, the log-softmax of the mean's logits).
        bottleneck: the bottleneck's output (z, mean, std, KL per example).
    """

    logits: torch.Tensor
    log_probs: torch.Tensor
    bottleneck: BottleneckOutput


class VIBClassifier(nn.Module):
    """encoder -> :class:`VariationalBottleneck` -> linear decoder q(y|z).

    Training draws ``train_samples`` z per example. Evaluation either averages the
    class probabilities over ``eval_samples`` draws (``eval_mode="average"``, the
    paper uses 12) or decodes the mean (``eval_mode="mean"``).

    Args:
        input_dim: flattened input size (784 for MNIST).
        hidden: encoder widths, ``(1024, 1024)`` in the paper.
        dim: K, the bottleneck dimension.
        n_classes: decoder outputs.
        prior, std_offset: passed to :class:`VariationalBottleneck`.
        train_samples, eval_samples, eval_mode: as above.
        activation: encoder non-linearity.
    """

    def __init__(self, input_dim: int, hidden: Sequence[int], dim: int, n_classes: int,
                 prior: str = "standard", std_offset: float = 5.0, train_samples: int = 1,
                 eval_samples: int = 12, eval_mode: str = "average", activation: str = "relu"):
        super().__init__()
        if eval_mode not in EVAL_MODES:
            raise ValueError(f"The 'eval_mode' parameter of VIBClassifier must be one of "
                             f"{EVAL_MODES}. Got {eval_mode!r} instead.")
        if train_samples < 1 or eval_samples < 1:
            raise ValueError("The 'train_samples' and 'eval_samples' parameters of VIBClassifier "
                             f"must be >= 1. Got {train_samples}, {eval_samples} instead.")
        self.train_samples, self.eval_samples, self.eval_mode = train_samples, eval_samples, eval_mode
        self.encoder = encoder_mlp(input_dim, hidden, activation)
        width = hidden[-1] if hidden else input_dim
        self.bottleneck = VariationalBottleneck(width, dim, prior, std_offset=std_offset)
        self.decoder = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> VIBOutput:
        """Encode, sample, decode; see the class docstring for the sampling rules."""
        n = self.train_samples if self.training else self.eval_samples
        out = self.bottleneck(self.encoder(x), n_samples=n)
        logits = self.decoder(out.z)  # (S, B, C)
        if not self.training and self.eval_mode == "mean":
            log_probs = torch.log_softmax(self.decoder(out.mean), -1)  # (B, C)
        elif len(logits) == 1:
            log_probs = torch.log_softmax(logits[0], -1)  # one sample: nothing to average
        else:
            log_probs = torch.logsumexp(torch.log_softmax(logits, -1), 0) - math.log(len(logits))
        return VIBOutput(logits, log_probs, out)

    def sample_logits(self, x: torch.Tensor, n_samples: int) -> torch.Tensor:
        """Logits of ``n_samples`` fresh draws of z per example, ``(n_samples, batch, C)``,
        whatever ``training`` says (what a robustness evaluation attacks)."""
        mean, std = self.bottleneck.encode(self.encoder(x))
        eps = torch.randn((n_samples, *mean.shape), device=mean.device, dtype=mean.dtype)
        return self.decoder(mean + std * eps)

    def mean_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the encoder's mean, ``(batch, C)`` (the noise-free "mean" mode)."""
        mean, _ = self.bottleneck.encode(self.encoder(x))
        return self.decoder(mean)


class CEBClassifier(VIBClassifier):
    """The Conditional Entropy Bottleneck's classifier (Fischer 2020): the VIB encoder
    e(z|x) and decoder c(y|z), and a class-conditional backward encoder
    b(z|y) = N(m_y, diag(s_y^2)) (learned) in place of the prior. The objective
    (:class:`ibkit.objectives.CEBObjective`) weighs E_e[ln e(z|x) - ln b(z|y)] =
    KL[e(z|x) || b(z|y)], an upper bound on the residual information I(X;Z|Y).

    Args: as :class:`VIBClassifier` (the ``prior`` is not used: b replaces it).
    """

    def __init__(self, input_dim: int, hidden: Sequence[int], dim: int, n_classes: int,
                 std_offset: float = 5.0, train_samples: int = 1, eval_samples: int = 12,
                 eval_mode: str = "average", activation: str = "relu") -> None:
        super().__init__(input_dim, hidden, dim, n_classes, "standard", std_offset,
                         train_samples, eval_samples, eval_mode, activation)
        g = torch.Generator().manual_seed(0)
        self.backward_means = nn.Parameter(torch.randn(n_classes, dim, generator=g))
        self.backward_log_stds = nn.Parameter(torch.zeros(n_classes, dim))

    def backward_kl_nats(self, mean: torch.Tensor, std: torch.Tensor,
                         y: torch.Tensor) -> torch.Tensor:
        """KL[N(mean, std^2) || b(z|y)] per example in nats, closed form:
        1/2 * sum_k (ln(s_k^2/sigma_k^2) + (sigma_k^2 + (mu_k - m_k)^2)/s_k^2 - 1)."""
        m, log_s = self.backward_means[y], self.backward_log_stds[y]
        var, prior_var = std.pow(2), (2 * log_s).exp()
        return 0.5 * ((prior_var / var).log() + (var + (mean - m) ** 2) / prior_var - 1).sum(-1)


class DeterministicClassifier(nn.Module):
    """The same shape as :class:`VIBClassifier` without noise or KL: encoder -> Linear(K) -> decoder."""

    def __init__(self, input_dim: int, hidden: Sequence[int], dim: int, n_classes: int,
                 activation: str = "relu") -> None:
        super().__init__()
        self.encoder = encoder_mlp(input_dim, hidden, activation)
        self.code = nn.Linear(hidden[-1] if hidden else input_dim, dim)
        self.decoder = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(batch, n_classes)``."""
        return self.decoder(self.code(self.encoder(x)))
