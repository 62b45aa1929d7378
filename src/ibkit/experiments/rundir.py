"""The run directory: every run, from the CLI or from Python, leaves the same records.

Layout::

    RUN_DIR/
      config.yaml      the fully resolved config (with the ibkit version)
      metrics.csv      one row per epoch
      timing.csv       wall time per epoch (kept out of metrics.csv so resumed runs match)
      checkpoints/     last.pt (full training state, with a SHA-256 of its bytes checked on
                       resume: read it with ibkit.engine.load_checkpoint), model.pt (the
                       evaluated weights, a plain torch file)
      figures/         PNG figures
      summary.json     final metrics, expected vs measured
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibkit
from ibkit._config import from_dict, to_dict
from ibkit._errors import RunDirError
from ibkit._io import read_yaml, write_yaml
from ibkit._provenance import code_version
from ibkit.experiments.config import ExperimentConfig


def _stale(holder: str) -> bool:
    """Whether a lock's holder ``"PID HOST ..."`` is a process of this host that is gone."""
    parts = holder.split()
    if len(parts) < 2 or not parts[0].isdigit() or parts[1] != socket.gethostname():
        return False
    try:
        os.kill(int(parts[0]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class RunDirectory:
    """A run directory at ``path``; see the module docstring for its files."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    config_path = property(lambda self: self.path / "config.yaml")
    metrics_path = property(lambda self: self.path / "metrics.csv")
    summary_path = property(lambda self: self.path / "summary.json")
    figures = property(lambda self: self.path / "figures")
    checkpoints = property(lambda self: self.path / "checkpoints")

    def is_run(self) -> bool:
        """Whether the directory already holds a run (it has a ``config.yaml``)."""
        return self.config_path.is_file()

    @property
    def lock_path(self) -> Path:
        """``.NAME.lock`` beside the run directory (outside it, so that ``--overwrite`` can
        hold it while the old run is moved aside)."""
        return self.path.parent / f".{self.path.name}.lock"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run directory for one process: the lock file names the holder's pid,
        host and start time. A lock left by a process of this host that is gone is stale and
        taken over.

        Raises:
            RunDirError: another live process holds it.
        """
        self._check_makeable()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunDirError(f"The --run-dir '{self.path}' cannot be made: "
                              f"{e.strerror or e}.") from None
        me = f"{os.getpid()} {socket.gethostname()} {time.strftime('%Y-%m-%d %H:%M:%S')}"
        for _ in range(2):
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.lock_path.read_text().strip()
                if not _stale(holder):
                    raise RunDirError(f"The --run-dir '{self.path}' is in use (lock "
                                      f"'{self.lock_path}': pid, host, since: {holder}). Wait "
                                      "for that run, or delete the lock if it is gone.") from None
                self.lock_path.unlink(missing_ok=True)
                continue
            except OSError as e:  # a read-only folder, a full disk
                raise RunDirError(f"The --run-dir '{self.path}' cannot be locked: "
                                  f"'{self.lock_path}': {e.strerror or e}.") from None
            with os.fdopen(fd, "w") as f:
                f.write(me + "\n")
            break
        try:
            yield
        finally:
            self.lock_path.unlink(missing_ok=True)

    def prepare_new(self, overwrite: bool = False) -> Path | None:
        """Make sure a new run may start here without destroying anything unasked. With
        ``overwrite``, an existing run is moved aside (returned): the caller deletes it once
        the new run has written a checkpoint, or moves it back (:meth:`restore`).

        Raises:
            RunDirError: the directory holds a run (and ``overwrite`` is off) or other files.
        """
        self._check_makeable()
        if self.is_run():
            if not overwrite:
                raise RunDirError(
                    f"The --run-dir '{self.path}' already holds a run. Pass --resume to continue "
                    "it, --overwrite to replace it, or choose another --run-dir."
                )
            aside = self.path.parent / f".{self.path.name}.replaced-{os.getpid()}"
            shutil.rmtree(aside, ignore_errors=True)
            self.path.rename(aside)
            self._make()
            return aside
        if self.path.is_dir() and any(self.path.iterdir()):
            raise RunDirError(
                f"The --run-dir '{self.path}' is not empty and holds no run; choose an empty "
                "or new directory."
            )
        self._make()
        return None

    def _check_makeable(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"The --run-dir '{self.path}' is a file, not a directory.")
        blocked = next((p for p in self.path.parents if p.exists() and not p.is_dir()), None)
        if blocked is not None:
            raise RunDirError(f"The --run-dir '{self.path}' cannot be made: '{blocked}' is a "
                              "file, not a directory.")

    def _make(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunDirError(f"The --run-dir '{self.path}' cannot be made: "
                              f"{e.strerror or e}.") from None

    def restore(self, aside: Path) -> None:
        """Put back the run that ``prepare_new(overwrite=True)`` moved aside (the new one
        failed before its first checkpoint)."""
        shutil.rmtree(self.path, ignore_errors=True)
        aside.rename(self.path)

    def clear_for_restart(self) -> None:
        """Delete everything but ``config.yaml``: the run begins again with the same config
        (``--restart``)."""
        for p in self.path.iterdir():
            if p != self.config_path:
                shutil.rmtree(p) if p.is_dir() else p.unlink()

    def write_config(self, config: ExperimentConfig,
                     data_source: dict[str, str] | None = None) -> None:
        """Write ``config.yaml``: the resolved config, the code that runs it (version, git
        commit, source hash: :func:`ibkit._provenance.code_version`) and, once the data
        are loaded, ``data_source`` (the folder the files were read from and their verified
        checksums, or how the data were made)."""
        extra = {"data_source": dict(data_source)} if data_source else {}
        try:
            write_yaml(self.config_path, {"ibkit_version": ibkit.__version__,
                                          "code": code_version(), **to_dict(config), **extra})
        except OSError as e:
            raise RunDirError(f"Cannot write '{self.config_path}': {e.strerror or e}.") from None

    def read_config(self) -> ExperimentConfig:
        """Read ``config.yaml`` back into a typed config."""
        try:
            raw: dict[str, Any] = dict(read_yaml(self.config_path))
        except (OSError, ValueError, TypeError) as e:
            raise RunDirError(f"Cannot read '{self.config_path}': {e}.") from None
        raw.pop("ibkit_version", None)
        raw.pop("code", None)
        raw.pop("data_source", None)
        return from_dict(ExperimentConfig, raw)

    def check_resumable(self, preset: str) -> ExperimentConfig:
        """The config of the run to resume; RunDirError unless it is a run of ``preset``."""
        if not self.is_run():
            raise RunDirError(
                f"Cannot resume: the --run-dir '{self.path}' holds no run (no config.yaml)."
            )
        config = self.read_config()
        if config.preset != preset:
            raise RunDirError(
                f"Cannot resume: the --run-dir '{self.path}' belongs to preset "
                f"'{config.preset}', not '{preset}'."
            )
        return config
