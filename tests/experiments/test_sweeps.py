"""Sweeps: the grid with seeds, the idempotent point runner, every backend, the tables."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from ibkit._errors import ConfigError, IbkitError
from ibkit.experiments.sweep import (
    DaskBackend,
    LocalBackend,
    PointTask,
    SlurmBackend,
    SweepProgress,
    make_backend,
    run_point,
    run_sweep,
    summarize,
    sweep_points,
)

FAST = ["train.epochs=2"]
TIMING = {"run"}  # columns allowed to differ between backends: none are timings today


def _table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_seeds_are_the_last_axis_starting_at_the_presets_seed():
    points = sweep_points("vib-digits", ["beta=1e-3,1"], seeds=2, overrides=["train.seed=5"])
    assert points == [{"objective.beta": "1e-3", "train.seed": "5"},
                      {"objective.beta": "1e-3", "train.seed": "6"},
                      {"objective.beta": "1", "train.seed": "5"},
                      {"objective.beta": "1", "train.seed": "6"}]
    with pytest.raises(ConfigError, match="not both"):
        sweep_points("vib-digits", ["train.seed=0,1"], seeds=2)
    with pytest.raises(ConfigError, match="'seeds' parameter must be >= 1. Got 0"):
        sweep_points("vib-digits", ["beta=1"], seeds=0)
    with pytest.raises(ConfigError, match="at least one --param or --seeds"):
        sweep_points("vib-digits", [])


def test_summary_gives_mean_sample_std_and_count_per_point():
    rows = [{"objective.beta": b, "train.seed": s, "run": f"r{b}{s}", "test_error_pct": e}
            for b, s, e in ((0.1, 0, 2.0), (0.1, 1, 4.0), (0.1, 2, 9.0), (1.0, 0, 5.0))]
    out = summarize(rows, ["objective.beta", "train.seed"])
    assert [r["objective.beta"] for r in out] == [0.1, 1.0]
    assert out[0]["count"] == 3 and out[0]["test_error_pct_mean"] == pytest.approx(5.0)
    # sample standard deviation: sqrt(((2-5)^2 + (4-5)^2 + (9-5)^2) / 2) = sqrt(13)
    assert out[0]["test_error_pct_std"] == pytest.approx(13 ** 0.5)
    assert out[1] == {"objective.beta": 1.0, "count": 1, "test_error_pct_mean": 5.0,
                      "test_error_pct_std": 0.0}
    assert "run_mean" not in out[0] and "train.seed_mean" not in out[0]


def test_progress_line_counts_and_estimates_what_is_left(monkeypatch):
    clock = iter([100.0, 160.0, 160.0])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    p = SweepProgress(10, out)
    p.update(3, 2, 1)  # 4 finished in 60 s: 15 s each, 6 left
    assert out.getvalue() == "[sweep] 3/10 done, 2 running, 1 failed, 1m00s elapsed, ~1m30s left\n"
    p.update(3, 2, 1)  # unchanged counts print nothing off a terminal
    assert out.getvalue().count("\n") == 1


def test_point_runner_skips_a_finished_point_and_resumes_an_unfinished_one(tmp_path):
    task = PointTask("vib-digits", ("train.epochs=3", "objective.beta=1e-3"), str(tmp_path / "p"))
    first = run_point(task)
    assert first["status"] == "completed" and first["resumed"] is False
    summary = tmp_path / "p" / "summary.json"
    stamp = summary.stat().st_mtime_ns
    again = run_point(task)
    assert again["status"] == "skipped" and summary.stat().st_mtime_ns == stamp
    assert again["final"] == first["final"]
    # a point stopped after epoch 2 (checkpoint and metrics of epoch 2, no summary) resumes
    stopped = PointTask("vib-digits", ("train.epochs=3", "objective.beta=1e-3"),
                        str(tmp_path / "q"))
    run_point(PointTask("vib-digits", ("train.epochs=2", "objective.beta=1e-3"), stopped.run_dir))
    q = Path(stopped.run_dir)
    (q / "summary.json").unlink()
    config = (q / "config.yaml").read_text()
    (q / "config.yaml").write_text(config.replace("epochs: 2", "epochs: 3"))
    resumed = run_point(stopped)
    assert resumed["resumed"] is True and resumed["final"] == first["final"]
    with pytest.raises(ConfigError, match="'threads' parameter must be >= 1. Got 0"):
        PointTask("vib-digits", (), str(tmp_path / "r"), threads=0)


def test_a_failed_point_is_reported_and_the_others_still_run(tmp_path, capsys, monkeypatch):
    import ibkit.experiments.runner as runner

    real_run = runner.run

    def failing_run(config, run_dir, **kwargs):
        if config.objective.beta == 0.5:
            raise RuntimeError("planted failure")
        return real_run(config, run_dir, **kwargs)

    monkeypatch.setattr(runner, "run", failing_run)
    with pytest.raises(IbkitError, match=r"1 sweep point\(s\) failed: .*beta=0.5: "
                                         r"RuntimeError: planted failure"):
        run_sweep("vib-digits", ["beta=1e-3,0.5,1"], tmp_path, FAST)
    assert "FAILED" in capsys.readouterr().err
    rows = _table(tmp_path / "sweep.csv")
    assert [r["run"] for r in rows] == ["beta=1e-3", "beta=1"]


def test_backends_are_chosen_by_name_with_clear_errors(tmp_path):
    assert isinstance(make_backend("local", 2), LocalBackend)
    assert isinstance(make_backend("dask", 2, "tcp://127.0.0.1:1"), DaskBackend)
    assert make_backend("slurm", partition="gpu", time_min=30, mem_gb=4.0).parameters() == {
        "timeout_min": 30, "cpus_per_task": 1, "name": "ibkit-sweep", "mem_gb": 4.0,
        "slurm_partition": "gpu"}
    with pytest.raises(ConfigError, match="'--backend' option must be one of local, dask, slurm"):
        make_backend("ray")
    with pytest.raises(ConfigError, match="'--workers' option must be >= 1. Got 0"):
        LocalBackend(0)
    if not __import__("shutil").which("sbatch"):
        pytest.importorskip("submitit")
        with pytest.raises(ConfigError, match="needs SLURM's 'sbatch' on PATH"):
            run_sweep("vib-digits", ["beta=1"], tmp_path, FAST, backend=SlurmBackend())


@pytest.fixture(scope="module")
def local_table(tmp_path_factory):
    """The reference: a 2-beta, 2-seed sweep on the local backend (two processes)."""
    out = tmp_path_factory.mktemp("local")
    run_sweep("vib-digits", ["beta=1e-3,1"], out, FAST, workers=2, seeds=2)
    return _table(out / "sweep.csv")


def _same(a: list[dict[str, str]], b: list[dict[str, str]]) -> None:
    assert [r["run"] for r in a] == [r["run"] for r in b]
    for ra, rb in zip(a, b, strict=True):
        assert {k: v for k, v in ra.items() if k not in TIMING} == \
               {k: v for k, v in rb.items() if k not in TIMING}


def test_inline_and_process_pool_give_the_same_table(tmp_path, local_table):
    run_sweep("vib-digits", ["beta=1e-3,1"], tmp_path, FAST, workers=1, seeds=2)
    _same(_table(tmp_path / "sweep.csv"), local_table)
    summary = _table(tmp_path / "sweep_summary.csv")
    assert [r["count"] for r in summary] == ["2", "2"]
    for name in ("error_vs_beta.png", "ib_tradeoff.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_a_dask_local_cluster_gives_the_same_table_and_reruns_train_nothing(tmp_path,
                                                                             local_table):
    pytest.importorskip("distributed")
    backend = DaskBackend(workers=2)
    run_sweep("vib-digits", ["beta=1e-3,1"], tmp_path, FAST, backend=backend, seeds=2)
    _same(_table(tmp_path / "sweep.csv"), local_table)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/summary.json")}
    started = time.monotonic()
    run_sweep("vib-digits", ["beta=1e-3,1"], tmp_path, FAST, backend=backend, seeds=2)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/summary.json")} == stamps
    assert time.monotonic() - started < 10  # no cluster is even started for a finished sweep


def test_submitits_local_executor_runs_the_slurm_code_path(tmp_path, local_table):
    """What a real SLURM adds: sbatch, the partition, requeue on time-out and pre-emption
    (submitit's Checkpointable), which only a cluster can exercise."""
    pytest.importorskip("submitit")
    backend = SlurmBackend(cluster="local", time_min=10)
    run_sweep("vib-digits", ["beta=1e-3,1"], tmp_path, FAST, backend=backend, seeds=1)
    _same(_table(tmp_path / "sweep.csv"), [r for r in local_table if r["train.seed"] == "0"])
    assert any((tmp_path / "slurm").glob("*/*_log.out"))


def _checkpointed_unfinished(sweep: Path) -> bool:
    return any((d / "checkpoints" / "last.pt").is_file() and not (d / "summary.json").is_file()
               for d in sweep.glob("beta=*"))


def test_killing_a_dask_worker_mid_run_ends_with_the_undisturbed_table(tmp_path):
    pytest.importorskip("distributed")
    import dask
    from distributed import Client, LocalCluster

    args = ("vib-digits", ["beta=1e-3,1"])
    slow = ["train.epochs=6"]
    run_sweep(*args, tmp_path / "calm", slow, workers=2)
    with dask.config.set({"distributed.worker.daemon": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                         dashboard_address=None) as cluster, Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        result: dict = {}

        def sweep() -> None:
            try:
                run_sweep(*args, tmp_path / "killed", slow,
                          backend=DaskBackend(cluster.scheduler_address))
            except BaseException as e:  # noqa: BLE001 - re-raised in the test's thread
                result["error"] = e

        worker = threading.Thread(target=sweep)
        worker.start()
        deadline = time.monotonic() + 120
        while not _checkpointed_unfinished(tmp_path / "killed") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _checkpointed_unfinished(tmp_path / "killed"), "no point got under way"
        os.kill(pids[0], signal.SIGKILL)  # both workers hold a point: one of them dies
        worker.join(300)
        assert pids[0] not in client.run(os.getpid).values()  # the nanny started a new one
    assert "error" not in result, result.get("error")
    resumed = [json.loads((d / "summary.json").read_text())
               for d in (tmp_path / "killed").glob("beta=*")]
    assert len(resumed) == 2
    _same(_table(tmp_path / "killed" / "sweep.csv"), _table(tmp_path / "calm" / "sweep.csv"))


def test_a_sweep_over_text_values_keeps_them_as_text(tmp_path):
    rows = run_sweep("vib-digits", ["optimizer=adam,sgd"], tmp_path, ["train.epochs=1"])
    assert [r["train.optimizer"] for r in rows] == ["adam", "sgd"]
    summary = _table(tmp_path / "sweep_summary.csv")
    assert [r["train.optimizer"] for r in summary] == ["adam", "sgd"]
