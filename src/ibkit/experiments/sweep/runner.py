"""``run_sweep``: the grid, the point runner on a backend, the tables and the figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ibkit._errors import ConfigError, IbkitError
from ibkit._io import write_rows_csv
from ibkit.experiments.runner import resolve_config
from ibkit.experiments.sweep.backends import LocalBackend, SweepBackend, execute
from ibkit.experiments.sweep.grid import base_preset, point_name, sweep_points
from ibkit.experiments.sweep.point import PointTask, point_status
from ibkit.experiments.sweep.progress import SweepProgress
from ibkit.experiments.sweep.table import collect, summarize


def run_sweep(
    preset: str,
    params: Sequence[str],
    sweep_dir: str | Path,
    overrides: Sequence[str] = (),
    workers: int = 1,
    *,
    backend: SweepBackend | None = None,
    seeds: int | None = None,
    threads: int = 1,
) -> list[dict]:
    """Run every point of the sweep in ``sweep_dir/<point>``; write the tables and figures.

    Points whose run directory is completed are skipped; interrupted ones resume from their
    checkpoint. Writes ``sweep.csv`` (one row per run), ``sweep_summary.csv`` (mean, standard
    deviation and count over seeds, per point) and, for a beta sweep, ``error_vs_beta.png`` and
    ``ib_tradeoff.png`` (with error bars across seeds).

    Args:
        preset: the preset every point runs, or a sweep preset (its preset and points).
        params: ``KEY=VALUES`` axes (see :func:`~ibkit.experiments.sweep.parse_values`).
        sweep_dir: the folder of the points' run directories (shared by all workers).
        overrides: ``KEY=VALUE`` applied at every point.
        workers: points at once, for the default backend (``LocalBackend(workers)``).
        backend: where the points run (:class:`LocalBackend`, :class:`DaskBackend`,
            :class:`SlurmBackend`); default local.
        seeds: run each point with this many seeds (``train.seed`` as the last axis).
        threads: torch threads per point (default one).

    Returns:
        One row per completed run: the point's values, its run directory and final metrics.

    Raises:
        IbkitError: after every point has been tried, if any failed (each named with its
            run directory and error).
    """
    if threads < 1:
        raise ConfigError(f"The '--threads' option must be >= 1. Got {threads} instead.")
    backend = backend or LocalBackend(workers)
    points = sweep_points(preset, params, seeds, overrides)
    preset = base_preset(preset)
    for point in points:  # fail early on a bad value, before anything runs
        resolve_config(preset, [*overrides, *(f"{k}={v}" for k, v in point.items())])
    sweep_dir = Path(sweep_dir).resolve()  # workers elsewhere need the full path
    sweep_dir.mkdir(parents=True, exist_ok=True)
    tasks = [PointTask(preset, (*overrides, *(f"{k}={v}" for k, v in p.items())),
                       str(sweep_dir / point_name(p)), threads, point_name(p))
             for p in points if point_status(sweep_dir / point_name(p)) != "completed"]
    errors = execute(backend, tasks, sweep_dir, SweepProgress(len(tasks))) if tasks else []
    rows = collect(sweep_dir, points)
    write_rows_csv(sweep_dir / "sweep.csv", rows)
    axes = list(dict.fromkeys(k for p in points for k in p))
    write_rows_csv(sweep_dir / "sweep_summary.csv", summarize(rows, axes))
    from ibkit.report import render_sweep_figures, sweep_html_report

    render_sweep_figures(sweep_dir)
    sweep_html_report(sweep_dir)
    if errors:
        raise IbkitError(f"{len(errors)} sweep point(s) failed: " + "; ".join(errors))
    return rows
