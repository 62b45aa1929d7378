"""Exponential moving average of weights (Polyak averaging) with bias correction."""

from __future__ import annotations

import torch
from torch import nn


class WeightEMA:
    """Keeps ``a_t = decay * a_{t-1} + (1 - decay) * w_t`` from ``a_0 = 0`` for every parameter.

    The average used for evaluation is bias-corrected, ``a_t / (1 - decay^t)``, so
    it is an unbiased weighting of the weights seen so far even early in training
    (as Adam corrects its moments). Buffers (for example BatchNorm statistics) are
    copied, not averaged.

    Args:
        model: the model whose parameters are averaged.
        decay: in (0, 1); the Deep VIB demo uses 0.999.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"The 'decay' parameter of WeightEMA must be in (0, 1). Got {decay!r}.")
        self.decay = decay
        self.steps = 0
        self._params = [p for p in model.parameters() if p.requires_grad]
        self.shadow = [torch.zeros_like(p) for p in self._params]

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current weights into the average (call after each optimizer step)."""
        self.steps += 1
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self._params], 1.0 - self.decay)

    @torch.no_grad()
    def copy_to(self, target: nn.Module, source: nn.Module) -> None:
        """Write the bias-corrected averages into ``target``, a model of ``source``'s shape."""
        target.load_state_dict(source.state_dict())
        if self.steps == 0:
            return
        correction = 1.0 - self.decay**self.steps
        averaged = [p for p in target.parameters() if p.requires_grad]
        for dst, avg in zip(averaged, self.shadow, strict=True):
            dst.copy_(avg / correction)

    def state_dict(self) -> dict:
        """Steps and averages, for checkpoints."""
        return {"steps": self.steps, "decay": self.decay, "shadow": list(self.shadow)}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.steps = int(state["steps"])
        for dst, src in zip(self.shadow, state["shadow"], strict=True):
            dst.copy_(src)
