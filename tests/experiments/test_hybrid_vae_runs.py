"""The hybrid VAE-PixelCNN family (seed 004): the smoke preset from the CLI, the bottleneck's
information in the summary, a named sweep with baselines and seeds, its figure and verdict."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from ibkit._errors import ConfigError
from ibkit.cli import main
from ibkit.experiments import resolve_config, run
from ibkit.experiments.registry import SWEEP_PRESETS, SweepPreset, register_sweep_presets
from ibkit.experiments.runner import load_run
from ibkit.experiments.sweep import run_sweep, sweep_points
from ibkit.report import compare_tradeoffs

FAST = ["train.epochs=2", "train.progress=false", "hybrid.samples=2",
        "data.train_size=300", "data.eval_size=100"]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_smoke_preset_runs_from_the_cli_and_writes_a_complete_run_directory(tmp_path):
    out = tmp_path / "smoke"
    r = CliRunner().invoke(main, ["run", "gd-vae-smoke", "--run-dir", str(out)])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    final = summary["final"]
    assert summary["expected"][0]["met"] is True
    assert 0 < final["test_vae_kl_bits_per_dim"] < final["test_nelbo_bits_per_dim"] < 1
    assert final["test_bottleneck_bits_per_pixel"] > 0
    assert summary["hybrid"]["measure"].startswith("Theorem 1")
    assert summary["hybrid"]["dropout_sigma"] == pytest.approx(0.5)
    assert "test_accuracy" not in final and "test_error_pct" not in final
    for name in ("samples.png", "learning_curves.png"):
        assert (out / "figures" / name).is_file()
    samples = _rows(out / "samples.csv")
    assert len(samples) == 4 and samples[0]["source"].startswith("drawn pixel by pixel")
    assert {float(v) for r in samples for k, v in r.items() if k.startswith("v")} <= {0.0, 1.0}


def test_the_reported_bound_is_theorem_1_on_the_saved_models_test_inputs(tmp_path):
    config = resolve_config("gd-vae-smoke", FAST)
    summary = run(config, tmp_path / "r")
    _, model, data = load_run(tmp_path / "r")  # the saved model.pt, read with weights_only
    from ibkit.experiments.families.hybrid_vae import bottleneck_information

    torch.manual_seed(0)
    info = bottleneck_information(model, data.test.x[: config.hybrid.info_samples])
    # z is sampled, so the bound moves a little between draws; the order of magnitude is fixed
    assert summary["final"]["test_bottleneck_bits_per_pixel"] == pytest.approx(
        info["bottleneck_bits_per_pixel"], rel=0.05)


def test_the_variational_layer_reports_its_kl_and_none_reports_no_bottleneck(tmp_path):
    vb = run(resolve_config("gd-vae-smoke", [*FAST, "hybrid.bottleneck=variational"]),
             tmp_path / "vb")
    assert vb["hybrid"]["measure"].startswith("KL")
    assert vb["final"]["test_bottleneck_bits_per_pixel"] == pytest.approx(
        vb["final"]["test_bottleneck_kl_bits_per_pixel"], rel=0.05)
    none = run(resolve_config("gd-vae-smoke", [*FAST, "hybrid.bottleneck=none",
                                               "hybrid.aux_weight=1"]), tmp_path / "none")
    assert none["hybrid"]["measure"] == "none"
    assert "test_bottleneck_bits_per_pixel" not in none["final"]
    assert none["final"]["test_aux_nll_bits_per_dim"] > 0


def test_bad_hybrid_settings_are_refused_with_their_name():
    with pytest.raises(ConfigError, match="dropout_p"):
        resolve_config("gd-vae-smoke", ["hybrid.dropout_p=1.0"])
    with pytest.raises(ConfigError, match="bottleneck"):
        resolve_config("gd-vae-smoke", ["hybrid.bottleneck=gate"])


@pytest.fixture
def tiny_sweep(monkeypatch):
    monkeypatch.setitem(SWEEP_PRESETS, "tiny-gd", SweepPreset("tiny-gd", "gd-vae-smoke", "test", (
        {"hybrid.bottleneck": "none"},
        {"bottleneck": "none", "aux_weight": "1"},
        {"bottleneck": "dropout", "dropout_p": "0.2"},
        {"bottleneck": "dropout", "dropout_p": "0.9"},
        {"bottleneck": "variational", "hybrid.vb_beta": "0.01"},
        {"bottleneck": "variational", "hybrid.vb_beta": "3"},
        {"bottleneck": "dropout", "dropout_p": "0.2", "train.seed": "1"},
    )))
    return "tiny-gd"


def test_sweep_presets_are_registered_once_and_with_points():
    with pytest.raises(ValueError, match="twice"):
        register_sweep_presets(SweepPreset("gd-vae-sweep", "gd-vae-mnist", "again", ({},)))
    with pytest.raises(ValueError, match="no points"):
        register_sweep_presets(SweepPreset("empty-sweep", "gd-vae-mnist", "none", ()))


def test_a_named_sweep_gives_point_names_from_its_own_keys(tiny_sweep):
    points = sweep_points(tiny_sweep, [])
    assert points[1] == {"hybrid.bottleneck": "none", "hybrid.aux_weight": "1"}
    with pytest.raises(ConfigError, match="seeds"):
        sweep_points(tiny_sweep, [], seeds=2)
    assert len(sweep_points(tiny_sweep, ["train.epochs=1,2"])) == 14


def test_the_named_sweep_writes_tables_the_figure_samples_and_a_verdict(tiny_sweep, tmp_path):
    rows = run_sweep(tiny_sweep, [], tmp_path / "s", ["train.epochs=2", "train.progress=false",
                                                      "hybrid.samples=2"], workers=1)
    assert len(rows) == 7
    summary = _rows(tmp_path / "s" / "sweep_summary.csv")
    assert len(summary) == 6
    gd = [r for r in summary if r["hybrid.dropout_p"] == "0.2"][0]
    assert gd["count"] == "2" and float(gd["test_nelbo_bits_per_dim_std"]) > 0
    assert summary[0]["hybrid.dropout_p"] == ""  # the baseline has no rate
    for name in ("elbo_vs_kl.png", "samples_grid.png", "tradeoff.json"):
        assert (tmp_path / "s" / name).is_file()
    verdict = json.loads((tmp_path / "s" / "tradeoff.json").read_text())
    assert verdict["verdict"] in ("yes", "no", "inconclusive")
    assert verdict["seed_std_bits_per_dim"] == pytest.approx(float(gd["test_nelbo_bits_per_dim_std"]))
    r = CliRunner().invoke(main, ["list"])
    assert "gd-vae-sweep" in r.output and "13 points" in r.output


def _row(kind: str, kl: float, elbo: float, std: float = 0.0, count: int = 1, **extra) -> dict:
    return {"hybrid.bottleneck": kind, "count": count, "test_vae_kl_bits_per_dim_mean": kl,
            "test_vae_kl_bits_per_dim_std": 0.0, "test_nelbo_bits_per_dim_mean": elbo,
            "test_nelbo_bits_per_dim_std": std, **extra}


def _rows_with(gd_elbo: float, std: float = 0.001) -> list[dict]:
    return [_row("variational", 0.01, 0.20, hybrid_beta=1), _row("variational", 0.03, 0.16),
            _row("dropout", 0.02, gd_elbo, std, 2), _row("dropout", 0.05, 0.1),
            _row("none", 0.001, 0.15)]


def test_the_verdict_interpolates_the_variational_frontier_at_each_dropout_kl():
    out = compare_tradeoffs(_rows_with(0.17))
    assert len(out["gaps"]) == 1  # the point at KL 0.05 lies outside the VB range
    gap = out["gaps"][0]
    assert gap["vb_nelbo_bits_per_dim"] == pytest.approx(0.18)
    assert gap["gap_bits_per_dim"] == pytest.approx(0.01)
    assert out["verdict"] == "yes"
    assert compare_tradeoffs(_rows_with(0.19))["verdict"] == "no"
    assert compare_tradeoffs(_rows_with(0.1805))["verdict"] == "inconclusive"
    assert compare_tradeoffs(_rows_with(0.17, std=0.02))["verdict"] == "inconclusive"


def test_without_seeds_or_overlap_the_verdict_is_inconclusive():
    rows = _rows_with(0.17)
    rows[2]["count"] = 1
    assert "several seeds" in compare_tradeoffs(rows)["reason"]
    far = [_row("variational", 0.01, 0.2), _row("variational", 0.02, 0.19),
           _row("dropout", 0.5, 0.1, 0.001, 2)]
    out = compare_tradeoffs(far)
    assert out["verdict"] == "inconclusive" and not out["gaps"]
    assert math.isclose(out["seed_std_bits_per_dim"], 0.001)


def test_the_cifar10_preset_builds_a_colour_model_with_a_logistic_likelihood():
    from ibkit.experiments.families.hybrid_vae import _hybrid

    config = resolve_config("gd-vae-cifar10", ["hybrid.layers=2", "hybrid.channels=8",
                                               "model.bottleneck_dim=8", "model.hidden=16"])

    class Shape:  # only the input shape is read
        input_shape = (3, 32, 32)

    model = _hybrid(config, Shape())  # type: ignore[arg-type]
    x = torch.randint(0, 256, (2, 3, 32, 32)).float() / 255
    from ibkit.objectives import HybridELBOBits

    step = HybridELBOBits()(model, x, None)
    step.loss.backward()
    assert model.likelihood == "logistic" and model.dims == 3 * 32 * 32
    assert 0 < step.metrics["nelbo_bits_per_dim"].item() < 20
