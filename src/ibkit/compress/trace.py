"""Gates over training (VIBNet, Dai et al. 2018, Figure 2): per epoch and gate, the units
kept and the gate's own information bound, written as a tidy table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ibkit._io import append_rows_csv, truncate_rows_csv
from ibkit.callbacks import Callback
from ibkit.compress.gating import gates

TRACE_COLUMNS = ("epoch", "gate", "kept", "units", "kept_frac", "kl_bits")


def gate_rows(model: torch.nn.Module, epoch: int) -> list[dict[str, Any]]:
    """One row per gate of ``model``: units kept (ln alpha >= the gate's threshold), their
    fraction, and ``kl_bits`` = 1/2 sum_j log2(1 + alpha_j), the gate's KL term in bits,
    which bounds the information I(h_i; h_(i-1)) the gated layer passes (for the first
    hidden layer, an upper bound on I(h1; x))."""
    rows = []
    with torch.no_grad():
        for name, g in gates(model).items():
            kept = int(g.mask().sum())
            rows.append({"epoch": epoch, "gate": name, "kept": kept, "units": g.num_units,
                         "kept_frac": kept / g.num_units, "kl_bits": float(g.kl_bits())})
    return rows


class GateTrace(Callback):
    """Append :func:`gate_rows` of the trained model to ``path`` before training (epoch 0)
    and after every epoch; on resume, rows after the checkpoint are dropped and written
    again."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.last = -1

    @property
    def state_key(self) -> str:
        """One trace per file."""
        return f"GateTrace[{self.path.name}]"

    def on_train_start(self, trainer: Any) -> None:
        """Epoch 0: the gates as they start."""
        if not trainer.history:
            self.path.unlink(missing_ok=True)
            self._write(trainer.model, 0)

    def on_epoch_end(self, trainer: Any, epoch: int, row: dict[str, float]) -> None:
        """The gates after ``epoch``."""
        self._write(trainer.model, epoch)

    def _write(self, model: torch.nn.Module, epoch: int) -> None:
        append_rows_csv(self.path, gate_rows(model, epoch), TRACE_COLUMNS)
        self.last = epoch

    def state_dict(self) -> dict:
        """The last epoch written."""
        return {"last": self.last}

    def load_state_dict(self, state: dict) -> None:
        """Keep only the rows up to the checkpoint's epoch."""
        self.last = int(state["last"])
        truncate_rows_csv(self.path, self.last, TRACE_COLUMNS)
