"""Atomic file writes: write a temporary file beside the target, then rename over it.

A crash or SIGKILL at any moment leaves either the old file or the new one, never
a half-written file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
import yaml


def _atomic(path: Path, write: Any, mode: str = "w") -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_torch(obj: Any, path: Path) -> None:
    """``torch.save`` through a temporary file and a rename."""
    _atomic(path, lambda f: torch.save(obj, f), "wb")


def load_torch(path: Path) -> Any:
    """``torch.load`` with ``weights_only=True`` onto the CPU."""
    return torch.load(path, map_location="cpu", weights_only=True)


def write_text(path: Path, text: str) -> None:
    """Write text atomically."""
    _atomic(path, lambda f: f.write(text))


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically, indented, keys in insertion order."""
    write_text(path, json.dumps(obj, indent=2) + "\n")


def write_yaml(path: Path, obj: Any) -> None:
    """Write YAML atomically (safe dumper, keys in insertion order)."""
    write_text(path, yaml.safe_dump(obj, sort_keys=False))


def read_yaml(path: Path) -> Any:
    """Read YAML with the safe loader."""
    with open(path) as f:
        return yaml.safe_load(f)


def write_rows_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write dict rows as CSV atomically; columns in first-seen order, floats at full precision."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})
    write_text(path, buf.getvalue())
