"""Sample-weighted running means of an epoch's per-batch metrics."""

from __future__ import annotations

import torch

from ibkit.objectives import StepOutput, accuracy


class _Running:
    """Sample-weighted sums of per-batch metrics over one epoch, kept as tensors: the loss,
    the objective's metrics and, where the objective returned class scores, ``acc``."""

    def __init__(self, state: dict | None = None) -> None:
        self.sums: dict[str, torch.Tensor] = dict(state["sums"]) if state else {}
        self.count = int(state["count"]) if state else 0

    def add(self, out: StepOutput, y: torch.Tensor) -> None:
        n = len(y)
        values = {"loss": out.loss.detach(), **out.metrics}
        if out.logits is not None:
            values["acc"] = accuracy(out.logits, y)
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + v.detach().float() * n
        self.count += n

    def means(self) -> dict[str, float]:
        return {k: float(v) / max(self.count, 1) for k, v in self.sums.items()}

    def state_dict(self) -> dict:
        return {"sums": {k: torch.as_tensor(v).cpu() for k, v in self.sums.items()},
                "count": self.count}
