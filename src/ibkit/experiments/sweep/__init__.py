"""Parameter sweeps: a grid of points (and seeds), each its own run directory, run by one
idempotent point runner on a backend (this machine, Dask distributed or SLURM).

``ibkit sweep PRESET --param beta=logspace(-9,0,10) --seeds 3 --backend dask`` is
:func:`run_sweep`. Finished points are skipped, so re-running a sweep resumes it.
"""

from ibkit.experiments.sweep.backends import (
    BACKENDS,
    DaskBackend,
    LocalBackend,
    SlurmBackend,
    SweepBackend,
    execute,
    make_backend,
)
from ibkit.experiments.sweep.grid import (
    SEED_KEY,
    base_preset,
    parse_values,
    point_name,
    resolve_key,
    sweep_points,
)
from ibkit.experiments.sweep.point import PointTask, point_status, run_point
from ibkit.experiments.sweep.progress import SweepProgress
from ibkit.experiments.sweep.runner import run_sweep
from ibkit.experiments.sweep.table import collect, summarize

__all__ = [
    "BACKENDS",
    "SEED_KEY",
    "DaskBackend",
    "LocalBackend",
    "PointTask",
    "SlurmBackend",
    "SweepBackend",
    "SweepProgress",
    "collect",
    "execute",
    "make_backend",
    "parse_values",
    "point_name",
    "point_status",
    "resolve_key",
    "base_preset",
    "run_point",
    "run_sweep",
    "summarize",
    "sweep_points",
]
