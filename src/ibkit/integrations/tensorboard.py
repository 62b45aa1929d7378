"""TensorBoard for ibkit's engine runs (the optional extra ``ibkit[tensorboard]``).

:class:`TensorBoardCallback` writes, per epoch, every number of the epoch's metrics row
(``metrics/<name>``), the information plane's points as they are estimated
(``plane/<layer>/<estimator>/I_XT_bits`` and ``.../I_TY_bits``, step = epoch) and, on a model
with information gates, the units each gate keeps (``gates/<gate>/units_kept``).
:func:`log_figures` adds a run directory's PNG figures as images. All information in bits.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ibkit._errors import IbkitError
from ibkit.callbacks import Callback
from ibkit.layers import InformationGate
from ibkit.plane import InformationPlane, PlanePoint


def summary_writer(log_dir: str | Path, purge_step: int | None = None) -> Any:
    """A ``torch.utils.tensorboard.SummaryWriter`` on ``log_dir`` (events at steps >=
    ``purge_step`` that an interrupted run left are dropped), or a clear error when the
    ``tensorboard`` package is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # pragma: no cover - depends on the environment
        raise IbkitError("TensorBoard logging needs the tensorboard package: pip install "
                         "'ibkit[tensorboard]' (or pip install tensorboard).") from None
    return SummaryWriter(log_dir=str(log_dir), purge_step=purge_step)


def plane_scalars(points: Iterable[PlanePoint]) -> list[tuple[str, float, int]]:
    """``(tag, value in bits, epoch)`` for each coordinate of each plane point."""
    out = []
    for p in points:
        base = f"plane/{p.layer}/{p.estimator}"
        out += [(f"{base}/I_XT_bits", p.I_XT_bits, p.epoch),
                (f"{base}/I_TY_bits", p.I_TY_bits, p.epoch)]
    return out


def gate_counts(model: nn.Module) -> dict[str, int]:
    """Units kept (ln alpha >= threshold) per :class:`ibkit.layers.InformationGate` of ``model``."""
    return {name: int(m.mask().sum()) for name, m in model.named_modules()
            if isinstance(m, InformationGate)}


class TensorBoardCallback(Callback):
    """Engine callback: metrics, plane points and gate counts to a TensorBoard event file.

    Args:
        log_dir: the folder of the event files (an engine run uses ``RUN_DIR/tensorboard``).
        planes: the information planes to follow; None: every :class:`InformationPlane` among
            the trainer's callbacks.

    A resumed run drops the events that the interrupted one wrote after its checkpoint.
    """

    def __init__(self, log_dir: str | Path, planes: Iterable[InformationPlane] | None = None
                 ) -> None:
        self.log_dir = Path(log_dir)
        self.planes = None if planes is None else list(planes)
        self.writer: Any = None

    @property
    def state_key(self) -> str:
        """One TensorBoard callback per event folder."""
        return f"TensorBoardCallback[{self.log_dir.name}]"

    def on_train_start(self, trainer: Any) -> None:
        """Open the writer after the epochs already done and follow the planes' points."""
        self.writer = summary_writer(self.log_dir, purge_step=len(trainer.history) + 1
                                     if trainer.history else None)
        if self.planes is None:
            self.planes = [c for c in trainer.callbacks if isinstance(c, InformationPlane)]
        for plane in self.planes:  # a fresh run: epoch 0's points may be stored already
            plane.follow(self.add_points, replay=not trainer.history)
        if not trainer.history:
            self._add_gates(trainer.model, 0)

    def add_points(self, points: Iterable[PlanePoint]) -> None:
        """Write plane points (called from the plane's estimation thread: the writer queues)."""
        for tag, value, step in plane_scalars(points):
            self.writer.add_scalar(tag, value, step)

    def on_epoch_end(self, trainer: Any, epoch: int, row: dict[str, float]) -> None:
        """Every number of the epoch's row, and the gates' counts."""
        for key, value in row.items():
            if isinstance(value, (int, float)) and key != "epoch":
                self.writer.add_scalar(f"metrics/{key}", float(value), epoch)
        self._add_gates(trainer.model, epoch)
        self.writer.flush()

    def _add_gates(self, model: nn.Module, epoch: int) -> None:
        for name, kept in gate_counts(model).items():
            self.writer.add_scalar(f"gates/{name}/units_kept", kept, epoch)

    def on_train_end(self, trainer: Any) -> None:
        """Write what is queued and close the file (the planes have finished by now)."""
        for plane in self.planes or []:
            plane.flush()
        self.writer.close()


def log_figures(log_dir: str | Path, run_dir: str | Path, step: int = 0) -> list[str]:
    """Add every PNG under ``run_dir/figures`` (and the run directory's top level) to the
    event file in ``log_dir`` as an image tagged ``figures/<name>``; return the tags."""
    from PIL import Image

    run_dir = Path(run_dir)
    paths = sorted((run_dir / "figures").glob("*.png")) + sorted(run_dir.glob("*.png"))
    writer = summary_writer(log_dir)
    tags = []
    try:
        for path in paths:
            with Image.open(path) as im:
                image = np.asarray(im.convert("RGB"))
            tag = f"figures/{path.stem}"
            writer.add_image(tag, image, step, dataformats="HWC")
            tags.append(tag)
    finally:
        writer.close()
    return tags
