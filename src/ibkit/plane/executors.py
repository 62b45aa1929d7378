"""Where an :class:`~ibkit.plane.InformationPlane` records and estimates: one strategy object
per place, chosen once (``background=``), all giving the same points.

Record cheaply, estimate in bulk: at each epoch the calling thread only captures what the
estimation needs (a copy of the weights, or the activations), and every ``batch`` epochs (or
``MAX_DELAY_S`` seconds after the first waiting one, or at :meth:`Executor.flush`) the waiting
epochs are recorded and estimated together, each layer's epochs in one vectorised call
(:func:`~ibkit.plane.estimation.estimate_points_batch`). The points are the same for any batch.

- :class:`InlineExecutor`: records on the calling thread at once and estimates there.
- :class:`ThreadExecutor`: a background thread holding its own copy of the model; the calling
  thread only clones the parameters and buffers (copied again when the model's structure
  changes). A model that cannot be copied is recorded on the calling thread and its
  activations are sent instead.
- :class:`ProcessExecutor`: a spawned worker process (no contention for the GIL) that receives
  the pickled model and the probe set once, then a batch of weights (NumPy arrays) per job; a
  model that cannot be pickled is recorded here and its activations are sent.
"""

from __future__ import annotations

import copy
import itertools
import multiprocessing
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from torch import nn

from ibkit._errors import param_error
from ibkit.estimators import MIEstimator
from ibkit.plane.estimation import PlanePoint, estimate_points_batch
from ibkit.plane.hooks import record_activations

Store = Callable[[list[PlanePoint]], None]
Recorded = list[tuple[int, Mapping[str, torch.Tensor]]]  # (epoch, {layer: activations})
MAX_DELAY_S = 2.0  # a waiting epoch is estimated at most this long after it was captured
MAX_BATCH_BYTES = 64 * 2**20  # captured weights or activations held before estimating


