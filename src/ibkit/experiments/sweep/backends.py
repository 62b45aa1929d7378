"""Where the points of a sweep run: here (a process pool), on Dask distributed, or on SLURM.

Each backend only ships :class:`PointTask` values to :func:`run_point` and hands back futures
(``done()``, ``result()``); the engines do the distribution (no scheduler, queue or RPC of
ibkit's own). :func:`execute` drives any backend with the same progress line and the same
handling of a failed point: reported with its run directory and error, the rest go on.
"""

from __future__ import annotations

import shutil
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from ibkit._errors import ConfigError
from ibkit.experiments.sweep.point import PointTask, run_point
from ibkit.experiments.sweep.progress import SweepProgress

BACKENDS = ("local", "dask", "slurm")


class PointFuture(Protocol):
    """What a backend hands back per point (``concurrent.futures``, Dask and submitit agree)."""

    def done(self) -> bool: ...  # noqa: D102

    def result(self) -> Any: ...  # noqa: D102


class Session(ABC):
    """A started backend: submits points and says how many are running."""

    @abstractmethod
    def submit(self, tasks: Sequence[PointTask]) -> list[PointFuture]:
        """One future per task, in order."""

    @abstractmethod
    def running(self, pending: Sequence[PointFuture]) -> int:
        """How many of the ``pending`` futures are running now."""


class SweepBackend(ABC):
    """A place to run sweep points; ``start`` yields a :class:`Session` for one sweep."""

    name: str

    @abstractmethod
    @contextmanager
    def start(self, sweep_dir: Path, n_points: int) -> Iterator[Session]:
        """Bring the backend up for ``n_points`` points (and down again afterwards)."""


# ------------------------------------------------------------------ local
class _Inline:
    """A future that runs its point, in this process and thread, when first asked if done
    (so Ctrl-C stops the training cleanly with a checkpoint)."""

    def __init__(self, task: PointTask) -> None:
        self.task = task
        self._result: dict[str, Any] | None = None
        self._error: Exception | None = None
        self._ran = False

    def done(self) -> bool:
        if not self._ran:
            self._ran = True
            try:
                self._result = run_point(self.task)
            except Exception as e:  # noqa: BLE001 - handed back through result()
                self._error = e
        return True

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._result


class _InlineSession(Session):
    def submit(self, tasks: Sequence[PointTask]) -> list[PointFuture]:
        return [_Inline(t) for t in tasks]

    def running(self, pending: Sequence[PointFuture]) -> int:
        return 1 if pending else 0


class _PoolSession(Session):
    def __init__(self, pool: ProcessPoolExecutor, workers: int) -> None:
        self.pool, self.workers = pool, workers

    def submit(self, tasks: Sequence[PointTask]) -> list[PointFuture]:
        return [self.pool.submit(run_point, t) for t in tasks]

    def running(self, pending: Sequence[PointFuture]) -> int:
        # a pool marks one call more than it has workers as running (its call queue)
        return min(self.workers, sum(f.running() for f in pending))  # type: ignore[attr-defined]


