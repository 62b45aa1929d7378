"""The teacher-student family (Herwana & Kadian): fast versions of its four presets on the
digits, both teacher modes, exact resume, and the errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ibkit._errors import ConfigError
from ibkit.experiments import resolve_config, run
from ibkit.experiments.families.teacher_student import load_teacher

PRESETS = ["herwana-zero-info", "herwana-estimators", "herwana-plane", "herwana-dynamics"]


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("teacher") / "vae"
    run(resolve_config("vae-digits", ["train.epochs=10", "train.progress=false"]), out)
    return out


def fast(teacher_dir: Path, *extra: str) -> list[str]:
    return ["data.name=digits", f"teacher.run_dir={teacher_dir}", "train.epochs=4",
            "teacher.bound_steps=30", "teacher.bound_samples=200", "model.hidden=32,32",
            "model.bottleneck_dim=6", "train.progress=false", *extra]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("preset", PRESETS)
def test_each_preset_runs_fast_and_checks_its_claim(preset, teacher_dir, tmp_path):
    summary = run(resolve_config(preset, fast(teacher_dir)), tmp_path / "run")
    assert all(e["measured"] is not None for e in summary["expected"])
    rows = _rows(tmp_path / "run" / "teacher_bounds.csv")
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    for r in rows:
        ts, direct = float(r["ts_bits"]), float(r["direct_bits"])
        assert float(r["min_bits"]) == min(ts, direct) and ts > 0
    assert summary["final"]["min_izx_bits"] == pytest.approx(float(rows[-1]["min_bits"]))
    assert "approximate" in summary["teacher"]["mode"]  # the presets use the paper's mode
    for name in ("izx_bounds.png", "teacher_plane.png", "encoder_dynamics.png"):
        assert (tmp_path / "run" / "figures" / name).stat().st_size > 10_000


def test_exact_mode_and_a_teacher_trained_in_the_run(tmp_path):
    overrides = ["data.name=digits", "teacher.preset=vae-digits", "teacher.epochs=3",
                 "teacher.mode=exact", "train.epochs=2", "teacher.bound_steps=10",
                 "teacher.bound_samples=100", "model.hidden=16", "model.bottleneck_dim=4",
                 "teacher.bound_m=4", "train.progress=false"]
    summary = run(resolve_config("herwana-estimators", overrides), tmp_path / "run")
    assert (tmp_path / "run" / "teacher" / "summary.json").is_file()
    assert "true bound" in summary["teacher"]["mode"]
    assert len(_rows(tmp_path / "run" / "teacher_bounds.csv")) == 2


def test_a_resumed_run_gives_the_same_bounds(teacher_dir, tmp_path):
    full = tmp_path / "full"
    run(resolve_config("herwana-dynamics", fast(teacher_dir)), full)
    cut = tmp_path / "cut"
    run(resolve_config("herwana-dynamics", fast(teacher_dir, "train.epochs=2")), cut)
    config = (cut / "config.yaml").read_text()
    (cut / "config.yaml").write_text(config.replace("epochs: 2\n", "epochs: 4\n", 1))
    run(resolve_config("herwana-dynamics"), cut, resume=True)
    assert (cut / "teacher_bounds.csv").read_text() == (full / "teacher_bounds.csv").read_text()


def test_wrong_order_and_a_teacher_that_is_no_vae_are_named(teacher_dir, tmp_path):
    with pytest.raises(ConfigError, match="'teacher-student' recipe must come first"):
        run(resolve_config("herwana-plane", fast(teacher_dir, "recipes=vib,teacher-student")),
            tmp_path / "a")
    clf = tmp_path / "clf"
    run(resolve_config("digits-mlp", ["train.epochs=1", "train.progress=false"]), clf)
    with pytest.raises(ConfigError, match="must name a VAE run"):
        load_teacher(clf)
    with pytest.raises(ConfigError, match="must name a finished VAE run"):
        load_teacher(tmp_path / "nothing")


def test_a_sweep_of_the_plane_preset_draws_every_trajectory(teacher_dir, tmp_path):
    from ibkit.experiments.sweep import run_sweep

    run_sweep("herwana-plane", ["optimizer=adam,sgd"], tmp_path, fast(teacher_dir))
    assert (tmp_path / "teacher_planes.png").stat().st_size > 10_000
    assert len(list(tmp_path.glob("optimizer=*/teacher_bounds.csv"))) == 2
