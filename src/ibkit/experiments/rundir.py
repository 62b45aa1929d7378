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

import shutil
from pathlib import Path
from typing import Any

import ibkit
from ibkit._config import from_dict, to_dict
from ibkit._errors import RunDirError
from ibkit._io import read_yaml, write_yaml
from ibkit.experiments.config import ExperimentConfig


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

    def prepare_new(self, overwrite: bool = False) -> None:
        """Make sure a new run may start here without destroying anything unasked.

        Raises:
            RunDirError: the directory holds a run (and ``overwrite`` is off) or other files.
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"The --run-dir '{self.path}' is a file, not a directory.")
        blocked = next((p for p in self.path.parents if p.exists() and not p.is_dir()), None)
        if blocked is not None:
            raise RunDirError(f"The --run-dir '{self.path}' cannot be made: '{blocked}' is a "
                              "file, not a directory.")
        if self.is_run():
            if not overwrite:
                raise RunDirError(
                    f"The --run-dir '{self.path}' already holds a run. Pass --resume to continue "
                    "it, --overwrite to replace it, or choose another --run-dir."
                )
            shutil.rmtree(self.path)
        elif self.path.is_dir() and any(self.path.iterdir()):
            raise RunDirError(
                f"The --run-dir '{self.path}' is not empty and holds no run; choose an empty "
                "or new directory."
            )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunDirError(f"The --run-dir '{self.path}' cannot be made: "
                              f"{e.strerror or e}.") from None

    def clear_for_restart(self) -> None:
        """Delete everything but ``config.yaml``: the run begins again with the same config
        (``--restart``)."""
        for p in self.path.iterdir():
            if p != self.config_path:
                shutil.rmtree(p) if p.is_dir() else p.unlink()

    def write_config(self, config: ExperimentConfig,
                     data_source: dict[str, str] | None = None) -> None:
        """Write ``config.yaml``: the resolved config, the ibkit version and, once the data
        are loaded, ``data_source`` (the folder the files were read from and their verified
        checksums, or how the data were made)."""
        extra = {"data_source": dict(data_source)} if data_source else {}
        try:
            write_yaml(self.config_path, {"ibkit_version": ibkit.__version__, **to_dict(config),
                                          **extra})
        except OSError as e:
            raise RunDirError(f"Cannot write '{self.config_path}': {e.strerror or e}.") from None

    def read_config(self) -> ExperimentConfig:
        """Read ``config.yaml`` back into a typed config."""
        try:
            raw: dict[str, Any] = dict(read_yaml(self.config_path))
        except (OSError, ValueError, TypeError) as e:
            raise RunDirError(f"Cannot read '{self.config_path}': {e}.") from None
        raw.pop("ibkit_version", None)
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
