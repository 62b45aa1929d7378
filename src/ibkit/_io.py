"""Atomic file writes: write a temporary file beside the target, then rename over it.

A crash or SIGKILL at any moment leaves either the old file or the new one, never
a half-written file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import torch
import yaml


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give: the user's umask, not mkstemp's 0600


def _atomic(path: Path, write: Any, mode: str = "w") -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, _FILE_MODE)
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
    """``torch.load`` with ``weights_only=True`` onto the CPU; a checksummed file of
    :func:`save_checked` is verified first (:func:`load_checked`)."""
    with open(path, "rb") as f:
        checked = f.read(len(CHECKPOINT_MAGIC)) == CHECKPOINT_MAGIC
    if checked:
        return load_checked(path)
    return torch.load(path, map_location="cpu", weights_only=True)


CHECKPOINT_MAGIC = b"IBKIT-CHECKPOINT-1\n"


class CorruptFileError(OSError):
    """A checkpoint whose bytes do not match the checksum written with them, or cut short."""


def save_checked(obj: Any, path: Path) -> None:
    """``torch.save`` with a SHA-256 of the serialised bytes in a header, atomically:
    ``MAGIC``, the 64 hex digits and a newline, then the bytes (:func:`load_checked`)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    payload = buf.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode()
    _atomic(path, lambda f: f.write(CHECKPOINT_MAGIC + digest + b"\n" + payload), "wb")


def load_checked(path: Path) -> Any:
    """Read a file of :func:`save_checked`, verify its checksum and ``torch.load`` it with
    ``weights_only=True``; a file without the header (an older checkpoint) is loaded as is.

    Raises:
        CorruptFileError: empty, cut short, or its bytes differ from the checksum.
    """
    data = Path(path).read_bytes()
    if not data:
        raise CorruptFileError(f"'{path}' is empty.")
    if data.startswith(CHECKPOINT_MAGIC):
        head = len(CHECKPOINT_MAGIC)
        digest, payload = data[head:head + 64].decode("ascii", "replace"), data[head + 65:]
        if hashlib.sha256(payload).hexdigest() != digest:
            raise CorruptFileError(f"'{path}' does not match the checksum written with it "
                                   f"({len(data)} bytes): it was damaged or cut short.")
        data = payload
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same error to a user
        raise CorruptFileError(f"'{path}' cannot be read as a checkpoint "
                               f"({type(e).__name__}: {str(e)[:120]}).") from None


def remove_orphan_temps(folder: Path) -> list[Path]:
    """Delete the ``.NAME.*.tmp`` files that a kill during an atomic write leaves behind in
    ``folder`` (not recursive); return them."""
    folder = Path(folder)
    orphans = sorted(folder.glob(".*.tmp")) if folder.is_dir() else []
    for p in orphans:
        p.unlink(missing_ok=True)
    return orphans


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


def append_rows_csv(path: Path, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """Append dict rows to the CSV at ``path`` with ``columns``; a new or empty file gets the
    header first. (An append is not atomic: a crash can cut its last line, which
    :func:`truncate_rows_csv` drops on resume.)"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file() or path.stat().st_size == 0
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        if new:
            writer.writeheader()
        writer.writerows(rows)


def truncate_rows_csv(path: Path, last_epoch: int, columns: Sequence[str],
                      drop: Collection[int] = ()) -> list[dict[str, str]]:
    """Resume: keep the rows of ``path`` whose ``epoch`` is at most ``last_epoch`` (the
    checkpoint's) and not in ``drop``, rewrite the file atomically with them and return them.
    Rows written after the checkpoint (and those of ``drop``) are written again by the resumed
    run. No file: nothing kept."""
    path = Path(path)
    if not path.is_file():
        return []
    drop = set(drop)
    with open(path, newline="") as f:
        kept = [r for r in csv.DictReader(f) if r.get("epoch") not in (None, "")
                and int(float(r["epoch"])) <= last_epoch and int(float(r["epoch"])) not in drop]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns))
    writer.writeheader()
    writer.writerows(kept)
    write_text(path, buf.getvalue())
    return kept
