"""Gradient signal-to-noise per layer and epoch: the drift and diffusion phases.

Shwartz-Ziv & Tishby (2017) look at the mini-batch gradients of each layer's weights over
an epoch: their mean (the signal) and their standard deviation (the noise). While the
norm of the mean is well above that of the standard deviation the layer drifts (fitting);
when the noise dominates it diffuses (the compression phase, in their account).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ibkit._io import append_rows_csv, truncate_rows_csv
from ibkit.callbacks import Callback

COLUMNS = ("epoch", "layer", "grad_mean_norm", "grad_std_norm", "snr", "weight_norm", "batches")


def weight_layers(model: nn.Module) -> dict[str, torch.Tensor]:
    """Module name -> its ``weight`` parameter, for every module that has a trainable one."""
    return {name: m.weight for name, m in model.named_modules()
            if isinstance(getattr(m, "weight", None), nn.Parameter) and m.weight.requires_grad}


class GradientStats(Callback):
    """Per layer and epoch: ||mean_b g_b||, ||std_b g_b|| (element-wise std over the epoch's
    mini-batches b), their ratio ``snr`` and the weight norm ||W|| (Frobenius norms).

    Rows go to ``path`` (``dynamics.csv``) at the end of every epoch and to ``rows``.
    Cost per batch: two fused in-place additions per weight tensor.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.rows: list[dict[str, Any]] = []
        self._names: list[str] = []
        self._weights: list[torch.Tensor] = []
        self._sum: list[torch.Tensor] = []
        self._sq: list[torch.Tensor] = []
        self._batches = 0
        self._resumed: tuple[list[torch.Tensor], list[torch.Tensor], int] | None = None

    def on_train_start(self, trainer: Any) -> None:
        """Find the weight tensors of the trained model."""
        layers = weight_layers(trainer.model)
        self._names, self._weights = list(layers), list(layers.values())
        self._reset()
        if self._resumed is not None:  # a run stopped mid-epoch: its sums so far
            sums, squares, self._batches = self._resumed
            self._sum = [t.to(w.device) for t, w in zip(sums, self._weights, strict=True)]
            self._sq = [t.to(w.device) for t, w in zip(squares, self._weights, strict=True)]
            self._resumed = None

    def _reset(self) -> None:
        self._sum = [torch.zeros_like(w) for w in self._weights]
        self._sq = [torch.zeros_like(w) for w in self._weights]
        self._batches = 0

    def on_batch_end(self, trainer: Any, batch: int, out: Any) -> None:
        """Accumulate the sum and the sum of squares of each weight gradient."""
        grads = [w.grad if w.grad is not None else torch.zeros_like(w) for w in self._weights]
        torch._foreach_add_(self._sum, grads)
        torch._foreach_addcmul_(self._sq, grads, grads)
        self._batches += 1

    @torch.no_grad()
    def on_epoch_end(self, trainer: Any, epoch: int, row: dict[str, float]) -> None:
        """Turn the sums into one row per layer and append them to ``dynamics.csv``."""
        b = max(self._batches, 1)
        new = []
        for name, w, s, q in zip(self._names, self._weights, self._sum, self._sq, strict=True):
            mean = s / b
            std = (q / b - mean * mean).clamp_(min=0.0).sqrt_()
            m, sd = float(mean.norm()), float(std.norm())
            new.append({"epoch": epoch, "layer": name, "grad_mean_norm": m, "grad_std_norm": sd,
                        "snr": m / sd if sd > 0 else float("inf"), "weight_norm": float(w.norm()),
                        "batches": self._batches})
        self.rows += new
        if self.path is not None:
            append_rows_csv(self.path, new, COLUMNS)
        self._reset()

    def state_dict(self) -> dict:
        """The last epoch written, and the sums of the epoch under way (a checkpoint written
        mid-epoch, after Ctrl-C, resumes with them)."""
        return {"last_epoch": max((r["epoch"] for r in self.rows), default=0),
                "sum": [t.cpu() for t in self._sum], "sq": [t.cpu() for t in self._sq],
                "batches": self._batches}

    def load_state_dict(self, state: dict) -> None:
        """Resume: the epoch's sums so far; drop rows of later epochs from ``dynamics.csv``."""
        if state.get("batches"):
            self._resumed = (list(state["sum"]), list(state["sq"]), int(state["batches"]))
        if self.path is not None:
            rows = truncate_rows_csv(self.path, state["last_epoch"], COLUMNS)
            self.rows = [{k: (v if k == "layer" else float(v)) for k, v in r.items()}
                         for r in rows]