class LocalBackend(SweepBackend):
    """This machine: one point at a time in this process, or ``workers`` spawned processes."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ConfigError(f"The '--workers' option must be >= 1. Got {workers} instead.")
        self.workers = workers

    @contextmanager
    def start(self, sweep_dir: Path, n_points: int) -> Iterator[Session]:
        """Inline for one worker or one point, otherwise a spawn-context process pool."""
        if self.workers == 1 or n_points <= 1:
            yield _InlineSession()
            return
        n = min(self.workers, n_points)
        with ProcessPoolExecutor(n, mp_context=get_context("spawn")) as pool:
            yield _PoolSession(pool, n)


# ------------------------------------------------------------------ dask
class _DaskSession(Session):
    def __init__(self, client: Any) -> None:
        self.client = client

    def submit(self, tasks: Sequence[PointTask]) -> list[PointFuture]:
        # pure=False: a point is a side effect on its run directory, never a cached value
        token = uuid.uuid4().hex[:8]
        return [self.client.submit(run_point, t, key=f"ibkit-{token}-{i}-{Path(t.run_dir).name}",
                                   pure=False) for i, t in enumerate(tasks)]

    def running(self, pending: Sequence[PointFuture]) -> int:
        keys = {f.key for f in pending}  # type: ignore[attr-defined]
        try:
            processing = self.client.processing()
            threads = self.client.nthreads()
        except Exception:  # noqa: BLE001 - a worker coming and going: report none for a moment
            return 0
        return sum(min(len(keys.intersection(ks)), threads.get(w, 1))
                   for w, ks in processing.items())


class DaskBackend(SweepBackend):
    """Dask distributed: an existing scheduler at ``address``, or a ``LocalCluster``.

    Workers are non-daemonic (``distributed.worker.daemon: False``), so that data loaders may
    start child processes. A point whose worker dies is given to another worker by the
    scheduler (up to ``distributed.scheduler.allowed-failures`` times, 3 by default), and
    resumes there from its last checkpoint. Needs ``pip install ibkit[dask]``.

    Args:
        address: ``tcp://HOST:PORT`` of a running scheduler; None starts a ``LocalCluster``.
        workers: the local cluster's worker processes (one thread each).
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int = 2) -> None:
        if workers < 1:
            raise ConfigError(f"The '--workers' option must be >= 1. Got {workers} instead.")
        self.address, self.workers = address, workers

    @contextmanager
    def start(self, sweep_dir: Path, n_points: int) -> Iterator[Session]:
        """Connect to the scheduler (or start the local cluster) for the sweep's duration."""
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("The dask backend needs Dask distributed: "
                              "pip install 'ibkit[dask]'.") from None
        with dask.config.set({"distributed.worker.daemon": False}):
            if self.address is not None:
                with Client(self.address) as client:
                    yield _DaskSession(client)
                return
            with LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                              host="127.0.0.1", dashboard_address=None) as cluster, \
                    Client(cluster) as client:
                yield _DaskSession(client)


# ------------------------------------------------------------------ slurm
class _SubmititSession(Session):
    def __init__(self, executor: Any) -> None:
        self.executor = executor

    def submit(self, tasks: Sequence[PointTask]) -> list[PointFuture]:
        return list(self.executor.map_array(_requeueable_point(), list(tasks)))

    def running(self, pending: Sequence[PointFuture]) -> int:
        return sum(getattr(j, "state", "") == "RUNNING" for j in pending)


def _requeueable_point() -> Any:
    """A submitit ``Checkpointable`` calling :func:`run_point`: on a time-out or a pre-emption
    submitit requeues the same call, which resumes from the point's last checkpoint."""
    from submitit.helpers import Checkpointable

    class RequeueablePoint(Checkpointable):
        def __call__(self, task: PointTask) -> dict:
            return run_point(task)

    return RequeueablePoint()  # submitit pickles with cloudpickle: a local class travels


