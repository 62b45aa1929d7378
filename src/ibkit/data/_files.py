"""Finding, downloading and verifying data files.

Search order for a data set ``name`` (first directory holding every file wins):
``data_dir/name``, ``data_dir``, ``$IBKIT_DATA/name``, ``$IBKIT_DATA``,
the cache ``~/.cache/ibkit/name`` (``$XDG_CACHE_HOME`` respected), and the
development layout ``../shared/data/name`` beside the working directory.
Missing files are downloaded into the cache from the canonical mirrors and
verified before use; every file is checksummed on every load.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ibkit._errors import ChecksumError, DataError

DOWNLOAD_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RemoteFile:
    """A file of a data set: its name, its official checksum and where to fetch it.

    Attributes:
        filename: the official file name.
        checksum: hex digest of the official file.
        urls: mirrors, tried in order.
        algorithm: ``"md5"`` or ``"sha256"``.
    """

    filename: str
    checksum: str
    urls: tuple[str, ...]
    algorithm: str = "md5"


def cache_root() -> Path:
    """The download cache: ``$XDG_CACHE_HOME/ibkit`` or ``~/.cache/ibkit``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ibkit"


def candidate_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Directories searched for data set ``name``, in order."""
    dirs: list[Path] = []
    if data_dir is not None:
        dirs += [Path(data_dir) / name, Path(data_dir)]
    env = os.environ.get("IBKIT_DATA")
    if env:
        dirs += [Path(env) / name, Path(env)]
    dirs.append(cache_root() / name)
    dirs.append(Path.cwd().parent / "shared" / "data" / name)
    return dirs


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, spec: RemoteFile) -> None:
    """Raise ChecksumError unless ``path`` has the official checksum of ``spec``."""
    got = file_digest(path, spec.algorithm)
    if got != spec.checksum:
        raise ChecksumError(
            f"Data file '{path}' is corrupt or truncated: its {spec.algorithm} is {got}, "
            f"expected {spec.checksum}. Delete it and put the official file there "
            f"(or let ibkit download it)."
        )


def _download(spec: RemoteFile, dest: Path) -> None:
    """Fetch ``spec`` into ``dest`` through a temporary file, verified before the rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    errors = []
    for url in spec.urls:
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r, open(tmp, "wb") as f:
                total = int(r.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=spec.filename) as bar:
                    while chunk := r.read(1 << 20):
                        f.write(chunk)
                        bar.update(len(chunk))
            verify(tmp, spec)
            os.replace(tmp, dest)
            return
        except (OSError, ChecksumError) as e:  # URLError is an OSError
            errors.append(f"{url}: {e}")
            tmp.unlink(missing_ok=True)
    raise DataError(f"Could not download '{spec.filename}': " + "; ".join(errors))


def locate(
    name: str,
    files: tuple[RemoteFile, ...],
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> Path:
    """Return the directory holding every file of data set ``name``, verified.

    Args:
        name: data set name, also the sub-directory searched for.
        files: the data set's files.
        data_dir: a directory given by the user (``--data-dir``), searched first.
        download: fetch missing files into the cache when no directory has them all.

    Raises:
        ChecksumError: a file was found but its checksum is wrong.
        DataError: the files are nowhere and cannot be downloaded.
    """
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataError(f"The --data-dir '{data_dir}' does not exist or is not a directory.")
    for d in candidate_dirs(name, data_dir):
        if all((d / f.filename).is_file() for f in files):
            for f in files:
                verify(d / f.filename, f)
            return d
    target = cache_root() / name
    if download and os.environ.get("IBKIT_OFFLINE", "") not in ("1", "true"):
        try:
            for f in files:
                if not (target / f.filename).is_file():
                    _download(f, target / f.filename)
                verify(target / f.filename, f)
            return target
        except DataError as e:
            reason = f" Download failed: {e}"
    else:
        reason = " Downloads are off."
    wanted = ", ".join(f.filename for f in files)
    where = ", ".join(str(d) for d in candidate_dirs(name, data_dir)[:3])
    partial = _most_complete(name, files, data_dir)
    raise DataError(
        f"Data set '{name}' not found: put {wanted} in one of {where} "
        f"(or pass --data-dir / set IBKIT_DATA).{partial}{reason}"
    )


def _most_complete(name: str, files: tuple[RemoteFile, ...],
                   data_dir: str | os.PathLike | None) -> str:
    """`` 'DIR' has A but lacks B, C.`` for the candidate directory with the most files."""
    best: Path | None = None
    have: list[str] = []
    for d in candidate_dirs(name, data_dir):
        found = [f.filename for f in files if (d / f.filename).is_file()]
        if len(found) > len(have):
            best, have = d, found
    if best is None:
        return ""
    missing = [f.filename for f in files if f.filename not in have]
    return f" '{best}' has {', '.join(have)} but lacks {', '.join(missing)}."


def provenance(root: Path, files: tuple[RemoteFile, ...]) -> dict[str, str]:
    """The notes that say where a data set was read: its folder and each file's verified
    checksum."""
    return {"source": str(root.resolve()),
            "files": "; ".join(f"{f.filename} {f.algorithm}:{f.checksum}" for f in files)}

