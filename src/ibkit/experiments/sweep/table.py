"""The sweep's tables: ``sweep.csv`` (one row per run) and ``sweep_summary.csv`` (per point).

A point's runs differ only in ``train.seed``; the summary gives, per point and per metric, the
mean, the sample standard deviation (``ddof = 1``; 0 for a single run) and the count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ibkit.experiments.sweep.grid import SEED_KEY, point_name
from ibkit.experiments.sweep.point import point_status, read_final


def collect(sweep_dir: Path, points: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """One row per completed point: the point's values, its run directory and final metrics."""
    rows = []
    for p in points:
        run_dir = Path(sweep_dir) / point_name(p)
        if point_status(run_dir) == "completed":
            values = {k: _value(k, v) for k, v in p.items()}
            rows.append({**values, "run": run_dir.name,
                         **read_final(run_dir)})
    return rows


def _value(key: str, text: str) -> int | float | str:
    """A point's value as its table cell: the seed an int, numbers floats, other text as is
    (``optimizer=sgd``)."""
    if key == SEED_KEY:
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def _mean_std(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(var)


def summarize(rows: Sequence[dict[str, Any]], axes: Sequence[str]) -> list[dict[str, Any]]:
    """Per point (the ``axes`` other than ``train.seed``; a point without an axis has it
    blank): ``count`` and ``METRIC_mean``, ``METRIC_std`` of every numeric metric, in the
    order the points first appear.

    Example:
        >>> rows = [{"objective.beta": 1.0, "train.seed": s, "test_error_pct": e}
        ...         for s, e in ((0, 2.0), (1, 4.0))]
        >>> summary = summarize(rows, ["objective.beta", "train.seed"])
        >>> summary[0]["count"], summary[0]["test_error_pct_mean"], summary[0]["test_error_pct_std"]
        (2, 3.0, 1.4142135623730951)
    """
    group_keys = [a for a in axes if a != SEED_KEY]
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r.get(k, "") for k in group_keys), []).append(r)
    out = []
    for key, members in groups.items():
        entry: dict[str, Any] = {**dict(zip(group_keys, key, strict=True)), "count": len(members)}
        metrics = [m for m, v in members[0].items()
                   if m not in axes and isinstance(v, int | float) and not isinstance(v, bool)]
        for m in metrics:
            values = [float(r[m]) for r in members if isinstance(r.get(m), int | float)]
            entry[f"{m}_mean"], entry[f"{m}_std"] = _mean_std(values)
        out.append(entry)
    return out
