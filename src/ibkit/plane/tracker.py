"""``InformationPlane``: I(X;T) and I(T;Y) of chosen layers of any model, during or after training.

Three ways to use it, with the same numbers:

- as a callback of :class:`ibkit.engine.Trainer` (``callbacks=[plane]``);
- in one's own loop: ``plane.update(epoch)`` after each epoch, then ``plane.compute()``;
- on saved weights: :func:`plane_from_checkpoints`.

With a background thread or worker process, the training thread only copies the model's
parameters and buffers (one clone per recorded epoch); the worker holds its own copy of the
model (copied again when the model's structure changes), loads them into it, runs the forward
pass over the probe set and estimates while training goes on. A worker process receives the
pickled model and the probe set once. Attributes other than parameters and buffers reach the
workers only with a new copy. A model that cannot be copied (or pickled, for a process) is
recorded on the training thread and its activations are sent instead. Each epoch's points are
appended to ``plane.csv`` as soon as they are computed.
"""

from __future__ import annotations

import copy
import csv
import itertools
import multiprocessing
import pickle
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ibkit._errors import ConfigError, param_error
from ibkit._io import append_rows_csv, truncate_rows_csv
from ibkit.callbacks import Callback, keyed_by_file
from ibkit.estimators import MIEstimator
from ibkit.plane.estimation import COLUMNS, PlanePoint, check_plane_estimator, layer_points
from ibkit.plane.hooks import check_layers, record_activations


