"""Run presets into a folder, or compare two such folders value by value (issue 14: a change of
shape must leave every preset's records as they were).

    python scripts/compare_presets.py run OUT [PRESET ...]
    python scripts/compare_presets.py compare BEFORE AFTER

``run`` uses the Python API (``resolve_config`` + ``run``) with each preset's short settings
below. ``compare`` reads every ``summary.json`` and ``*.csv`` under both folders and reports
each difference; wall-clock fields (seconds, timings) are not compared. Exit status 1 on any
difference.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path
from typing import Any

# preset -> overrides: every preset that runs in seconds, and the full tishby-tanh
PRESETS: dict[str, list[str]] = {
    "digits-mlp": [],
    "digits-random-labels": [],
    "vib-digits": [],
    "boolean-4bit": [],
    "tishby-tanh": [],
    "tishby-relu": ["train.epochs=300", "plane.points=20"],
    "demo": [],
    "vibnet-lenet300": ["data.name=digits", "train.epochs=4", "compress.pretrain_epochs=2",
                        "compress.finetune_epochs=2", "train.augment_shift=0"],
}
TIMING = {"seconds", "train_seconds", "estimation_seconds", "pretrain_seconds",
          "finetune_seconds", "exported_dir"}


def run_all(out: Path, names: list[str]) -> None:
    from ibkit.experiments import resolve_config, run

    for name in names or list(PRESETS):
        config = resolve_config(name, [*PRESETS[name], "train.progress=false"])
        print(f"[compare] running {name}", file=sys.stderr, flush=True)
        run(config, out / name, overwrite=True)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items() if k not in TIMING}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(f)]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _diff(a: Any, b: Any, where: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{where}.{k}: only in {'after' if k in b else 'before'}")
            else:
                _diff(a[k], b[k], f"{where}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{where}[{i}]", out)
    elif not _same(a, b):
        out.append(f"{where}: {a!r} -> {b!r}")


def compare(before: Path, after: Path) -> list[str]:
    """Every difference between the records under ``before`` and ``after``."""
    out: list[str] = []
    files = sorted({p.relative_to(before) for p in before.rglob("*")
                    if p.name == "summary.json" or p.suffix == ".csv"}
                   | {p.relative_to(after) for p in after.rglob("*")
                      if p.name == "summary.json" or p.suffix == ".csv"})
    for rel in files:
        if rel.name == "timing.csv":
            continue
        a, b = before / rel, after / rel
        if not a.is_file() or not b.is_file():
            out.append(f"{rel}: only in {'after' if b.is_file() else 'before'}")
        elif rel.suffix == ".json":
            _diff(_clean(json.loads(a.read_text())), _clean(json.loads(b.read_text())),
                  str(rel), out)
        else:
            _diff(_rows(a), _rows(b), str(rel), out)
    return out


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "run":
        run_all(Path(argv[1]), argv[2:])
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        diffs = compare(Path(argv[1]), Path(argv[2]))
        for d in diffs:
            print(d)
        n = len({p for p in Path(argv[1]).rglob("summary.json")})
        print(f"{len(diffs)} difference(s) in the records of {n} run(s)")
        return 1 if diffs else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
