"""Run directories that never lose or mislead (issue 20, in part): checksummed checkpoints,
no silent restart, --restart, one-line errors for damaged files and impossible paths, orphan
temporary files removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ibkit._io import CHECKPOINT_MAGIC, load_checked, save_checked
from ibkit.cli import main

FAST = ["--set", "train.epochs=2", "--set", "train.progress=false"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "done"
    r = CliRunner().invoke(main, ["run", "digits-mlp", "--run-dir", str(out), *FAST])
    assert r.exit_code == 0, r.output
    return out


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def _one_line_error(args: list[str], pattern: str) -> str:
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.strip().splitlines() if x]
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    assert pattern in lines[0], lines[0]
    return lines[0]


def test_checkpoints_carry_a_checksum_that_is_checked_on_load(tmp_path):
    path = tmp_path / "c.pt"
    save_checked({"w": [1.0, 2.0]}, path)
    assert path.read_bytes().startswith(CHECKPOINT_MAGIC)
    assert load_checked(path) == {"w": [1.0, 2.0]}


def test_a_flipped_byte_in_last_pt_stops_resume_and_changes_nothing(finished, tmp_path):
    run = _copy(finished, tmp_path / "r")
    last = run / "checkpoints" / "last.pt"
    data = bytearray(last.read_bytes())
    data[len(data) // 2] ^= 0x01
    last.write_bytes(bytes(data))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    _one_line_error(["run", "digits-mlp", "--run-dir", str(run), "--resume"], "checksum")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_an_empty_or_truncated_checkpoint_is_one_line(finished, tmp_path, damage):
    run = _copy(finished, tmp_path / "r")
    last = run / "checkpoints" / "last.pt"
    last.write_bytes(b"" if damage == "empty" else last.read_bytes()[:500])
    _one_line_error(["run", "digits-mlp", "--run-dir", str(run), "--resume"],
                    "empty" if damage == "empty" else "checksum")


def test_a_lost_checkpoint_is_an_error_and_restart_begins_again(finished, tmp_path):
    run = _copy(finished, tmp_path / "r")
    (run / "checkpoints" / "last.pt").unlink()
    _one_line_error(["run", "digits-mlp", "--run-dir", str(run), "--resume"], "is missing")
    r = CliRunner().invoke(main, ["run", "digits-mlp", "--run-dir", str(run), "--restart"])
    assert r.exit_code == 0, r.output
    assert (run / "metrics.csv").read_text() == (finished / "metrics.csv").read_text()
    _one_line_error(["run", "digits-mlp", "--run-dir", str(run), "--restart", "--resume"],
                    "Choose one")


def test_orphan_temporary_files_are_removed_when_a_run_resumes(finished, tmp_path):
    run = _copy(finished, tmp_path / "r")
    orphan = run / "checkpoints" / ".last.pt.abc123.tmp"
    orphan.write_bytes(b"half a checkpoint")
    r = CliRunner().invoke(main, ["run", "digits-mlp", "--run-dir", str(run), "--resume"])
    assert r.exit_code == 0, r.output
    assert not orphan.exists()


def test_a_run_dir_below_a_file_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("x")
    _one_line_error(["run", "digits-mlp", "--run-dir", str(tmp_path / "afile" / "sub"), *FAST],
                    "is a file, not a directory")


@pytest.mark.parametrize("damage", ["summary", "metrics"])
def test_report_on_damaged_files_is_one_line(finished, tmp_path, damage):
    run = _copy(finished, tmp_path / "r")
    if damage == "summary":
        (run / "summary.json").write_text("{not json")
    else:
        lines = (run / "metrics.csv").read_text().splitlines()
        (run / "metrics.csv").write_text("\n".join([*lines[:-1], lines[-1][:20]]) + "\n")
    _one_line_error(["report", str(run)], "summary.json" if damage == "summary" else "damaged")


def test_a_failed_start_leaves_nothing_and_the_same_command_then_runs(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    out = tmp_path / "r"
    _one_line_error(["run", "digits-mlp", "--run-dir", str(out), "--device", "cuda", *FAST],
                    "no CUDA device")
    assert not out.exists()
    r = CliRunner().invoke(main, ["run", "digits-mlp", "--run-dir", str(out), *FAST])
    assert r.exit_code == 0, r.output


def test_a_missing_data_dir_is_an_error_not_a_silent_fallback(tmp_path):
    _one_line_error(["run", "digits-mlp", "--run-dir", str(tmp_path / "r"), "--set",
                     "data.name=mnist", "--data-dir", str(tmp_path / "nonexistent"), *FAST],
                    "does not exist")
    assert not (tmp_path / "r").exists()


def test_the_offline_error_names_the_files_that_are_missing(tmp_path, monkeypatch):
    from ibkit.data import load_mnist

    partial = tmp_path / "data" / "mnist"
    partial.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (partial / name).write_bytes(b"x")
    monkeypatch.chdir(tmp_path)  # ../shared/data is not found from here
    from ibkit._errors import DataError

    with pytest.raises(DataError, match=r"has train-images-idx3-ubyte.gz, "
                       r"train-labels-idx1-ubyte.gz but lacks t10k-images-idx3-ubyte.gz, "
                       r"t10k-labels-idx1-ubyte.gz"):
        load_mnist(tmp_path / "data", download=False)


def test_the_run_records_where_its_data_were_read_from(finished, mnist_dir, tmp_path):
    import yaml

    from ibkit.experiments import resolve_config, run

    out = tmp_path / "m"
    run(resolve_config("digits-mlp", ["data.name=mnist", "data.train_size=500",
                                      "data.eval_size=100", "train.epochs=1",
                                      "train.progress=false"], data_dir=str(mnist_dir.parent)),
        out)
    source = yaml.safe_load((out / "config.yaml").read_text())["data_source"]
    assert source["source"] == str(mnist_dir.resolve())
    assert "train-images-idx3-ubyte.gz md5:" in source["files"]
    import json

    assert json.loads((out / "summary.json").read_text())["data"]["source"] == source["source"]
    digits = yaml.safe_load((finished / "config.yaml").read_text())
    assert digits["data_source"]["source"] == "sklearn.datasets.load_digits"


def test_a_run_directory_in_use_is_refused_and_a_stale_lock_taken_over(finished, tmp_path):
    import socket
    import subprocess
    import sys

    run = _copy(finished, tmp_path / "r")
    lock = tmp_path / ".r.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock.write_text(f"{holder.pid} {socket.gethostname()} 2026-12-02 05:00:00\n")
        before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
        _one_line_error(["run", "digits-mlp", "--run-dir", str(run), "--resume"], "is in use")
        _one_line_error(["run", "digits-mlp", "--run-dir", str(run), "--overwrite", *FAST],
                        "is in use")
        assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    finally:
        holder.kill()
        holder.wait()
    r = CliRunner().invoke(main, ["run", "digits-mlp", "--run-dir", str(run), "--resume"])
    assert r.exit_code == 0, r.output  # the holder is gone: its lock is stale
    assert not lock.exists()


def test_overwrite_keeps_the_old_run_until_the_new_one_has_a_checkpoint(finished, tmp_path):
    import torch

    run = _copy(finished, tmp_path / "r")
    summary = (run / "summary.json").read_text()
    if not torch.cuda.is_available():  # a new run that fails before its first checkpoint
        _one_line_error(["run", "digits-mlp", "--run-dir", str(run), "--overwrite", "--device",
                         "cuda", *FAST], "no CUDA device")
        assert (run / "summary.json").read_text() == summary
    r = CliRunner().invoke(main, ["run", "digits-mlp", "--run-dir", str(run), "--overwrite",
                                  "--seed", "5", *FAST])
    assert r.exit_code == 0, r.output
    assert (run / "summary.json").read_text() != summary
    assert not [p for p in tmp_path.iterdir() if ".replaced-" in p.name]


def test_run_files_get_the_users_umask_like_the_figures(finished):
    modes = {p.name: p.stat().st_mode & 0o777 for p in finished.rglob("*") if p.is_file()}
    assert modes["config.yaml"] == modes["learning_curves.png"], modes
    assert modes["last.pt"] == modes["learning_curves.png"]


@pytest.mark.parametrize("denied", [".lock", "config.yaml", "last.pt", "metrics.csv",
                                    "summary.json"])
def test_a_file_that_cannot_be_written_is_one_line_and_leaves_no_lock(denied, tmp_path,
                                                                      monkeypatch):
    """As root, permissions cannot be taken away for real: the write itself is made to fail
    as a read-only folder (or a full disk) makes it fail."""
    import os

    import ibkit._io as io_module

    real_open, real_atomic = os.open, io_module._atomic

    def refuse(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith(denied):
            raise PermissionError(13, "Permission denied", str(path))
        return (real_open if denied == ".lock" else real_atomic)(path, *args, **kwargs)

    if denied == ".lock":
        monkeypatch.setattr(os, "open", refuse)
    else:
        monkeypatch.setattr(io_module, "_atomic", refuse)
    line = _one_line_error(["run", "digits-mlp", "--run-dir", str(tmp_path / "r"), "--set",
                            "train.epochs=2", "--set", "train.progress=false"],
                           "Permission denied")
    assert denied in line
    assert not list(tmp_path.glob(".*.lock")) and not list(tmp_path.glob("**/*.lock"))
