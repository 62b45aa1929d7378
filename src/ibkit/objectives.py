"""Losses and their information bounds, in bits at the boundary.

Deep VIB (Alemi et al. 2017) minimises, per batch, in bits (the authors' demo divides
by ln 2):

    J = (1/N) sum_n E_eps[-log2 q(y_n | z)] + beta * KL[p(z|x_n) || r(z)] / ln 2

**Beta convention (VIB):** beta weights the compression term, so *small beta = little
compression*. This is the opposite of the iterative IB's beta (Tishby et al. 1999),
where large beta keeps more information.

The parts are bounds: mean KL >= I(Z;X) (upper bound), and
H(Y) - E[-log2 q(y|z)] <= I(Z;Y) (lower bound), with H(Y) from the label frequencies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ibkit._errors import ConfigError, param_error
from ibkit._units import LN2


@dataclass
class StepOutput:
    """What an objective returns for one batch.

    Attributes:
        loss: scalar tensor that is minimised.
        logits: ``(batch, n_classes)`` class scores (logits or log-probabilities) of a
            classifier, or None for other tasks (a generative model): accuracy is computed
            only where they are given.
        metrics: named per-batch scalars to average over the epoch (for example ``kl_bits``);
            the progress bar and ``metrics.csv`` show them.
    """

    loss: torch.Tensor
    logits: torch.Tensor | None = None
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)


class Objective:
    """A training objective: ``objective(model, x, y) -> StepOutput``.

    It sees ``model.training`` to tell training from evaluation. Its optional hooks are
    declared here with their defaults: ``on_epoch_start(epoch)`` for schedules (a beta
    warm-up) and ``param_groups(model)`` for optimizer groups (None: every trainable
    parameter in one group).
    """

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        raise NotImplementedError

    def on_epoch_start(self, epoch: int) -> None:
        """Called by the trainer before each training epoch (0-based)."""

    def param_groups(self, model: nn.Module) -> Iterable[dict[str, Any]] | None:
        """Optimizer parameter groups, the first holding the network's weights; None for one."""
        return None


class FunctionObjective(Objective):
    """A plain function ``fn(model, x, y) -> StepOutput`` as an :class:`Objective`."""

    def __init__(self, fn: Callable[[nn.Module, torch.Tensor, torch.Tensor], StepOutput]) -> None:
        self.fn = fn

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        return self.fn(model, x, y)


def as_objective(objective: Objective | Callable[..., StepOutput]) -> Objective:
    """``objective`` itself, or a plain function wrapped in :class:`FunctionObjective`."""
    if isinstance(objective, Objective):
        return objective
    if not callable(objective):
        raise param_error("objective", "Trainer", "an Objective or a function (model, x, y) -> "
                          "StepOutput", objective)
    return FunctionObjective(objective)


class CrossEntropy(Objective):
    """The plain classification objective: mean cross-entropy in nats; ``ce_bits`` reported."""

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        return StepOutput(loss, logits, {"ce_bits": loss.detach() / LN2})


cross_entropy = CrossEntropy()
"""The shared :class:`CrossEntropy` instance, the trainer's default objective."""


class ReconstructionBits(Objective):
    """Reconstruction loss of an autoencoder in bits per input dimension, for inputs in [0, 1]:

        L = (1 / D) sum_d [-x_d log2 p_d - (1 - x_d) log2 (1 - p_d)],  p = sigmoid(model(x))

    the Bernoulli negative log-likelihood of binary inputs (for grey values, the
    cross-entropy of the intensities). The model maps ``(batch, ...)`` inputs to ``(batch, D)``
    logits; labels are ignored, and no class scores are returned (no accuracy).
    Reported per batch: ``recon_bits_per_dim``.
    """

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        target = x.flatten(1)
        if target.min() < 0 or target.max() > 1:
            raise param_error("x", "ReconstructionBits", "inputs in [0, 1] (data.scale=unit)",
                              f"values in [{float(target.min()):g}, {float(target.max()):g}]")
        bits = F.binary_cross_entropy_with_logits(model(x), target) / LN2
        return StepOutput(bits, None, {"recon_bits_per_dim": bits.detach()})


