"""Where an :class:`~ibkit.plane.InformationPlane` records and estimates: one strategy object
per place, chosen once (``background=``), all giving the same points.

- :class:`InlineExecutor`: on the calling thread, at once.
- :class:`ThreadExecutor`: a background thread holding its own copy of the model; the calling
  thread only clones the parameters and buffers (copied again when the model's structure
  changes). A model that cannot be copied is recorded on the calling thread and its
  activations are sent instead.
- :class:`ProcessExecutor`: a spawned worker process (no contention for the GIL) that receives
  the pickled model and the probe set once, then only the weights (NumPy arrays) each epoch; a
  model that cannot be pickled is recorded here and its activations are sent.
"""

from __future__ import annotations

import copy
import itertools
import multiprocessing
import pickle
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from torch import nn

from ibkit._errors import param_error
from ibkit.estimators import MIEstimator
from ibkit.plane.estimation import PlanePoint, estimate_points
from ibkit.plane.hooks import record_activations

Store = Callable[[list[PlanePoint]], None]


class Executor:
    """Records ``layers`` of a model on the probe ``x`` and estimates the points of an epoch,
    handing them to ``store``. ``flush`` waits for queued work and re-raises its first failure.
    """

    def __init__(self, layers: Sequence[str], x: torch.Tensor, y: torch.Tensor,
                 estimators: Sequence[MIEstimator], max_samples: Mapping[str, int],
                 store: Store) -> None:
        self.layers, self.x, self.y = list(layers), x, y
        self.estimators, self.max_samples, self.store = list(estimators), dict(max_samples), store
        self._pending: list[Future[Any]] = []

    def submit(self, epoch: int, model: nn.Module) -> None:
        """Record ``model`` now (or have a worker do it) and estimate ``epoch``'s points."""
        raise NotImplementedError

    def estimate(self, epoch: int, acts: Mapping[str, torch.Tensor]) -> None:
        """Estimate recorded activations and store the points."""
        self.store(estimate_points(self.estimators, self.max_samples, epoch, acts, self.y))

    def flush(self) -> None:
        """Wait until every queued estimation has finished; re-raise the first failure."""
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


class InlineExecutor(Executor):
    """Everything on the calling thread, before ``submit`` returns."""

    def submit(self, epoch: int, model: nn.Module) -> None:
        """Record and estimate now."""
        self.estimate(epoch, record_activations(model, self.layers, self.x))


class ThreadExecutor(Executor):
    """A background thread with its own copy of the model."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ibkit-plane")
        # (source model, signature of its tensors, the worker thread's copy)
        self._copy: tuple[nn.Module, tuple, nn.Module | None] | None = None

    def submit(self, epoch: int, model: nn.Module) -> None:
        """Clone the weights for the worker's copy, or record here if it cannot be copied."""
        self.raise_failed()
        worker_copy = self._worker_copy(model)
        if worker_copy is not None:  # the forward pass runs on the worker, on its own copy
            tensors = {k: t.detach().clone() for k, t in named_tensors(model)}
            self._pending.append(self._pool.submit(self._load_record_estimate, epoch,
                                                   worker_copy, tensors))
            return
        acts = record_activations(model, self.layers, self.x)
        self._pending.append(self._pool.submit(self.estimate, epoch, acts))

    def _worker_copy(self, model: nn.Module) -> nn.Module | None:
        """The worker's copy of ``model``, deep-copied again only when the source model or its
        parameters' and buffers' names, shapes or dtypes change."""
        sig = signature(model)
        if self._copy is None or self._copy[0] is not model or self._copy[1] != sig:
            self._copy = (model, sig, _snapshot(model))
        return self._copy[2]

    def _load_record_estimate(self, epoch: int, worker_copy: nn.Module,
                              tensors: Mapping[str, torch.Tensor]) -> None:
        _assign(worker_copy, tensors)
        self.estimate(epoch, record_activations(worker_copy, self.layers, self.x))

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
        self._stored: dict[Future[Any], threading.Event] = {}

    def submit(self, epoch: int, model: nn.Module) -> None:
        """Send the weights, or (a model that cannot be pickled) the activations."""
        self.raise_failed()
        sig = signature(model)
        if self._shipped is None or self._shipped[0] is not model or self._shipped[1] != sig:
            self._shipped = (model, sig, next(_TOKENS), _pickled_cpu_copy(model))
        _, _, token, blob = self._shipped
        if blob is None:
            acts = record_activations(model, self.layers, self.x)
            self._queue(self._pool.submit(estimate_points, self.estimators, self.max_samples,
                                          epoch, acts, self.y))
            return
        arrays = {k: _to_array(t) for k, t in named_tensors(model)}
        payload = None if token in self._sent else (blob, _to_array(self.x), self.y.numpy())
        self._sent.add(token)
        self._queue(self._pool.submit(_process_job, token, payload, arrays, self.layers,
                                      self.estimators, self.max_samples, epoch))

    def _queue(self, future: Future[Any]) -> None:
        """The worker returns points; a done-callback stores them (in this process)."""
        self._stored[future] = threading.Event()
        future.add_done_callback(self._store_future)
        self._pending.append(future)

    def _store_future(self, future: Future[Any]) -> None:
        try:
            if future.exception() is None:
                self.store(future.result())
        finally:
            self._stored[future].set()

    def _finished(self, future: Future[Any]) -> bool:
        """Done, and its points stored by the callback."""
        if future.done() and self._stored[future].is_set():
            del self._stored[future]
            return True
        return False

    def flush(self) -> None:
        """Wait for the results and for their storing callbacks."""
        pending, self._pending = self._pending, []
        for f in pending:
            f.result()
            self._stored.pop(f).wait()

    def shutdown(self) -> None:
        """Stop the worker process."""
        self._pool.shutdown(wait=True)


EXECUTORS: dict[str, type[Executor]] = {"inline": InlineExecutor, "thread": ThreadExecutor,
                                        "process": ProcessExecutor}


def make_executor(background: bool | str, *args: Any) -> Executor:
    """The executor for ``background`` (True: ``"thread"``, False: ``"inline"``)."""
    mode = background if isinstance(background, str) else ("thread" if background else "inline")
    if mode not in EXECUTORS:
        raise param_error("background", "InformationPlane",
                          "True, False, 'thread', 'process' or 'inline'", background)
    return EXECUTORS[mode](*args)


_TOKENS = itertools.count()
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
    return estimate_points(estimators, max_samples, epoch, record_activations(model, layers, x_t),
                           y_t)


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
def _assign(model: nn.Module, tensors: Mapping[str, torch.Tensor]) -> None:
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
