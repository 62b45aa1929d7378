"""The callback contract of :class:`ibkit.engine.Trainer`, apart from the loop that calls it.

A callback with state returns it from ``state_dict`` and takes it back in
``load_state_dict``; the trainer stores it in checkpoints under the callback's
``state_key`` (as Lightning's callbacks do), so two callbacks of one class keep their
states apart as long as their keys differ (the trainer refuses two equal keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the trainer is only named in annotations: no import of the engine
    from ibkit.objectives import StepOutput


class Callback:
    """Hooks into the trainer. ``on_epoch_end`` may add entries to ``row``."""

    @property
    def state_key(self) -> str:
        """The key of this callback's state in a checkpoint: the class name, and for a callback
        that writes a file (a ``path`` attribute) that file's name, ``Name[plane.csv]``, so two
        of a kind with their own files checkpoint apart. Override it for other cases."""
        return _keyed_by_file(type(self).__qualname__, getattr(self, "path", None))

    def on_train_start(self, trainer: Any) -> None:
        """Called once before the first (or resumed) epoch."""

    def on_batch_end(self, trainer: Any, batch: int, out: StepOutput) -> None:
        """Called after each optimizer step."""

    def on_epoch_end(self, trainer: Any, epoch: int, row: dict[str, float]) -> None:
        """Called after evaluation, before the checkpoint; ``epoch`` counts from 1."""

    def on_train_end(self, trainer: Any) -> None:
        """Called once after the last epoch."""

    def state_dict(self) -> dict:
        """State to store in checkpoints."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""


def _keyed_by_file(name: str, path: Any) -> str:
    """A state key naming the callback's class and the file it writes (``name[plane.csv]``)."""
    return name if path is None else f"{name}[{getattr(path, 'name', path)}]"


__all__ = ["Callback"]
