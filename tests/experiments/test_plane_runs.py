"""The plane presets end to end through the CLI and the Python API: same run directory."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from tests.conftest import cli_env

from ibkit.experiments import resolve_config, run
from ibkit.plane import compression_bound, epoch_schedule


def _rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_tishby_tanh_short_run_from_the_cli(tmp_path) -> None:
    out = tmp_path / "tt"
    cmd = [sys.executable, "-m", "ibkit.cli", "run", "tishby-tanh", "--run-dir", str(out),
           "--set", "train.epochs=30", "--set", "plane.points=6", "--set", "train.progress=false"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    plane = _rows(out / "plane.csv")
    epochs = sorted({int(r["epoch"]) for r in plane})
    assert epochs == epoch_schedule(30, 6) and len(epochs) == 6
    assert {r["layer"] for r in plane} == {"act1", "act2", "act3", "act4", "act5", "output"}
    assert {r["estimator"] for r in plane} == {"binning", "kde-upper", "kde-lower"}
    assert {r["kind"] for r in plane if r["estimator"] == "kde-upper"} == {"upper_bound"}
    assert all(0 <= float(r["I_XT_bits"]) <= 12 + 1e-9 for r in plane if r["estimator"] == "binning")
    assert int(plane[0]["n_samples"]) == 4096  # MI on all 4,096 inputs
    dyn = _rows(out / "dynamics.csv")
    assert len(dyn) == 30 * 6 and float(dyn[0]["grad_std_norm"]) > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["plane"]["peaks"]["binning"]["act5"]["peak_epoch"] in epochs
    assert "compression_bits_binning" in summary["final"]
    curve = _rows(out / "optimal_curve.csv")
    assert float(curve[-1]["I_TY_bits"]) > 0.99
    for name in ("plane.png", "dynamics.png", "learning_curves.png"):
        assert (out / "figures" / name).stat().st_size > 10_000


def test_boolean_4bit_reports_partitions_and_the_bound(tmp_path) -> None:
    config = resolve_config("boolean-4bit", ["train.epochs=4", "plane.points=3",
                                             "train.progress=false"])
    summary = run(config, tmp_path / "b")
    part = summary["plane"]["partitions"]
    cells = _rows(tmp_path / "b" / "partitions.csv")
    assert sum(int(c["size"]) for c in cells) == 4096
    assert 1 <= part["cells"] == len(cells) <= 16  # 16 distinct inputs at most
    for c in cells:  # purity is the largest label share, and the shares sum to 1
        shares = [float(c["p_y0"]), float(c["p_y1"])]
        assert float(c["purity"]) == max(shares) and sum(shares) == pytest.approx(1.0)
    weighted = sum(int(c["size"]) * float(c["purity"]) for c in cells) / 4096
    assert part["homogeneity"] == pytest.approx(weighted, rel=1e-12)
    assert summary["final"]["homogeneity"] == part["homogeneity"]
    assert part["compression_bound"] == compression_bound(part["I_XT_bits"], 3277)
    assert -1.0 < part["generalisation_gap"] < 1.0 and "generalisation_gap" in summary["final"]
    assert (tmp_path / "b" / "figures" / "partitions.png").is_file()


def test_vib_runs_get_their_plane_from_the_variational_bounds(tmp_path) -> None:
    config = resolve_config("vib-digits", ["train.epochs=3", "train.progress=false"])
    run(config, tmp_path / "v")
    plane = _rows(tmp_path / "v" / "plane.csv")
    metrics = _rows(tmp_path / "v" / "metrics.csv")
    assert [int(r["epoch"]) for r in plane] == [1, 2, 3]
    assert {r["estimator"] for r in plane} == {"variational"}
    assert float(plane[-1]["I_XT_bits"]) == float(metrics[-1]["val_kl_bits"])
    assert (plane[0]["kind"], plane[0]["I_TY_kind"]) == ("upper_bound", "lower_bound")