class ELBOBits(Objective):
    """The negative ELBO of a VAE in bits per dimension, with its KL term weighted by ``beta``:

        L = (1 / (D ln 2)) * mean_x ( E_q[-ln p(x | z)] + beta * KL[q(z | x) || p(z)] )

    (beta = 1: the ELBO's bound on -log2 p(x) per dimension; Kingma & Welling 2014). The model
    returns, per example, ``rec_nats``, ``kl_nats`` and ``dims`` (:class:`ibkit.models.VAE`).
    Labels are ignored. Reported per batch: ``nelbo_bits_per_dim`` (beta = 1),
    ``rec_bits_per_dim`` and ``kl_bits`` (per example, not per dimension).
    """

    def __init__(self, beta: float = 1.0) -> None:
        self.beta = check_beta(beta, "ELBOBits")

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        out = model(x)
        rec, kl = out.rec_nats.mean(), out.kl_nats.mean()
        per_dim = out.dims * LN2
        loss = (rec + self.beta * kl) / per_dim
        return StepOutput(loss, None, {"nelbo_bits_per_dim": ((rec + kl) / per_dim).detach(),
                                       "rec_bits_per_dim": (rec / per_dim).detach(),
                                       "kl_bits": (kl / LN2).detach()})


class HybridELBOBits(Objective):
    """The hybrid VAE-PixelCNN's objective (seed 004, section 3), negated, in bits per dimension:

        L = (1 / (D ln 2)) * mean_x ( E_q[-ln p(x | z)] + KL[q(z | x) || N(0, I)]
                                      + beta * sum_j KL(p(v_j | x_<j, z) || N(0, I))
                                      + aux_weight * E_q[-ln p_aux(x | z)] ),

    i.e. -ELBO (equation 6) for the dropout layer or no bottleneck, -L_VBL for the variational
    layer (its per-pixel KL, zero for the others), plus the auxiliary decoder's term of Lucas &
    Verbeek (2018) where the model has one (:class:`ibkit.models.HybridVAE`). Reported per
    batch: ``nelbo_bits_per_dim`` (-ELBO, without penalty or auxiliary term),
    ``rec_bits_per_dim``, ``vae_kl_bits_per_dim`` (the use of the latents),
    ``bottleneck_kl_bits_per_pixel`` and, with an auxiliary decoder, ``aux_nll_bits_per_dim``.
    """

    def __init__(self, beta: float = 0.0, aux_weight: float = 0.0) -> None:
        self.beta = check_beta(beta, "HybridELBOBits")
        self.aux_weight = check_beta(aux_weight, "HybridELBOBits (aux_weight)")

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        out = model(x)
        rec, kl = out.rec_nats.mean(), out.kl_nats.mean()
        bkl = out.bottleneck_kl_nats.mean()
        per_dim, pixels = out.dims * LN2, out.v.shape[-1] * out.v.shape[-2]
        loss = rec + kl + self.beta * bkl
        metrics = {"nelbo_bits_per_dim": ((rec + kl) / per_dim).detach(),
                   "rec_bits_per_dim": (rec / per_dim).detach(),
                   "vae_kl_bits_per_dim": (kl / per_dim).detach(),
                   "bottleneck_kl_bits_per_pixel": (bkl / (pixels * LN2)).detach()}
        if out.aux_rec_nats is not None:
            aux = out.aux_rec_nats.mean()
            loss = loss + self.aux_weight * aux
            metrics["aux_nll_bits_per_dim"] = (aux / per_dim).detach()
        return StepOutput(loss / per_dim, None, metrics)