class Executor:
    """Records ``layers`` of a model on the probe ``x`` and estimates the points of its epochs,
    handing them to ``store``: ``submit`` captures, every ``batch`` epochs the waiting ones are
    dispatched (module docstring). ``flush`` dispatches what waits, waits for queued work and
    re-raises its first failure.
    """

    def __init__(self, layers: Sequence[str], x: torch.Tensor, y: torch.Tensor,
                 estimators: Sequence[MIEstimator], max_samples: Mapping[str, int],
                 store: Store, batch: int = 1) -> None:
        self.layers, self.x, self.y = list(layers), x, y
        self.estimators, self.max_samples, self.store = list(estimators), dict(max_samples), store
        self.batch = batch
        self._pending: list[Future[Any]] = []
        self._waiting: list[tuple[int, Any]] = []  # captured epochs not yet dispatched
        self._waiting_bytes, self._first_wait = 0, 0.0
        self._unstored: dict[int, Any] = {}  # epoch -> captured, until its points are stored
        self._unstored_lock = threading.Lock()

    def submit(self, epoch: int, model: nn.Module) -> None:
        """Capture what ``epoch``'s estimation needs from ``model`` now; dispatch the waiting
        epochs when ``batch`` of them wait, or they hold ``MAX_BATCH_BYTES``, or the first has
        waited ``MAX_DELAY_S``."""
        self.raise_failed()
        self._enqueue(epoch, self._capture(epoch, model))

    def submit_recorded(self, epoch: int, acts: Mapping[str, torch.Tensor]) -> None:
        """Queue ``epoch`` with its layers' activations already recorded (a resumed
        checkpoint's pending epoch)."""
        self.raise_failed()
        self._enqueue(epoch, dict(acts))

    def _enqueue(self, epoch: int, captured: Any) -> None:
        with self._unstored_lock:
            self._unstored[epoch] = captured
        if not self._waiting:
            self._first_wait = time.monotonic()
        self._waiting.append((epoch, captured))
        self._waiting_bytes += _nbytes(captured)
        if (len(self._waiting) >= self.batch or self._waiting_bytes >= MAX_BATCH_BYTES
                or time.monotonic() - self._first_wait >= MAX_DELAY_S):
            self._dispatch_waiting()

    def pending_state(self) -> list[dict[str, Any]]:
        """The submitted epochs whose points are not stored yet, as a checkpoint holds them
        (CPU tensors): ``{"epoch": e, "weights": {name: tensor}}`` or, for a model recorded
        where it was submitted, ``{"epoch": e, "activations": {layer: tensor}}``. Waits for
        nothing, so a checkpoint does not wait for estimation."""
        with self._unstored_lock:
            items = sorted(self._unstored.items(), key=lambda item: item[0])
        return [{"epoch": epoch, **_checkpointable(captured)} for epoch, captured in items]

    def _stored(self, waiting: Sequence[tuple[int, Any]], points: list[PlanePoint]) -> None:
        """Hand the points of ``waiting`` to ``store``, then forget those epochs' captures."""
        self.store(points)
        with self._unstored_lock:
            for epoch, captured in waiting:
                if self._unstored.get(epoch) is captured:  # not submitted again meanwhile
                    del self._unstored[epoch]

    def _capture(self, epoch: int, model: nn.Module) -> Any:
        """What the estimation needs from ``model`` at ``epoch`` (its activations here)."""
        return record_activations(model, self.layers, self.x)

    def _dispatch(self, waiting: list[tuple[int, Any]]) -> None:
        """Record (where needed) and estimate the waiting epochs; here, at once."""
        self._stored(waiting, estimate_in_chunks(waiting, lambda acts: acts, self.y,
                                                 self.estimators, self.max_samples))

    def _dispatch_waiting(self) -> None:
        waiting, self._waiting, self._waiting_bytes = self._waiting, [], 0
        if waiting:
            self._dispatch(waiting)

    def flush(self) -> None:
        """Dispatch the waiting epochs, wait until every queued estimation has finished;
        re-raise the first failure."""
        self._dispatch_waiting()
        pending, self._pending = self._pending, []
        for f in pending:
            f.result()

    def raise_failed(self) -> None:
        """Re-raise a finished job's failure now (not only at the next flush); forget the
        jobs that are finished."""
        if any(f.done() and f.exception() is not None for f in self._pending):
            self.flush()
        self._pending = [f for f in self._pending if not self._finished(f)]

    def _finished(self, future: Future[Any]) -> bool:
        return future.done()

    def shutdown(self) -> None:
        """Stop the worker (after :meth:`flush`)."""


def estimate_in_chunks(waiting: Sequence[tuple[int, Any]], record: Callable[[Any], Mapping[str,
                       torch.Tensor]], y: torch.Tensor, estimators: Sequence[MIEstimator],
                       max_samples: Mapping[str, int]) -> list[PlanePoint]:
    """The points of the waiting ``(epoch, captured)``: ``record(captured)`` gives an epoch's
    activations; epochs are estimated together in chunks of at most ``MAX_BATCH_BYTES`` of
    activations (:func:`~ibkit.plane.estimation.estimate_points_batch`)."""
    points: list[PlanePoint] = []
    chunk: Recorded = []
    size = 0
    for epoch, captured in waiting:
        acts = record(captured)
        chunk.append((epoch, acts))
        size += _nbytes(acts)
        if size >= MAX_BATCH_BYTES:
            points += estimate_points_batch(estimators, max_samples, chunk, y)
            chunk, size = [], 0
    return points + estimate_points_batch(estimators, max_samples, chunk, y)


def _checkpointable(captured: Any) -> dict[str, dict[str, torch.Tensor]]:
    """A capture as CPU tensors: ``{"weights": ...}`` from a ``(model or token, weights)``
    tuple, ``{"activations": ...}`` from a mapping of activations."""
    if isinstance(captured, tuple):
        return {"weights": {k: torch.as_tensor(v).cpu() for k, v in captured[1].items()}}
    return {"activations": {k: torch.as_tensor(v).cpu() for k, v in captured.items()}}


def model_with_weights(model: nn.Module, weights: Mapping[str, torch.Tensor]) -> nn.Module:
    """A copy of ``model`` holding ``weights`` (every parameter and buffer, by name; a
    checkpoint's pending epoch). RuntimeError when the model cannot be copied."""
    snapshot = _snapshot(model)
    if snapshot is None:
        raise RuntimeError(f"Cannot copy the model {type(model).__name__} to record a resumed "
                           "epoch's weights.")
    assign_weights(snapshot, weights)
    return snapshot