class InformationPlane(Callback):
    """Track the information plane of ``model``'s layers on a fixed probe set.

    Args:
        model: any ``nn.Module``; layers are chosen by module name.
        x: ``(n, ...)`` probe inputs, each a distinct input (X is the input's identity).
        y: ``(n,)`` integer labels of the probe inputs.
        estimators: estimators of :mod:`ibkit.estimators` that take labels as y
            (``BinningEstimator``, ``KDEEstimator``, ``MixedKNNEstimator``, ...).
        layers: module names; default every activation module; ``"output"`` adds the
            softmax of the model's output.
        epochs: epochs at which the callback records (see :func:`epoch_schedule`); None
            records every epoch. ``update`` called by hand always records.
        path: the ``plane.csv`` to append to, or None to keep the points in memory only.
        max_samples: per estimator name, use only the first n probe rows (for example KDE,
            quadratic in n, on 4,096 of 10,000 MNIST images).
        background: where estimation runs: ``"thread"`` (a background thread; True means
            this), ``"process"`` (a spawned worker process: no contention for Python's GIL
            with the training loop, about 2 s to start) or ``"inline"`` (False).

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
        self._pending: list[Future[Any]] = []
        self._pool = _make_pool(background)
        # (source model, signature of its tensors, the worker thread's copy)
        self._copy: tuple[nn.Module, tuple, nn.Module | None] | None = None
        # (source model, signature, token, pickled CPU copy) of the worker process's model
        self._shipped: tuple[nn.Module, tuple, int, bytes | None] | None = None
        self._sent: set[int] = set()  # tokens whose model the worker process holds
        self.on_points: Callable[[list[PlanePoint]], None] | None = None

    # ------------------------------------------------------------ public API
    def update(self, epoch: int, model: nn.Module | None = None) -> None:
        """Record the layers now and queue their estimation under ``epoch``."""
        if not isinstance(epoch, int) or epoch < 0:
            raise param_error("epoch", "InformationPlane.update", "an int >= 0", epoch)
        model = model or self.model
        self.done.add(epoch)
        if self._pool is None:
            self._estimate(epoch, record_activations(model, self.layers, self.x))
            return
        self._raise_failed()
        if isinstance(self._pool, ThreadPoolExecutor):
            worker_copy = self._worker_copy(model)
            if worker_copy is not None:  # the forward pass runs on the worker, on its own copy
                tensors = {k: t.detach().clone() for k, t in _named_tensors(model)}
                self._pending.append(self._pool.submit(self._load_record_estimate, epoch,
                                                       worker_copy, tensors))
                return
        if isinstance(self._pool, ProcessPoolExecutor) and self._ship(epoch, model):
            return
        acts = record_activations(model, self.layers, self.x)
        if isinstance(self._pool, ProcessPoolExecutor):
            future: Future[Any] = self._pool.submit(estimate_points, self.estimators, self.max_samples, epoch,
                                       acts, self.y)
            _STORED[future] = threading.Event()
            future.add_done_callback(self._store_future)
        else:
            future = self._pool.submit(self._estimate, epoch, acts)
        self._pending.append(future)

    def compute(self) -> list[PlanePoint]:
        """Wait for queued estimations; all points so far, ordered by epoch, layer, estimator."""
        self.flush()
        order = {n: i for i, n in enumerate(self.layers)}
        return sorted(self.points, key=lambda p: (p.epoch, order[p.layer], p.estimator))

    def flush(self) -> None:
        """Wait until every queued estimation has finished; re-raise the first failure."""
        pending, self._pending = self._pending, []
        for f in pending:
            f.result()
            stored = _STORED.get(f)
            if stored is not None:  # a worker process's points are stored by a callback
                stored.wait()
                _STORED.pop(f, None)

    def close(self) -> None:
        """Finish queued work and stop the background thread."""
        try:
            self.flush()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    def __enter__(self) -> InformationPlane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- callback
    @property
    def state_key(self) -> str:
        """``InformationPlane[<file name>]``: two planes of one run, each with its own file,
        checkpoint separately."""
        return keyed_by_file("InformationPlane", self.path)

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
        """Epochs done; waits for queued work so the checkpoint and ``plane.csv`` agree."""
        self.flush()
        return {"done": sorted(self.done)}

    def load_state_dict(self, state: dict) -> None:
        """Resume: keep the points of the checkpoint's epochs, drop later ones from ``plane.csv``."""
        self.done = set(state["done"])
        self.points = truncate_points(self.path, max(self.done, default=-1))

    # ------------------------------------------------------------ internals
    def _wanted(self, epoch: int) -> bool:
        return epoch not in self.done and (self.epochs is None or epoch in self.epochs)

    def _worker_copy(self, model: nn.Module) -> nn.Module | None:
        """The worker thread's copy of ``model``, deep-copied again only when the source
        model or its parameters' and buffers' names, shapes or dtypes change."""
        signature = _signature(model)
        if self._copy is None or self._copy[0] is not model or self._copy[1] != signature:
            self._copy = (model, signature, _snapshot(model))
        return self._copy[2]

    def _load_record_estimate(self, epoch: int, worker_copy: nn.Module,
                              tensors: Mapping[str, torch.Tensor]) -> None:
        _assign(worker_copy, tensors)
        self._estimate(epoch, record_activations(worker_copy, self.layers, self.x))

    def _ship(self, epoch: int, model: nn.Module) -> bool:
        """Queue ``epoch`` on the worker process with the weights only; False if ``model``
        cannot be pickled (its activations are then recorded here and sent)."""
        signature = _signature(model)
        if self._shipped is None or self._shipped[0] is not model or self._shipped[1] != signature:
            self._shipped = (model, signature, next(_TOKENS), _pickled_cpu_copy(model))
        _, _, token, blob = self._shipped
        if blob is None:
            return False
        arrays = {k: _to_array(t) for k, t in _named_tensors(model)}
        payload = None if token in self._sent else (blob, _to_array(self.x), self.y.numpy())
        self._sent.add(token)
        assert isinstance(self._pool, ProcessPoolExecutor)
        future = self._pool.submit(_process_job, token, payload, arrays, self.layers,
                                   self.estimators, self.max_samples, epoch)
        _STORED[future] = threading.Event()
        future.add_done_callback(self._store_future)
        self._pending.append(future)
        return True

    def _estimate(self, epoch: int, acts: dict[str, torch.Tensor]) -> None:
        self._store(estimate_points(self.estimators, self.max_samples, epoch, acts, self.y))

    def _store_future(self, future: Future) -> None:
        try:
            if future.exception() is None:
                self._store(future.result())
        finally:
            _STORED[future].set()  # flush removes it once it has waited

    def _store(self, points: list[PlanePoint]) -> None:
        with self._lock:
            self.points += points
            if self.path is not None:
                write_points(self.path, points, mode="a")
        if self.on_points is not None:
            self.on_points(points)

    def _raise_failed(self) -> None:
        for f in self._pending:
            if f.done() and f.exception() is not None:
                self.flush()
        self._pending = [f for f in self._pending if not f.done()]


def estimate_points(estimators: Sequence[MIEstimator], max_samples: Mapping[str, int], epoch: int,
                    acts: Mapping[str, torch.Tensor], y: torch.Tensor) -> list[PlanePoint]:
    """The points of one epoch: every estimator on every recorded layer."""
    points: list[PlanePoint] = []
    for est in estimators:
        n = max_samples.get(getattr(est, "name", ""), len(y))
        for layer, t in acts.items():
            points += layer_points(est, epoch, layer, t[:n], y[:n])
    return points


