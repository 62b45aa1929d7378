"""Lightning callbacks (the optional extra ``ibkit[lightning]``): the information plane and
the gradient statistics of a ``LightningModule`` trained by a ``lightning.pytorch.Trainer``.

They wrap :class:`ibkit.plane.InformationPlane` and :class:`ibkit.plane.GradientStats`, so
the numbers are those of ibkit's own engine for the same weights: the plane at epoch e
is recorded on the weights after e training epochs (epoch 0: before training), gradients
are accumulated at each optimizer step. Points and rows also go to the trainer's logger
(for example Lightning's ``TensorBoardLogger``) with step = epoch, in bits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn

from ibkit._errors import IbkitError
from ibkit.estimators import MIEstimator
from ibkit.integrations.tensorboard import plane_scalars
from ibkit.plane import GradientStats, InformationPlane, PlanePoint

try:
    import lightning.pytorch as pl
except ImportError:  # pragma: no cover - depends on the environment
    raise IbkitError("ibkit.integrations.lightning needs Lightning: pip install "
                     "'ibkit[lightning]' (or pip install lightning).") from None


def _target(pl_module: nn.Module, attribute: str | None) -> nn.Module:
    """The module whose layers are recorded: ``pl_module`` or its ``attribute``."""
    if attribute is None:
        return pl_module
    model = getattr(pl_module, attribute, None)
    if not isinstance(model, nn.Module):
        raise IbkitError(f"The 'model_attribute' parameter names {attribute!r}, which the "
                         f"LightningModule {type(pl_module).__name__} does not hold as an "
                         "nn.Module.")
    return model


class InformationPlaneCallback(pl.Callback):
    """The information plane of a LightningModule's layers, per training epoch.

    Args:
        x, y, estimators, layers, epochs, path, max_samples, background: as for
            :class:`ibkit.plane.InformationPlane` (``path``: the ``plane.csv`` to write).
        model_attribute: record the layers of ``pl_module.<model_attribute>`` instead of
            the LightningModule itself (layer names are then relative to it).

    After ``fit``, ``points`` holds the :class:`ibkit.plane.PlanePoint` s (bits).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, estimators: Sequence[MIEstimator],
                 layers: Sequence[str] | None = None, epochs: Iterable[int] | None = None,
                 path: str | Path | None = None, max_samples: Mapping[str, int] | None = None,
                 background: bool | str = "inline", model_attribute: str | None = None) -> None:
        self._args: dict[str, Any] = dict(x=x, y=y, estimators=estimators, layers=layers, epochs=epochs,
                                          path=path, max_samples=max_samples,
                                          background=background)
        self.model_attribute = model_attribute
        self.plane: InformationPlane | None = None
        self._done: dict | None = None
        self._logger: Any = None
        self._shim: Any = None

    @property
    def points(self) -> list[PlanePoint]:
        """Every point so far, ordered by epoch, layer and estimator."""
        return [] if self.plane is None else self.plane.compute()

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Build the plane on the module and record epoch 0 when the run is new."""
        self.plane = InformationPlane(_target(pl_module, self.model_attribute), **self._args)
        self._logger = trainer.logger
        self.plane.on_points = self._log
        if self._done is not None:
            self.plane.load_state_dict(self._done)
        self._shim = SimpleNamespace(history=[None] * trainer.current_epoch,
                                     eval_model=self.plane.model)
        self.plane.on_train_start(self._shim)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Record the weights after ``current_epoch + 1`` epochs (at the scheduled epochs)."""
        assert self.plane is not None
        self.plane.on_epoch_end(self._shim, trainer.current_epoch + 1, {})

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Wait for the last estimations and stop the plane's worker."""
        assert self.plane is not None
        self.plane.close()

    def _log(self, points: list[PlanePoint]) -> None:
        if self._logger is None:
            return
        for tag, value, step in plane_scalars(points):
            self._logger.log_metrics({tag: value}, step=step)

    def state_dict(self) -> dict[str, Any]:
        """The epochs done (Lightning stores it in its checkpoints)."""
        return {} if self.plane is None else self.plane.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume: keep the points of the checkpoint's epochs."""
        self._done = dict(state_dict) if state_dict else None


class GradientStatsCallback(pl.Callback):
    """Gradient signal-to-noise per layer and epoch (:class:`ibkit.plane.GradientStats`):
    the gradients are read at each optimizer step, before the step; rows go to ``path``
    (``dynamics.csv``) and ``rows``, and each layer's ``snr`` to the trainer's logger as
    ``dynamics/<layer>/snr``."""

    def __init__(self, path: str | Path | None = None, model_attribute: str | None = None
                 ) -> None:
        self.stats = GradientStats(path)
        self.model_attribute = model_attribute

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One row per layer and epoch (see :data:`ibkit.plane.dynamics.COLUMNS`)."""
        return self.stats.rows

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Find the weights of the module."""
        self.stats.on_train_start(SimpleNamespace(model=_target(pl_module, self.model_attribute)))

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                                 optimizer: torch.optim.Optimizer) -> None:
        """Accumulate this step's gradients."""
        self.stats.on_batch_end(None, trainer.global_step, None)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """One row per layer for the epoch, logged with step = epoch."""
        epoch = trainer.current_epoch + 1
        before = len(self.stats.rows)
        self.stats.on_epoch_end(None, epoch, {})
        if trainer.logger is not None:
            trainer.logger.log_metrics({f"dynamics/{r['layer']}/snr": r["snr"]
                                        for r in self.stats.rows[before:]}, step=epoch)

    def state_dict(self) -> dict[str, Any]:
        """The sums of the epoch under way and the last epoch written."""
        return self.stats.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict`."""
        if state_dict:
            self.stats.load_state_dict(state_dict)


__all__ = ["GradientStatsCallback", "InformationPlaneCallback"]