def _nbytes(captured: Any) -> int:
    """Bytes of the tensors or arrays in a captured epoch (a mapping, or a tuple holding one)."""
    if isinstance(captured, tuple):
        return sum(_nbytes(c) for c in captured if isinstance(c, Mapping))
    return sum(int(v.nbytes) for v in captured.values())


class InlineExecutor(Executor):
    """Everything on the calling thread: with ``batch=1`` before ``submit`` returns."""


class ThreadExecutor(Executor):
    """A background thread with its own copy of the model."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ibkit-plane")
        # (source model, signature of its tensors, the worker thread's copy)
        self._copy: tuple[nn.Module, tuple, nn.Module | None] | None = None

    def _capture(self, epoch: int, model: nn.Module) -> Any:
        """A clone of the weights for the worker's copy, or (a model that cannot be copied)
        the activations, recorded here."""
        worker_copy = self._worker_copy(model)  # each waiting epoch keeps the copy it is for
        if worker_copy is None:
            return record_activations(model, self.layers, self.x)
        return (worker_copy, {k: t.detach().clone() for k, t in named_tensors(model)})

    def _dispatch(self, waiting: list[tuple[int, Any]]) -> None:
        self._pending.append(self._pool.submit(self._record_estimate, waiting))

    def _record_estimate(self, waiting: list[tuple[int, Any]]) -> None:
        self._stored(waiting, estimate_in_chunks(waiting, self._record, self.y, self.estimators,
                                                 self.max_samples))

    def _record(self, captured: Any) -> Mapping[str, torch.Tensor]:
        if not isinstance(captured, tuple):
            return captured
        worker_copy, tensors = captured
        assign_weights(worker_copy, tensors)
        return record_activations(worker_copy, self.layers, self.x)

    def _worker_copy(self, model: nn.Module) -> nn.Module | None:
        """The worker's copy of ``model``, deep-copied again only when the source model or its
        parameters' and buffers' names, shapes or dtypes change."""
        sig = signature(model)
        if self._copy is None or self._copy[0] is not model or self._copy[1] != sig:
            self._copy = (model, sig, _snapshot(model))
        return self._copy[2]

    def shutdown(self) -> None:
        """Stop the thread."""
        self._pool.shutdown(wait=True)


class ProcessExecutor(Executor):
    """A spawned worker process that keeps the model and probe set it was sent once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_one_thread)
        # (source model, signature, token, pickled CPU copy) of the worker's model
        self._shipped: tuple[nn.Module, tuple, int, bytes | None] | None = None
        self._sent: set[int] = set()  # tokens whose model the worker holds
        self._stored_events: dict[Future[Any], threading.Event] = {}

    def _capture(self, epoch: int, model: nn.Module) -> Any:
        """NumPy copies of the weights, or (a model that cannot be pickled) the activations."""
        sig = signature(model)
        if self._shipped is None or self._shipped[0] is not model or self._shipped[1] != sig:
            self._dispatch_waiting()  # the waiting epochs belong to the previous model
            self._shipped = (model, sig, next(_TOKENS), _pickled_cpu_copy(model))
        if self._shipped[3] is None:
            return record_activations(model, self.layers, self.x)
        return (self._shipped[2], {k: _to_array(t) for k, t in named_tensors(model)})

    def _dispatch(self, waiting: list[tuple[int, Any]]) -> None:
        """Send the waiting epochs in one job (with the model and probe set the first time)."""
        assert self._shipped is not None
        _, _, token, blob = self._shipped
        payload = None
        if blob is not None and token not in self._sent:
            payload = (blob, _to_array(self.x))
            self._sent.add(token)
        self._queue(self._pool.submit(_process_job, token, payload, waiting, self.layers,
                                      self.estimators, self.max_samples, self.y), waiting)

    def _queue(self, future: Future[Any], waiting: list[tuple[int, Any]]) -> None:
        """The worker returns points; a done-callback stores them (in this process)."""
        stored = self._stored_events[future] = threading.Event()
        future.add_done_callback(lambda f: self._store_future(f, stored, waiting))
        self._pending.append(future)

    def _store_future(self, future: Future[Any], stored: threading.Event,
                      waiting: list[tuple[int, Any]]) -> None:
        """Store a finished job's points, then say so (``stored``, the job's own event: flush
        may have forgotten the future by then)."""
        try:
            if future.exception() is None:
                self._stored(waiting, future.result())
        finally:
            stored.set()

    def _finished(self, future: Future[Any]) -> bool:
        """Done, and its points stored by the callback."""
        if future.done() and self._stored_events[future].is_set():
            del self._stored_events[future]
            return True
        return False

    def flush(self) -> None:
        """Dispatch the waiting epochs; wait for the results and for their storing callbacks."""
        self._dispatch_waiting()
        pending, self._pending = self._pending, []
        for f in pending:
            stored = self._stored_events.pop(f)
            f.result()
            stored.wait()

    def shutdown(self) -> None:
        """Stop the worker process."""
        self._pool.shutdown(wait=True)


