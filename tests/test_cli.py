"""The real ``ibkit`` command: run directories, resume after SIGKILL and Ctrl-C, bad input."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import cli_env

from ibkit.cli import main

IBKIT = [sys.executable, "-m", "ibkit.cli"]


def ibkit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*IBKIT, *args], capture_output=True, text=True, env=cli_env(),
                          cwd=cwd, timeout=300)


def test_version_and_list():
    assert ibkit("--version").stdout.strip() == "ibkit, version 0.1.0"
    out = ibkit("list").stdout
    assert "demo" in out and "expected: test_acc >= 0.95" in out


def test_run_demo_leaves_every_record_and_report_redraws(tmp_path):
    d = tmp_path / "run"
    r = ibkit("run", "digits-mlp", "--run-dir", str(d), "--set", "train.epochs=3")
    assert r.returncode == 0, r.stderr
    for name in ("config.yaml", "metrics.csv", "timing.csv", "summary.json",
                 "checkpoints/last.pt", "checkpoints/model.pt", "figures/learning_curves.png"):
        assert (d / name).is_file(), name
    summary = json.loads((d / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_completed"] == 3
    assert summary["expected"][0]["metric"] == "test_acc"
    assert "epochs: 3" in (d / "config.yaml").read_text()
    (d / "figures" / "learning_curves.png").unlink()
    r = ibkit("report", str(d))
    assert r.returncode == 0 and (d / "figures" / "learning_curves.png").is_file()
    assert "preset digits-mlp: completed" in r.stdout


def _wait_for_rows(metrics: Path, n: int, proc: subprocess.Popen, limit_s: float = 120) -> None:
    t0 = time.time()
    while time.time() - t0 < limit_s:
        if metrics.is_file() and len(metrics.read_text().splitlines()) > n:
            return
        assert proc.poll() is None, "run ended before it could be stopped"
        time.sleep(0.02)
    raise AssertionError("run too slow")


SLOW_DEMO = ["--set", "train.epochs=6", "--set", "train.batch_size=4"]


@pytest.fixture(scope="module")
def reference_metrics(tmp_path_factory: pytest.TempPathFactory) -> str:
    """metrics.csv of the uninterrupted run, made once, in-process (the CLI calls the same
    ``run``; the subprocesses below are the stopped and resumed runs)."""
    ref = tmp_path_factory.mktemp("ref") / "run"
    r = CliRunner().invoke(main, ["run", "digits-mlp", "--run-dir", str(ref), *SLOW_DEMO,
                                  "--set", "train.progress=false"])
    assert r.exit_code == 0, r.output
    return (ref / "metrics.csv").read_text()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_stopped_run_resumes_to_the_same_metrics(tmp_path, sig, reference_metrics):
    cut = tmp_path / "cut"
    proc = subprocess.Popen([*IBKIT, "run", "digits-mlp", "--run-dir", str(cut), *SLOW_DEMO],
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _wait_for_rows(cut / "metrics.csv", 2, proc)
    time.sleep(0.05)  # somewhere inside an epoch
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig in (signal.SIGINT, signal.SIGTERM):
        assert proc.returncode == 128 + sig and "checkpoint written" in err and "--resume" in err
        assert ("SIGTERM" in err) == (sig == signal.SIGTERM)
        assert json.loads((cut / "summary.json").read_text())["status"] == "interrupted"
    else:
        assert proc.returncode == -signal.SIGKILL
    r = ibkit("run", "digits-mlp", "--run-dir", str(cut), "--resume")
    assert r.returncode == 0, r.stderr
    assert (cut / "metrics.csv").read_text() == reference_metrics


BAD_INPUTS = [
    (["run", "nope"], r"Unknown preset 'nope'\. Allowed presets: .*demo"),
    (["run", "digits-mlp", "--set", "train.nope=1"],
     r"Unknown config key 'train.nope'\.( Did you mean [^?]*\?)? Allowed keys:"),
    (["run", "digits-mlp", "--set", "seed=1"],
     r"Unknown config key 'seed'\. Did you mean 'train.seed'\? Allowed keys:"),
    (["run", "digits-mlp", "--set", "train.epoch=1"],
     r"Unknown config key 'train.epoch'\. Did you mean 'train.epochs'"),
    (["run", "digits-mlp", "--set", "train.epochs=many"], r"'train.epochs' must be an int\. Got 'many'"),
    (["run", "digits-mlp", "--set", "train.epochs=0"], r"'epochs' parameter of TrainConfig must be >= 1"),
    (["run", "digits-mlp", "--set", "train.lr=nan"], r"'lr' parameter of TrainConfig must be finite"),
    (["run", "digits-mlp", "--set", "data.name=imagenet"], r"'name' parameter of DataConfig must be one"),
    (["run", "digits-mlp", "--set", "epochs"], r"--set option must look like key=value"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    # the click command itself, in-process (a subprocess per case would cost 5 s of imports)
    r = CliRunner().invoke(main, [*args, "--run-dir", str(tmp_path / "r")])
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert re.search(message, r.stderr), r.stderr
    assert not (tmp_path / "r").exists()


def test_bad_input_through_the_real_command(tmp_path):
    r = ibkit("run", "digits-mlp", "--set", "train.epochs=0", "--run-dir", str(tmp_path / "r"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == ("Error: The 'epochs' parameter of TrainConfig must be >= 1. "
                                "Got 0 instead.")


def test_missing_data_is_one_line_and_names_the_files(tmp_path):
    r = ibkit("run", "digits-mlp", "--set", "data.name=mnist", "--run-dir", str(tmp_path / "r"),
              cwd=tmp_path)
    assert r.returncode == 2 and "train-images-idx3-ubyte.gz" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_existing_run_is_never_overwritten_and_resume_checks_the_preset(tmp_path):
    # the click command in-process: the same exit codes and messages, without 5 s of imports
    def cli(*args: str):
        return CliRunner().invoke(main, list(args))

    d = tmp_path / "run"
    assert cli("run", "digits-mlp", "--run-dir", str(d), "--set", "train.epochs=1").exit_code == 0
    before = (d / "metrics.csv").read_text()
    r = cli("run", "digits-mlp", "--run-dir", str(d), "--set", "train.epochs=2")
    assert r.exit_code == 2 and "already holds a run" in r.stderr
    r = cli("run", "digits-random-labels", "--run-dir", str(d), "--resume")
    assert r.exit_code == 2 and "belongs to preset 'digits-mlp'" in r.stderr
    assert (d / "metrics.csv").read_text() == before
    r = cli("run", "digits-mlp", "--run-dir", str(tmp_path / "none"), "--resume")
    assert r.exit_code == 2 and "holds no run" in r.stderr


SWEEP_BAD_INPUTS = [
    (["--param", "beta=1", "--address", "tcp://127.0.0.1:1"], r"--address is for --backend dask"),
    ([], r"needs at least one --param or --seeds"),
    (["--param", "beta=1", "--seeds", "2", "--param", "seed=0,1"], r"either as --seeds or as"),
    (["--param", "beta=1", "--backend", "ray"], r"Invalid value for '--backend'"),
    (["--param", "beta=logspace(-4,0)"], r"Bad range --param beta='logspace\(-4,0\)': expected "
                                          r"logspace\(start,stop,count\)"),
    (["--param", "beta=logspace(-4,0,0)"], r"the count must be >= 1"),
    (["--param", "beta="], r"--param beta='' lists no values"),
    (["--param", "=1,2"], r"must look like key=values"),
    (["--param", "beta=1e-3,0.001"], r"gives the same value twice \('1e-3' and '0.001'\)"),
    (["--param", "betaa=1"], r"'betaa' is no config key\. Did you mean 'beta'"),
]


@pytest.mark.parametrize(("args", "message"), SWEEP_BAD_INPUTS)
def test_bad_sweep_input_is_one_line_and_exit_2(args, message, tmp_path):
    r = CliRunner().invoke(main, ["sweep", "vib-digits", *args, "--sweep-dir",
                                  str(tmp_path / "s")])
    assert r.exit_code == 2
    assert re.search(message, r.stderr), r.stderr
    assert not (tmp_path / "s").exists()


def test_sweep_with_seeds_through_the_command(tmp_path):
    out = tmp_path / "s"
    r = CliRunner().invoke(main, ["sweep", "vib-digits", "--seeds", "2", "--set",
                                  "train.epochs=1", "--sweep-dir", str(out)])
    assert r.exit_code == 0, r.stderr
    assert "2 run(s) completed" in r.stdout
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["seed=0", "seed=1"]
    assert "[sweep] 2/2 done, 0 running, 0 failed" in r.stderr


def _kill_and_resume(tmp_path: Path, reference: str, rng, index: int) -> None:
    cut = tmp_path / f"cut{index}"
    proc = subprocess.Popen([*IBKIT, "run", "digits-mlp", "--run-dir", str(cut), *SLOW_DEMO],
                            env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_rows(cut / "metrics.csv", 1, proc)
    time.sleep(float(rng.uniform(0.0, 1.5)))  # anywhere, checkpoint writes included
    proc.kill()
    proc.wait()
    for _ in range(3):  # a kill before the first checkpoint leaves a run to start again
        r = ibkit("run", "digits-mlp", "--run-dir", str(cut), "--resume")
        if r.returncode == 0:
            break
    assert r.returncode == 0, r.stderr
    assert (cut / "metrics.csv").read_text() == reference
    assert not list(cut.rglob("*.tmp")), list(cut.rglob("*.tmp"))


@pytest.mark.parametrize("kills", [2, pytest.param(20, marks=pytest.mark.slow)])
def test_kill_9_at_random_moments_always_resumes_byte_identical(tmp_path, reference_metrics,
                                                                 kills):
    import numpy as np

    rng = np.random.default_rng(20)
    for i in range(kills):
        _kill_and_resume(tmp_path, reference_metrics, rng, i)
