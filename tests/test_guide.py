"""The user guide (docs/guide/) cannot rot: every python and bash block of every page runs
here, in order, each page in its own namespace and its own empty working directory."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide"
PAGES = sorted(p.name for p in GUIDE.glob("*.md") if p.name != "README.md")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(page: str, language: str | None = None) -> list[tuple[str, str]]:
    """``(language, code)`` of each fenced block of ``page``."""
    found = BLOCK.findall((GUIDE / page).read_text())
    return [(lang, code) for lang, code in found if language is None or lang == language]


def commands(code: str) -> list[str]:
    """The shell commands of a bash block (continuation lines joined, comments dropped)."""
    joined = code.replace("\\\n", " ")
    return [line.split(" #")[0].strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_the_guide_has_its_pages_and_the_readme_links_them():
    assert set(PAGES) == {"bottleneck.md", "compress.md", "estimators.md", "plane.md",
                          "reproduce.md"}
    index = (GUIDE / "README.md").read_text()
    assert all(f"]({p})" in index for p in PAGES)
    assert "docs/guide/README.md" in (GUIDE.parents[1] / "README.md").read_text()
    assert {lang for p in PAGES for lang, _ in blocks(p)} <= {"python", "bash", "text"}


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "python")])
def test_python_blocks_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType(f"guide_{page[:-3]}")  # a real module: dataclasses look it up
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for i, (_, code) in enumerate(blocks(page, "python")):
        exec(compile(code, f"{page} block {i + 1}", "exec"), module.__dict__)  # noqa: S102


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "bash")])
def test_bash_blocks_run(page: str, tmp_path: Path):
    env = dict(os.environ, PYTHONWARNINGS="ignore", IBKIT_OFFLINE="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    shared = GUIDE.parents[2] / "shared" / "data"
    if shared.is_dir():
        env["IBKIT_DATA"] = str(shared)
    for _, code in blocks(page, "bash"):
        for command in commands(code):
            assert shlex.split(command)[0] == "ibkit", command
            done = subprocess.run(command, shell=True, cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    if page == "reproduce.md":  # what the page says the commands leave behind
        assert (tmp_path / "runs" / "tt" / "report.html").is_file()
        assert (tmp_path / "sweeps" / "b" / "sweep_summary.csv").is_file()
        assert (tmp_path / "sweeps" / "b" / "report.html").is_file()
        assert "### digits-mlp (2 seeds)" in (tmp_path / "results.md").read_text()