EXECUTORS: dict[str, type[Executor]] = {"inline": InlineExecutor, "thread": ThreadExecutor,
                                        "process": ProcessExecutor}


def make_executor(background: bool | str, *args: Any, batch: int = 1) -> Executor:
    """The executor for ``background`` (True: ``"thread"``, False: ``"inline"``)."""
    mode = background if isinstance(background, str) else ("thread" if background else "inline")
    if mode not in EXECUTORS:
        raise param_error("background", "InformationPlane",
                          "True, False, 'thread', 'process' or 'inline'", background)
    executor = EXECUTORS[mode](*args)
    executor.batch = batch
    return executor


_TOKENS = itertools.count()
_WORKER_MODELS: dict[int, tuple[nn.Module, torch.Tensor]] = {}


def _process_job(token: int, payload: tuple[bytes, np.ndarray] | None,
                 waiting: list[tuple[int, Any]], layers: Sequence[str],
                 estimators: Sequence[MIEstimator], max_samples: Mapping[str, int],
                 y: torch.Tensor) -> list[PlanePoint]:
    """In the worker process: for each waiting epoch load its weights into the worker's copy
    of the model and record (or take the activations sent); estimate them together."""
    if payload is not None:
        blob, x = payload
        _WORKER_MODELS.clear()
        _WORKER_MODELS[token] = (pickle.loads(blob), torch.as_tensor(x))

    def record(captured: Any) -> Mapping[str, torch.Tensor]:
        if not isinstance(captured, tuple):
            return captured
        model, x_t = _WORKER_MODELS[captured[0]]
        assign_weights(model, {k: torch.as_tensor(v) for k, v in captured[1].items()})
        return record_activations(model, layers, x_t)

    return estimate_in_chunks(waiting, record, y, estimators, max_samples)


def _pickled_cpu_copy(model: nn.Module) -> bytes | None:
    """The pickle of a CPU copy of ``model`` (None if it cannot be copied or pickled)."""
    snapshot = _snapshot(model)
    try:
        return None if snapshot is None else pickle.dumps(snapshot.cpu())
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def named_tensors(model: nn.Module) -> Iterable[tuple[str, torch.Tensor]]:
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


def signature(model: nn.Module) -> tuple:
    """Names, shapes and dtypes of ``model``'s parameters and buffers."""
    return tuple((k, tuple(t.shape), t.dtype) for k, t in named_tensors(model))


@torch.no_grad()
def assign_weights(model: nn.Module, tensors: Mapping[str, torch.Tensor]) -> None:
    """Copy ``tensors`` (by name) into ``model``'s parameters and buffers."""
    for name, t in named_tensors(model):
        t.copy_(tensors[name])


def _snapshot(model: nn.Module) -> nn.Module | None:
    """A frozen copy of ``model`` for a worker (None if it cannot be copied)."""
    try:
        with torch.no_grad():
            return copy.deepcopy(model)
    except RuntimeError:  # for example a module whose attribute is a computed tensor
        return None


def _one_thread() -> None:
    torch.set_num_threads(1)
