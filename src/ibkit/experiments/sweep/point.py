"""The one point runner that every sweep backend calls: idempotent, resumable, thread-pinned."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ibkit._errors import ConfigError


def point_status(run_dir: str | Path) -> str | None:
    """``summary.json``'s status of a run directory (``completed``, ...), or None if it has none."""
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())["status"]
    except (ValueError, KeyError):
        return None  # a summary cut short by a crash: the point is not finished


@dataclass(frozen=True)
class PointTask:
    """One sweep point: run ``preset`` with ``overrides`` into ``run_dir`` on ``threads`` threads.

    A picklable value, so that every backend (process pool, Dask, submitit) ships the same thing.
    """

    preset: str
    overrides: tuple[str, ...]
    run_dir: str
    threads: int = 1
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.threads < 1:
            raise ConfigError(f"The 'threads' parameter must be >= 1. Got {self.threads} instead.")


def run_point(task: PointTask) -> dict[str, Any]:
    """Run one point; safe to call again and again on the same run directory.

    - a run directory whose summary says ``completed`` is left alone (nothing trains);
    - one that holds a run (a ``config.yaml``) resumes from its last checkpoint, with the
      config it was started with;
    - otherwise a new run starts.

    Sets torch's thread count to ``task.threads`` first (two runs of two threads on two cores
    ran several times slower than one thread each). Returns ``{"status", "resumed", "final"}``.
    """
    import torch

    from ibkit.experiments.rundir import RunDirectory
    from ibkit.experiments.runner import resolve_config, run

    rd = RunDirectory(task.run_dir)
    if point_status(rd.path) == "completed":
        return {"status": "skipped", "resumed": False, "final": read_final(rd.path)}
    previous = torch.get_num_threads()
    torch.set_num_threads(task.threads)
    try:
        resume = rd.is_run()
        config = resolve_config(task.preset, [*task.overrides, "train.progress=false"])
        summary = run(config, rd.path, resume=resume)
    finally:
        torch.set_num_threads(previous)  # an inline point leaves the caller's setting alone
    return {"status": summary["status"], "resumed": resume, "final": summary["final"]}


def read_final(run_dir: Path) -> dict[str, Any]:
    """The ``final`` metrics of a completed run directory's ``summary.json``."""
    return json.loads((run_dir / "summary.json").read_text())["final"]