def accuracy(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Share of rows whose highest class score is the label, a 0-dim tensor.

    Example:
        >>> float(accuracy(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1])))
        0.5
    """
    return (scores.detach().argmax(1) == y).float().mean()


def error_pct(acc: float) -> float:
    """The error rate in per cent of an accuracy in [0, 1]: ``100 * (1 - acc)``."""
    return 100.0 * (1.0 - acc)


def check_beta(beta: float, owner: str = "the VIB objective") -> float:
    """Return ``beta`` as a float if it is finite and >= 0; ConfigError otherwise."""
    if not isinstance(beta, (int, float)) or not math.isfinite(beta) or beta < 0:
        raise param_error("beta", owner, "a finite float >= 0", beta)
    return float(beta)


def label_entropy_bits(y: torch.Tensor, n_classes: int | None = None) -> float:
    """H(Y) in bits from the label frequencies of ``y`` (integer labels, ``(n,)``).

    Example:
        >>> label_entropy_bits(torch.tensor([0, 1, 0, 1]))
        1.0
    """
    p = torch.bincount(y, minlength=n_classes or 0).double() / len(y)
    p = p[p > 0]
    return float(-(p * p.log2()).sum())


@dataclass
class VIBLoss:
    """The VIB loss and its parts, all in bits (per example, batch means).

    Attributes:
        loss_bits: J = class_loss_bits + beta * kl_bits (what is minimised).
        class_loss_bits: E_eps[-log2 q(y|z)].
        kl_bits: mean KL[p(z|x) || r(z)], the upper bound on I(Z;X).
        izy_lower_bits: H(Y) - class_loss_bits, the lower bound on I(Z;Y).
    """

    loss_bits: torch.Tensor
    class_loss_bits: torch.Tensor
    kl_bits: torch.Tensor
    izy_lower_bits: torch.Tensor


def vib_loss(logits: torch.Tensor, y: torch.Tensor, kl_nats: torch.Tensor, beta: float,
             label_entropy: float) -> VIBLoss:
    """Deep VIB's J in bits from per-sample logits ``(S, B, C)`` and per-example KL ``(B,)`` nats.

    The class loss averages the cross-entropy over the S samples of z (the Monte Carlo
    estimate of E_eps[-log q(y|z)]), then over the batch. Logits ``(B, C)`` count as one sample.
    """
    if logits.dim() == 2:
        logits = logits.unsqueeze(0)
    s, b, c = logits.shape
    ce_nats = (F.cross_entropy(logits[0], y) if s == 1
               else F.cross_entropy(logits.reshape(s * b, c), y.repeat(s)))
    class_bits, kl_bits = ce_nats / LN2, kl_nats.mean() / LN2
    return VIBLoss(class_bits + beta * kl_bits, class_bits, kl_bits, label_entropy - class_bits)


class BetaSchedule:
    """beta per epoch: constant, or a linear warm-up from 0 over ``warmup_epochs``.

    Args:
        beta: the final beta (VIB convention: small = little compression), finite and >= 0.
        warmup_epochs: 0 for a constant beta; else beta * min(1, (epoch + 1) / warmup_epochs).
    """

    def __init__(self, beta: float, warmup_epochs: int = 0) -> None:
        self.beta = check_beta(beta)
        if warmup_epochs < 0:
            raise param_error("warmup_epochs", "BetaSchedule", "an int >= 0", warmup_epochs)
        self.warmup_epochs = warmup_epochs

    def __call__(self, epoch: int) -> float:
        """beta during 0-based ``epoch``."""
        if self.warmup_epochs == 0:
            return self.beta
        return self.beta * min(1.0, (epoch + 1) / self.warmup_epochs)


VIB_CONTRACT = (
    "The model contract of VIBObjective: model(x) returns an object with .logits (class scores "
    "per sample of z, (n_samples, batch, n_classes), or (batch, n_classes) for one sample), "
    ".log_probs (batch, n_classes) and .bottleneck with .kl_nats (KL per example in nats, "
    "(batch,)), as ibkit.models.VIBOutput and ibkit.layers.BottleneckOutput do."
)


def check_vib_output(out: Any, owner: str = "VIBObjective") -> None:
    """Refuse a model output that lacks what :class:`VIBObjective` reads (:data:`VIB_CONTRACT`),
    naming the first missing attribute.

    Raises:
        ConfigError: ``out`` has no ``logits``, ``log_probs`` or ``bottleneck.kl_nats``.
    """
    missing = next((a for a in ("logits", "log_probs", "bottleneck") if not hasattr(out, a)), None)
    if missing is None and not hasattr(out.bottleneck, "kl_nats"):
        missing = "bottleneck.kl_nats"
    if missing is not None:
        raise ConfigError(f"{owner}: the model's output ({type(out).__name__}) has no "
                          f"'.{missing}'. {VIB_CONTRACT}")


class VIBObjective(Objective):
    """The engine objective for :class:`ibkit.models.VIBClassifier`, or any model that keeps
    its contract (:data:`VIB_CONTRACT`): J in bits, bounds as metrics.

    Args:
        beta: a float or a :class:`BetaSchedule`.
        label_entropy: H(Y) in bits (:func:`label_entropy_bits` of the training labels).

    Metrics reported per batch: ``class_loss_bits``, ``kl_bits`` (upper bound on I(Z;X)),
    ``izy_lower_bits`` (lower bound on I(Z;Y)) and ``beta``.
    """

    def __init__(self, beta: float | BetaSchedule, label_entropy: float) -> None:
        self.schedule = beta if isinstance(beta, BetaSchedule) else BetaSchedule(beta)
        self.label_entropy = float(label_entropy)
        self.on_epoch_start(0)

    def on_epoch_start(self, epoch: int) -> None:
        """Move beta along its schedule (the metric tensor is made once here, not per batch)."""
        self.beta = self.schedule(epoch)
        self._beta_metric = torch.tensor(self.beta)

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        """One batch: forward, J in bits, and the bounds."""
        out = model(x)
        check_vib_output(out)
        parts = vib_loss(out.logits, y, out.bottleneck.kl_nats, self.beta, self.label_entropy)
        metrics = {"class_loss_bits": parts.class_loss_bits.detach(),
                   "kl_bits": parts.kl_bits.detach(),
                   "izy_lower_bits": parts.izy_lower_bits.detach(),
                   "beta": self._beta_metric}
        return StepOutput(parts.loss_bits, out.log_probs, metrics)


class CEBObjective(VIBObjective):
    """The Conditional Entropy Bottleneck (Fischer 2020) for :class:`ibkit.models.CEBClassifier`,
    in bits:

        J = E_eps[-log2 c(y|z)] + beta * E_x KL[e(z|x) || b(z|y)] / ln 2,

    the KL (closed form) being E_e[ln e(z|x) - ln b(z|y)], an upper bound on I(X;Z|Y).
    Reported: ``class_loss_bits``, ``residual_bits`` (that bound), ``izy_lower_bits``
    (H(Y) - class loss) and ``beta``.
    """

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        """One batch: forward, J in bits, the residual information and the I(Z;Y) bound."""
        out = model(x)
        check_vib_output(out, "CEBObjective")
        b = out.bottleneck
        ceb: Any = model
        residual = ceb.backward_kl_nats(b.mean, b.std, y)
        parts = vib_loss(out.logits, y, residual, self.beta, self.label_entropy)
        metrics = {"class_loss_bits": parts.class_loss_bits.detach(),
                   "residual_bits": parts.kl_bits.detach(),
                   "izy_lower_bits": parts.izy_lower_bits.detach(),
                   "beta": self._beta_metric}
        return StepOutput(parts.loss_bits, out.log_probs, metrics)


__all__ = [
    "BetaSchedule",
    "CEBObjective",
    "CrossEntropy",
    "ELBOBits",
    "HybridELBOBits",
    "FunctionObjective",
    "Objective",
    "ReconstructionBits",
    "StepOutput",
    "VIBLoss",
    "VIBObjective",
    "VIB_CONTRACT",
    "accuracy",
    "as_objective",
    "check_beta",
    "check_vib_output",
    "cross_entropy",
    "error_pct",
    "label_entropy_bits",
    "vib_loss",
]
