"""Shared fixtures: every test is seeded; real data sets are used where ../shared/data has them."""

from __future__ import annotations

import io
import os
import random
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test reads or writes the user's cache, and none tries the network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("IBKIT_OFFLINE", "1")
    monkeypatch.delenv("IBKIT_DATA", raising=False)


def shared(name: str) -> Path:
    """The folder of a real data set in ../shared/data, or skip the test."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture
def mnist_dir() -> Path:
    return shared("mnist")


def raises_exactly(text: str):
    """``pytest.raises`` of the project's ConfigError whose whole message is ``text``."""
    import re

    from ibkit._errors import ConfigError

    return pytest.raises(ConfigError, match="^" + re.escape(text) + "$")


def cli_env() -> dict[str, str]:
    """Environment for running the real ``ibkit`` command in a subprocess."""
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def tar_of_records(path, folder: str, members: list[tuple[str, int]], record_bytes: int,
                    labels: dict[int, int], seed: int = 0) -> None:
    """A .tar.gz whose members ``folder/name`` hold ``n`` random records each, label bytes
    (column -> number of classes) reduced to valid labels."""
    rng = np.random.default_rng(seed)
    with tarfile.open(path, "w:gz") as tar:
        for name, n in members:
            rec = rng.integers(0, 256, (n, record_bytes), dtype=np.uint8)
            for column, classes in labels.items():
                rec[:, column] %= classes
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = rec.nbytes
            tar.addfile(info, io.BytesIO(rec.tobytes()))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under mutmut (``make mutants``), run a mutant's fastest tests first: mutmut stops at
    the first failure (``-x``) but passes the tests in file order, so one slow neural-estimator
    test before a quick exact one made a killed mutant cost its whole 20 s."""
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    import json

    for stats in (Path("mutants/mutmut-stats.json"), Path("mutmut-stats.json")):
        if stats.is_file():
            durations = json.loads(stats.read_text()).get("duration_by_test", {})
            items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
            return


def load_script(name: str):
    """The module ``scripts/<name>.py`` of the repository, imported from its file."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
