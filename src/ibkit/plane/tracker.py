"""``InformationPlane``: I(X;T) and I(T;Y) of chosen layers of any model, during or after training.

Three ways to use it, with the same numbers:

- as a callback of :class:`ibkit.engine.Trainer` (``callbacks=[plane]``);
- in one's own loop: ``plane.update(epoch)`` after each epoch, then ``plane.compute()``;
- on saved weights: :func:`plane_from_checkpoints`.

Estimation runs where ``background`` says (:mod:`ibkit.plane.executors`: inline, a background
thread, or a worker process), with the same numbers. Each epoch's points are appended to
``plane.csv`` as soon as they are computed. A checkpoint never waits for estimation: it holds
the epochs not estimated yet (their weights), which a resumed run estimates again.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ibkit._errors import ConfigError, param_error
from ibkit._io import append_rows_csv, truncate_rows_csv
from ibkit.callbacks import Callback
from ibkit.estimators import MIEstimator
from ibkit.plane.estimation import COLUMNS, PlanePoint, check_plane_estimator
from ibkit.plane.executors import assign_weights, make_executor, model_with_weights
from ibkit.plane.hooks import check_layers

DEFAULT_BATCH = 16  # epochs estimated together by a background plane (``batch=None``)


class InformationPlane(Callback):
    """Track the information plane of ``model``'s layers on a fixed probe set.

    Args:
        model: any ``nn.Module``; layers are chosen by module name.
        x: ``(n, ...)`` probe inputs, each a distinct input (X is the input's identity).
        y: ``(n,)`` integer labels of the probe inputs.
        estimators: estimators of :mod:`ibkit.estimators` that take labels as y
            (``BinningEstimator``, ``KDEEstimator``, ``MixedKNNEstimator``, ...).
        layers: module names. Default (None): every activation module of the model
            (:func:`ibkit.plane.default_layers`: ReLU, Tanh, ... modules, the hidden layers),
            which leaves the output out; to include it, name the layers and add
            ``"output"`` (:data:`ibkit.plane.OUTPUT`), recorded as the softmax of the
            model's output, e.g. ``[*default_layers(model), "output"]``.
        epochs: epochs at which the callback records (see :func:`epoch_schedule`); None
            records every epoch. ``update`` called by hand always records.
        path: the ``plane.csv`` to append to, or None to keep the points in memory only.
        max_samples: per estimator name, use only the first n probe rows (for example KDE,
            quadratic in n, on 4,096 of 10,000 MNIST images).
        background: where estimation runs: ``"thread"`` (a background thread; True means
            this), ``"process"`` (a spawned worker process: no contention for Python's GIL
            with the training loop, about 2 s to start) or ``"inline"`` (False).
        batch: record cheaply, estimate in bulk: each recorded epoch captures only a copy
            of the weights (or the activations), and every ``batch`` epochs (or 2 s after
            the first of them, or at :meth:`flush`) the waiting epochs are recorded and
            estimated together, vectorised across epochs (:mod:`ibkit.plane.executors`).
            The points are the same for every batch; only when they reach ``plane.csv``
            changes. None: 1 inline (points at once), ``DEFAULT_BATCH`` in the background.

    All values are in bits. I(X;T) is estimated with X the probe input's index, that is
    H(T) for binning of a deterministic layer.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        estimators: Sequence[MIEstimator],
        layers: Sequence[str] | None = None,
        epochs: Iterable[int] | None = None,
        path: str | Path | None = None,
        max_samples: Mapping[str, int] | None = None,
        background: bool | str = True,
        batch: int | None = None,
    ) -> None:
        self.model = model
        self.layers = check_layers(model, layers)
        self.x, self.y = _check_probe(x, y)
        if not estimators:
            raise param_error("estimators", "InformationPlane", "at least one estimator", estimators)
        for est in estimators:
            check_plane_estimator(est)
        self.estimators = list(estimators)
        self.epochs = None if epochs is None else sorted(set(int(e) for e in epochs))
        self.path = Path(path) if path is not None else None
        self.max_samples = dict(max_samples or {})
        self.points: list[PlanePoint] = []
        self.done: set[int] = set()
        self._lock = threading.Lock()
        if batch is None:
            batch = 1 if background in (False, "inline") else DEFAULT_BATCH
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise param_error("batch", "InformationPlane", "an int >= 1 or None", batch)
        self._executor = make_executor(background, self.layers, self.x, self.y, self.estimators,
                                       self.max_samples, self._store, batch=batch)
        self.on_points: Callable[[list[PlanePoint]], None] | None = None

    # ------------------------------------------------------------ public API
    def update(self, epoch: int, model: nn.Module | None = None) -> None:
        """Record the layers now and queue their estimation under ``epoch``."""
        if not isinstance(epoch, int) or epoch < 0:
            raise param_error("epoch", "InformationPlane.update", "an int >= 0", epoch)
        self.done.add(epoch)
        self._executor.submit(epoch, model or self.model)

    def compute(self) -> list[PlanePoint]:
        """Wait for queued estimations; all points so far, ordered by epoch, layer, estimator."""
        self.flush()
        order = {n: i for i, n in enumerate(self.layers)}
        return sorted(self.points, key=lambda p: (p.epoch, order[p.layer], p.estimator))

    def flush(self) -> None:
        """Wait until every queued estimation has finished; re-raise the first failure."""
        self._executor.flush()

    def close(self) -> None:
        """Finish queued work and stop the background worker."""
        try:
            self.flush()
        finally:
            self._executor.shutdown()

    def __enter__(self) -> InformationPlane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- callback
    def on_train_start(self, trainer: Any) -> None:
        """Record epoch 0 (the initial weights) when scheduled and not yet done."""
        if not trainer.history and self._wanted(0):
            self.update(0, trainer.eval_model)

    def on_epoch_end(self, trainer: Any, epoch: int, row: dict[str, float]) -> None:
        """Record the evaluated model (EMA weights when averaging is on) at scheduled epochs."""
        if self._wanted(epoch):
            self.update(epoch, trainer.eval_model)

    def on_train_end(self, trainer: Any) -> None:
        """Wait for the last estimations."""
        self.close()

    def state_dict(self) -> dict:
        """The epochs recorded, and those whose points are not stored yet with what their
        estimation needs (``pending``: weights or activations, see
        :meth:`~ibkit.plane.executors.Executor.pending_state`). A checkpoint does not wait for
        estimation, and a run resumed from it loses no point."""
        return {"done": sorted(self.done), "pending": self._executor.pending_state()}

    def load_state_dict(self, state: dict) -> None:
        """Resume: keep the points of the checkpoint's stored epochs in ``plane.csv`` (drop
        later ones and those of its pending epochs), and queue the pending epochs again."""
        self.done = set(state["done"])
        pending = list(state.get("pending", ()))
        self.points = truncate_points(self.path, max(self.done, default=-1),
                                      drop={int(p["epoch"]) for p in pending})
        copy_ = None
        for p in pending:
            if "activations" in p:
                self._executor.submit_recorded(int(p["epoch"]), p["activations"])
                continue
            if copy_ is None:
                copy_ = model_with_weights(self.model, p["weights"])
            else:
                assign_weights(copy_, p["weights"])
            self._executor.submit(int(p["epoch"]), copy_)

    # ------------------------------------------------------------ internals
    def _wanted(self, epoch: int) -> bool:
        return epoch not in self.done and (self.epochs is None or epoch in self.epochs)

    def follow(self, listener: Callable[[list[PlanePoint]], None], replay: bool = False) -> None:
        """Call ``listener`` with each new batch of points, after ``on_points`` (if any);
        with ``replay``, first with the points stored so far. Atomic with the estimation
        thread: no point is missed or given twice."""
        with self._lock:
            earlier = self.on_points

            def both(points: list[PlanePoint]) -> None:
                if earlier is not None:
                    earlier(points)
                listener(points)

            self.on_points = both
            if replay and self.points:
                listener(list(self.points))

    def _store(self, points: list[PlanePoint]) -> None:
        with self._lock:  # listeners are called under the lock (see follow)
            self.points += points
            if self.path is not None:
                write_points(self.path, points, mode="a")
            if self.on_points is not None:
                self.on_points(points)


