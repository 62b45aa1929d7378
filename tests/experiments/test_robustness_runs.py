"""Robustness presets: models trained once and reused, every model attacked and cached, the
tables, the figure and the summary's checks; the CLI's one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ibkit.cli import main
from ibkit.experiments import resolve_config, run
from ibkit.experiments.families import robustness as fam
from ibkit.robustness import AttackConfig

TINY = fam.RobustnessPreset(
    "tiny-robustness", "test", (fam.ModelGroup("vib", "vib-digits", ("0.001", "0.1")),
                                fam.ModelGroup("ceb", "ceb-digits", ("0.01",)),
                                fam.ModelGroup("deterministic", "deterministic-digits")),
    images=30, attacks=AttackConfig(eps_linf=(0.1, 0.3), eps_l2=(1.0,), steps=5, eot=2,
                                    square_queries=20, cw_steps=10, cw_binary_steps=3))
FAST = ["train.epochs=4", "train.progress=false"]


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(fam.ROBUSTNESS_PRESETS, TINY.name, TINY)
    return TINY.name


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_robustness_preset_trains_attacks_and_reuses_everything_on_a_rerun(tiny, tmp_path):
    out = tmp_path / "rob"
    summary = fam.run_robustness(tiny, out, overrides=FAST)
    assert len(summary["models"]) == 4
    rows = _csv(out / "robustness.csv")
    assert {r["group"] for r in rows} == {"vib", "ceb", "deterministic"}
    assert {r["attack"] for r in rows} >= {"clean", "fgsm", "pgd", "pgd-margin", "square",
                                           "worst-case", "cw-l2", "cw-l2-targeted"}
    assert {r["gradient"] for r in rows if r["group"] == "vib"} >= {"eot", "single-draw",
                                                                   "transfer-mean"}
    assert (out / "robustness.png").is_file() and (out / "norms.csv").is_file()
    checks = _csv(out / "checks.csv")
    assert {c["check"] for c in checks} >= {"accuracy_falls_to_zero", "gradient_free_not_better"}
    assert summary["deterministic_cw_l2_robust_acc"]
    lines = {(h["group"], h["beta"]): h for h in summary["headline"]}
    assert len(lines) == 4 and lines[("vib", 0.1)]["eps"] == 0.1
    assert {"clean", "pgd eot", "pgd single-draw", "square", "cw-l2 transfer-mean"} <= set(
        lines[("vib", 0.1)])
    assert "pgd exact" in [h for h in summary["headline"] if h["group"] == "deterministic"][0]
    caches = sorted((out / "evals").rglob("*.json"))
    assert len(caches) == 4
    stamps = [p.stat().st_mtime_ns for p in caches]
    again = fam.run_robustness(tiny, out, overrides=FAST)
    assert [p.stat().st_mtime_ns for p in caches] == stamps  # nothing re-attacked
    assert again["models"] == summary["models"]


def test_the_cli_attacks_one_run_and_refuses_what_is_not_a_classifier(tmp_path):
    runner = CliRunner()
    assert "ibkit robustness robustness-mnist" in runner.invoke(main, ["list"]).output
    r = runner.invoke(main, ["robustness", "no-such-preset", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "Unknown robustness preset" in r.output
    r = runner.invoke(main, ["attack", str(tmp_path)])
    assert r.exit_code == 2 and "no finished run" in r.output
    vae = tmp_path / "vae"
    run(resolve_config("vae-digits", ["train.epochs=1", "train.progress=false"]), vae)
    r = runner.invoke(main, ["attack", str(vae), "--images", "5"])
    assert r.exit_code == 2 and "not a classifier" in r.output
    assert len(r.output.strip().splitlines()) == 1
    det = tmp_path / "det"
    run(resolve_config("deterministic-digits", FAST), det)
    r = runner.invoke(main, ["attack", str(det), "--images", "10"])
    assert r.exit_code == 0, r.output
    result = json.loads((det / "robustness.json").read_text())
    assert result["rows"][0]["attack"] == "clean" and "accuracy_falls_to_zero" in r.output


def test_the_cli_runs_a_smaller_evaluation_with_other_betas(tiny, tmp_path):
    out = tmp_path / "small"
    r = CliRunner().invoke(main, ["robustness", tiny, "--out", str(out), "--betas", "0.05",
                                  "--images", "10", *sum((["--set", o] for o in FAST), [])])
    assert r.exit_code == 0, r.output
    betas = {float(row["beta"]) for row in _csv(out / "robustness.csv") if row["beta"] != "nan"}
    assert betas == {0.05} and "3 model(s) attacked" in r.output
