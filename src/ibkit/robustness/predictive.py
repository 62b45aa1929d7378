"""The predictive distribution an attacker faces: log p(y|x) of any classifier, with the
model's noise switched on or off explicitly (attack code toggles ``train()`` / ``eval()``,
so sampling must not depend on them)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ibkit._errors import param_error

MODES = ("sample", "mean")


class Predictive(nn.Module):
    """log p(y|x) = log (1/S) sum_s softmax(f(x; eps_s)) over S fresh noise draws per call
    (Deep VIB section 4.2 uses S = 12), as log-probabilities ``(batch, n_classes)``.

    A stochastic model exposes ``sample_logits(x, n_samples) -> (S, batch, C)`` and
    ``mean_logits(x) -> (batch, C)`` (:class:`ibkit.models.VIBClassifier`,
    :class:`ibkit.models.CEBClassifier`); any other model is deterministic and may return
    logits, or an object with ``log_probs`` or ``logits``. The wrapped model is kept in
    evaluation mode (batch norm and dropout frozen) whatever ``train()`` is called with.

    Args:
        model: the classifier.
        n_samples: S, draws per call (``mode="sample"``).
        mode: ``sample`` (the noise on) or ``mean`` (a stochastic model decoded at its mean:
            the noise-free surrogate used for transfer attacks).

    Example:
        >>> p = Predictive(nn.Linear(4, 3))
        >>> bool(torch.allclose(p(torch.zeros(2, 4)).exp().sum(1), torch.ones(2)))
        True
    """

    def __init__(self, model: nn.Module, n_samples: int = 12, mode: str = "sample") -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise param_error("model", "Predictive", "an nn.Module classifier", type(model).__name__)
        if mode not in MODES:
            raise param_error("mode", "Predictive", f"one of {MODES}", mode)
        if not isinstance(n_samples, int) or n_samples < 1:
            raise param_error("n_samples", "Predictive", "an int >= 1", n_samples)
        self.model, self.n_samples, self.mode = model.eval(), n_samples, mode
        self.train(False)

    @property
    def stochastic(self) -> bool:
        """Whether two calls on the same input can differ (a sampling model in ``sample`` mode)."""
        return self.mode == "sample" and hasattr(self.model, "sample_logits")

    def train(self, mode: bool = True) -> Predictive:
        """Record the flag but keep the wrapped model in evaluation mode."""
        self.training = mode
        self.model.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(batch, n_classes)``."""
        sampler: Any = self.model
        if hasattr(sampler, "sample_logits"):
            if self.mode == "mean":
                return torch.log_softmax(sampler.mean_logits(x), -1)
            logits = sampler.sample_logits(x, self.n_samples)
            return torch.logsumexp(torch.log_softmax(logits, -1), 0) - math.log(len(logits))
        return _log_probs(self.model(x), type(self.model).__name__)


def _log_probs(out: Any, name: str) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        logits = out
    elif isinstance(getattr(out, "log_probs", None), torch.Tensor):
        return out.log_probs
    elif isinstance(getattr(out, "logits", None), torch.Tensor):
        logits = out.logits
    else:
        raise TypeError(f"The model {name} returns {type(out).__name__}, not class logits: a "
                        "robustness evaluation needs a tensor of logits, or an output with "
                        "'log_probs' or 'logits'.")
    if logits.dim() == 3:  # (S, batch, C): average the probabilities
        return torch.logsumexp(torch.log_softmax(logits, -1), 0) - math.log(len(logits))
    if logits.dim() != 2:
        raise TypeError(f"The model {name} returns logits of shape {tuple(logits.shape)}; a "
                        "classifier returns (batch, n_classes).")
    return torch.log_softmax(logits, -1)