def _check_probe(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if y.dim() != 1 or len(y) != len(x) or len(y) < 2:
        raise param_error("y", "InformationPlane", f"(n,) labels with n = len(x) = {len(x)} >= 2",
                          tuple(y.shape))
    if y.dtype.is_floating_point:
        raise param_error("y", "InformationPlane", "integer class labels", y.dtype)
    return x, y.long().cpu()


def write_points(path: Path, points: list[PlanePoint], mode: str) -> None:
    """Write ``points`` to the ``plane.csv`` at ``path``: append (``"a"``, the header only to a
    new or empty file) or replace (``"w"``)."""
    if mode == "w":
        Path(path).unlink(missing_ok=True)
    append_rows_csv(path, [p.as_row() for p in points], COLUMNS)


def truncate_points(path: Path | None, last_epoch: int,
                    drop: Collection[int] = ()) -> list[PlanePoint]:
    """Resume: keep the points of epochs up to ``last_epoch`` and not in ``drop`` in
    ``plane.csv``; return them."""
    if path is None:
        return []
    return [_point(r) for r in truncate_rows_csv(path, last_epoch, COLUMNS, drop)]


def read_points(path: str | Path | None) -> list[PlanePoint]:
    """The points of a ``plane.csv`` (empty when the file does not exist)."""
    if path is None or not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [_point(r) for r in rows]


def _optional(text: str | None) -> float | None:
    return None if text is None or text in ("", "None") else float(text)


def _point(r: Mapping[str, str]) -> PlanePoint:
    return PlanePoint(int(r["epoch"]), r["layer"], r["estimator"], float(r["I_XT_bits"]),
                      float(r["I_TY_bits"]), r["kind"], r["I_TY_kind"], int(r["n_samples"]),
                      float(r["seconds"]), _optional(r.get("I_XT_stderr_bits")),
                      _optional(r.get("I_TY_stderr_bits")))


def plane_from_checkpoints(
    model: nn.Module,
    checkpoints: Mapping[int, str | Path | Mapping[str, torch.Tensor]],
    x: torch.Tensor,
    y: torch.Tensor,
    estimators: Sequence[MIEstimator],
    layers: Sequence[str] | None = None,
    path: str | Path | None = None,
) -> list[PlanePoint]:
    """The plane of a model trained elsewhere, from its saved weights.

    Args:
        model: the architecture; each checkpoint's ``state_dict`` is loaded into it.
        checkpoints: epoch -> a ``state_dict`` or a file holding one (read with
            ``weights_only=True``; an ibkit checkpoint's ``"model"`` entry is used).
    """
    from ibkit._io import load_torch

    if not checkpoints:
        raise ConfigError("The 'checkpoints' parameter of plane_from_checkpoints is empty.")
    with InformationPlane(model, x, y, estimators, layers, path=path, background=False) as plane:
        for epoch in sorted(checkpoints):
            state = checkpoints[epoch]
            if not isinstance(state, Mapping):
                state = load_torch(Path(state))
                state = state.get("model", state)
            model.load_state_dict(state)
            plane.update(int(epoch))
        return plane.compute()