class SlurmBackend(SweepBackend):
    """SLURM job arrays through submitit: one array task per point, logs in ``SWEEP_DIR/slurm``.

    On a time-out or a pre-emption the job is requeued (at most ``max_requeues`` time-outs;
    pre-emptions do not count) and the point resumes from its checkpoint. The sweep directory
    must be on a file system that the compute nodes share. Needs ``pip install ibkit[slurm]``.

    Args:
        partition: ``--partition``; None for the cluster's default.
        time_min: the time limit of each point's job, in minutes.
        mem_gb: memory per job in GB; None for the cluster's default.
        parallel: how many array tasks may run at once (``%N``); None for no limit.
        threads: CPUs per job (``--cpus-per-task``), matching the points' torch threads.
        cluster: ``slurm``; ``local`` or ``debug`` run the same code path on this machine
            (submitit's executors, for tests and dry runs).
    """

    name = "slurm"

    def __init__(self, partition: str | None = None, time_min: int = 60, mem_gb: float | None = None,
                 parallel: int | None = None, threads: int = 1, cluster: str = "slurm",
                 max_requeues: int = 3) -> None:
        if cluster not in ("slurm", "local", "debug"):
            raise ConfigError(f"The 'cluster' parameter must be slurm, local or debug. "
                              f"Got {cluster!r} instead.")
        if time_min < 1:
            raise ConfigError(f"The '--time' option must be >= 1 minute. Got {time_min} instead.")
        self.partition, self.time_min, self.mem_gb = partition, time_min, mem_gb
        self.parallel, self.threads, self.cluster = parallel, threads, cluster
        self.max_requeues = max_requeues

    def parameters(self) -> dict[str, Any]:
        """The submitit parameters of each job (``slurm_*`` ones only reach SLURM)."""
        params: dict[str, Any] = {"timeout_min": self.time_min, "cpus_per_task": self.threads,
                                  "name": "ibkit-sweep"}
        if self.mem_gb is not None:
            params["mem_gb"] = self.mem_gb
        if self.partition is not None:
            params["slurm_partition"] = self.partition
        if self.parallel is not None:
            params["slurm_array_parallelism"] = self.parallel
        return params

    @contextmanager
    def start(self, sweep_dir: Path, n_points: int) -> Iterator[Session]:
        """An ``AutoExecutor`` logging to ``sweep_dir/slurm/``."""
        try:
            import submitit
        except ImportError:
            raise ConfigError("The slurm backend needs submitit: pip install 'ibkit[slurm]'.") \
                from None
        if self.cluster == "slurm" and shutil.which("sbatch") is None:
            raise ConfigError("The slurm backend needs SLURM's 'sbatch' on PATH; none was found "
                              "on this machine (use --backend local or dask here).")
        executor = submitit.AutoExecutor(folder=sweep_dir / "slurm" / "%j", cluster=self.cluster,
                                         slurm_max_num_timeout=self.max_requeues)
        executor.update_parameters(**self.parameters())
        yield _SubmititSession(executor)


def make_backend(name: str, workers: int = 1, address: str | None = None,
                 **slurm: Any) -> SweepBackend:
    """The backend called ``name`` (``local``, ``dask`` or ``slurm``), as the CLI builds it."""
    if name == "local":
        return LocalBackend(workers)
    if name == "dask":
        return DaskBackend(address, workers)
    if name == "slurm":
        return SlurmBackend(**slurm)
    raise ConfigError(f"The '--backend' option must be one of {', '.join(BACKENDS)}. "
                      f"Got {name!r} instead.")


def execute(backend: SweepBackend, tasks: Sequence[PointTask], sweep_dir: Path,
            progress: SweepProgress | None = None, poll_s: float = 0.5) -> list[str]:
    """Run ``tasks`` on ``backend``; return one ``'RUN_DIR: error'`` line per failed point."""
    from ibkit.engine import TrainingInterrupted

    progress = progress or SweepProgress(len(tasks))
    errors: list[str] = []
    done = 0
    with backend.start(sweep_dir, len(tasks)) as session:
        pending = list(zip(tasks, session.submit(tasks), strict=True))
        progress.update(done, session.running([f for _, f in pending]), 0)
        while pending:
            still = []
            for i, (task, future) in enumerate(pending):
                if not future.done():
                    still.append((task, future))
                    continue
                try:
                    future.result()
                    done += 1
                except TrainingInterrupted:
                    raise
                except Exception as e:  # noqa: BLE001 - reported, and the sweep goes on
                    errors.append(f"{task.run_dir}: {type(e).__name__}: {e}")
                    progress.message(f"[sweep] FAILED {task.run_dir}: {type(e).__name__}: {e}")
                left = [f for _, f in still + pending[i + 1:]]
                progress.update(done, session.running(left), len(errors))
            if len(still) == len(pending):
                time.sleep(poll_s)
                progress.update(done, session.running([f for _, f in still]), len(errors))
            pending = still
    progress.close()
    return errors