_TOKENS = itertools.count()
_STORED: dict[Future[Any], threading.Event] = {}
"""Futures of the worker process whose points a done-callback stores: set once stored."""
_WORKER_MODELS: dict[int, tuple[nn.Module, torch.Tensor, torch.Tensor]] = {}


def _process_job(token: int, payload: tuple[bytes, np.ndarray, np.ndarray] | None,
                 state: dict[str, Any], layers: Sequence[str], estimators: Sequence[MIEstimator],
                 max_samples: Mapping[str, int], epoch: int) -> list[PlanePoint]:
    """In the worker process: load the weights into its copy of the model, record, estimate."""
    if payload is not None:
        blob, x, y = payload
        _WORKER_MODELS.clear()
        _WORKER_MODELS[token] = (pickle.loads(blob), torch.as_tensor(x), torch.as_tensor(y))
    model, x_t, y_t = _WORKER_MODELS[token]
    _assign(model, {k: torch.as_tensor(v) for k, v in state.items()})
    return estimate_points(estimators, max_samples, epoch, record_activations(model, layers, x_t), y_t)


def _pickled_cpu_copy(model: nn.Module) -> bytes | None:
    """The pickle of a CPU copy of ``model`` (None if it cannot be copied or pickled)."""
    snapshot = _snapshot(model)
    try:
        return None if snapshot is None else pickle.dumps(snapshot.cpu())
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def _named_tensors(model: nn.Module) -> Iterable[tuple[str, torch.Tensor]]:
    """Every parameter and buffer of ``model`` (non-persistent buffers included), by name."""
    return itertools.chain(model.named_parameters(), model.named_buffers())


def _to_array(t: torch.Tensor) -> Any:
    """A CPU NumPy copy of ``t`` (fast to pickle); a tensor where the dtype has no NumPy
    equivalent (bfloat16)."""
    t = t.detach().cpu()
    try:
        return t.numpy().copy()
    except TypeError:
        return t.clone()


def _signature(model: nn.Module) -> tuple:
    """Names, shapes and dtypes of ``model``'s parameters and buffers."""
    return tuple((k, tuple(t.shape), t.dtype) for k, t in _named_tensors(model))


@torch.no_grad()
def _assign(model: nn.Module, tensors: Mapping[str, torch.Tensor]) -> None:
    """Copy ``tensors`` (by name) into ``model``'s parameters and buffers."""
    for name, t in _named_tensors(model):
        t.copy_(tensors[name])


def _snapshot(model: nn.Module) -> nn.Module | None:
    """A frozen copy of ``model`` for the worker thread (None if it cannot be copied)."""
    try:
        with torch.no_grad():
            return copy.deepcopy(model)
    except RuntimeError:  # for example a module whose attribute is a computed tensor
        return None


def _one_thread() -> None:
    torch.set_num_threads(1)


def _make_pool(background: bool | str) -> ThreadPoolExecutor | ProcessPoolExecutor | None:
    mode = background if isinstance(background, str) else ("thread" if background else "inline")
    if mode == "thread":
        return ThreadPoolExecutor(1, thread_name_prefix="ibkit-plane")
    if mode == "process":
        return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_one_thread)
    if mode == "inline":
        return None
    raise param_error("background", "InformationPlane",
                      "True, False, 'thread', 'process' or 'inline'", background)


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


def truncate_points(path: Path | None, last_epoch: int) -> list[PlanePoint]:
    """Resume: keep the points of epochs up to ``last_epoch`` in ``plane.csv``; return them."""
    if path is None:
        return []
    return [_point(r) for r in truncate_rows_csv(path, last_epoch, COLUMNS)]


def read_points(path: str | Path | None) -> list[PlanePoint]:
    """The points of a ``plane.csv`` (empty when the file does not exist)."""
    if path is None or not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [_point(r) for r in rows]


def _point(r: Mapping[str, str]) -> PlanePoint:
    return PlanePoint(int(r["epoch"]), r["layer"], r["estimator"], float(r["I_XT_bits"]),
                      float(r["I_TY_bits"]), r["kind"], r["I_TY_kind"], int(r["n_samples"]),
                      float(r["seconds"]))


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
