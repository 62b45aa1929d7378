"""Parameter sweeps: each point is its own run directory; finished points are skipped.

``--param beta=1e-6,1e-5`` or ``--param beta=logspace(-9,0,10)`` (also ``linspace``);
a key without a dot names the unique config field of that name (``beta`` is
``objective.beta``). Several parameters give their Cartesian product.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from ibkit._config import keys
from ibkit._errors import ConfigError, IbkitError
from ibkit._io import write_rows_csv
from ibkit.experiments.runner import resolve_config, run

_RANGE = re.compile(r"^(logspace|linspace)\(([^,]+),([^,]+),([^,]+)\)$")


def parse_values(text: str) -> list[str]:
    """Values of one ``--param``: a comma list, ``logspace(a,b,n)`` (10^a..10^b) or ``linspace``.

    Example:
        >>> parse_values("logspace(-2,0,3)")
        ['0.01', '0.1', '1']
    """
    m = _RANGE.match(text.replace(" ", ""))
    if m:
        kind, a, b, n = m.groups()
        try:
            grid = getattr(np, kind)(float(a), float(b), int(n))
        except ValueError:
            raise ConfigError(f"Bad range {text!r}: expected {kind}(start,stop,count).") from None
        return [f"{v:.6g}" for v in grid]
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise ConfigError(f"The --param {text!r} lists no values.")
    return values


def resolve_key(name: str, config: Any) -> str:
    """The dotted config key that ``name`` names (itself, or the unique field of that name)."""
    all_keys = keys(config)
    if name in all_keys:
        return name
    matches = [k for k in all_keys if k.rsplit(".", 1)[-1] == name]
    if len(matches) != 1:
        raise ConfigError(f"The --param key {name!r} names {len(matches)} config keys "
                          f"({', '.join(matches) or 'none'}); use a dotted key from: "
                          f"{', '.join(all_keys)}.")
    return matches[0]


def sweep_points(preset: str, params: Sequence[str]) -> list[dict[str, str]]:
    """The Cartesian product of ``KEY=VALUES`` params, as dicts of dotted key to value text."""
    config = resolve_config(preset)
    axes = []
    for p in params:
        if "=" not in p:
            raise ConfigError(f"A --param must look like key=values. Got {p!r} instead.")
        name, text = p.split("=", 1)
        key = resolve_key(name.strip(), config)
        axes.append([(key, v) for v in parse_values(text)])
    return [dict(combo) for combo in itertools.product(*axes)]


def point_name(point: dict[str, str]) -> str:
    """Run directory name of a point, for example ``beta=0.001``."""
    return ",".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in point.items())


def _status(run_dir: Path) -> str | None:
    path = run_dir / "summary.json"
    return json.loads(path.read_text())["status"] if path.is_file() else None


def _run_point(preset: str, overrides: list[str], run_dir: str, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    resume = (Path(run_dir) / "config.yaml").is_file()
    config = resolve_config(preset, overrides + ([] if resume else ["train.progress=false"]))
    return run(config, run_dir, resume=resume)


def run_sweep(
    preset: str,
    params: Sequence[str],
    sweep_dir: str | Path,
    overrides: Sequence[str] = (),
    workers: int = 1,
) -> list[dict]:
    """Run every point of the sweep in ``sweep_dir/<point>`` and write ``sweep.csv`` and figures.

    Points whose run directory has a completed summary are skipped; interrupted ones resume.
    Returns one row per point: the point's values and its final metrics.
    """
    if workers < 1:
        raise ConfigError(f"The '--workers' option must be >= 1. Got {workers} instead.")
    points = sweep_points(preset, params)
    for point in points:  # fail early on a bad value, before anything runs
        resolve_config(preset, [*overrides, *(f"{k}={v}" for k, v in point.items())])
    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    todo = [p for p in points if _status(sweep_dir / point_name(p)) != "completed"]
    threads = max(1, (os.cpu_count() or 1) // workers)
    errors = _execute(preset, list(overrides), sweep_dir, todo, workers, threads)
    rows = collect(sweep_dir, points)
    write_rows_csv(sweep_dir / "sweep.csv", rows)
    from ibkit.report import render_sweep_figures

    render_sweep_figures(sweep_dir)
    if errors:
        raise IbkitError(f"{len(errors)} sweep point(s) failed: " + "; ".join(errors))
    return rows


def _execute(preset: str, overrides: list[str], sweep_dir: Path, todo: list[dict[str, str]],
             workers: int, threads: int) -> list[str]:
    errors: list[str] = []
    args = [(preset, overrides + [f"{k}={v}" for k, v in p.items()],
             str(sweep_dir / point_name(p)), threads) for p in todo]
    if workers == 1:
        for a in args:
            _report(a[2], lambda a=a: _run_point(*a), errors)
        return errors
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_run_point, *a): a[2] for a in args}
        for f in as_completed(futures):
            _report(futures[f], f.result, errors)
    return errors


def _report(name: str, result: Any, errors: list[str]) -> None:
    try:
        summary = result()
        err = summary["final"].get("test_error_pct", float("nan"))
        print(f"[sweep] {Path(name).name}: done, test error {err:.2f} %", file=sys.stderr)
    except IbkitError as e:
        errors.append(f"{Path(name).name}: {e}")
        print(f"[sweep] {Path(name).name}: FAILED: {e}", file=sys.stderr)


def collect(sweep_dir: Path, points: list[dict[str, str]]) -> list[dict]:
    """One row per completed point: the point's values and its summary's final metrics."""
    rows = []
    for p in points:
        run_dir = sweep_dir / point_name(p)
        if _status(run_dir) == "completed":
            final = json.loads((run_dir / "summary.json").read_text())["final"]
            rows.append({**{k: float(v) for k, v in p.items()}, "run": run_dir.name, **final})
    return rows
