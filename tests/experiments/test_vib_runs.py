"""Deep VIB through the runner: accuracy, seeds, no test-set selection, figures, sweeps."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from ibkit._errors import ConfigError
from ibkit.data import Split, load_digits
from ibkit.engine import Trainer
from ibkit.experiments import build_model, resolve_config, run
from ibkit.experiments.families.vib import vib_objective
from ibkit.experiments.sweep import parse_values, resolve_key, run_sweep
from ibkit.report import format_summary


def test_vib_digits_reaches_its_stated_accuracy(tmp_path):
    config = resolve_config("vib-digits", ["train.epochs=30", "train.progress=false"])
    summary = run(config, tmp_path / "run")
    assert summary["final"]["test_error_pct"] <= 5.0
    assert summary["expected"][0]["met"] is True
    final = summary["final"]
    # the bounds are reported in bits and are sane: 0 <= I(Z;Y) lower <= H(Y) = log2(10)
    assert 0 < final["test_izy_lower_bits"] <= 3.33 and final["test_kl_bits"] > 0


def test_same_seed_same_metrics_different_seed_different(tmp_path):
    cfg = resolve_config("vib-digits", ["train.epochs=3", "train.progress=false"])
    run(cfg, tmp_path / "a")
    run(cfg, tmp_path / "b")
    run(resolve_config("vib-digits", ["train.epochs=3", "train.progress=false"], seed=1),
        tmp_path / "c")
    a, b, c = ((tmp_path / d / "metrics.csv").read_text() for d in "abc")
    assert a == b and a != c


def test_the_test_split_never_influences_training():
    """No model selection on the test set: scrambling test labels changes nothing learned."""
    data = load_digits()
    scrambled = dataclasses.replace(data, test=Split(data.test.x, data.test.y.flip(0)))
    config = resolve_config("vib-digits", ["train.epochs=3", "train.progress=false"])
    states = []
    for d in (data, scrambled):
        torch.manual_seed(0)
        model = build_model(config, d)
        Trainer(model, d, config.train, vib_objective(config, d)).fit()
        states.append(model.state_dict())
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k


def test_k2_run_writes_the_embedding_and_its_figure(tmp_path):
    config = resolve_config("vib-digits", ["model.bottleneck_dim=2", "train.epochs=2",
                                           "train.progress=false"])
    run(config, tmp_path / "r")
    lines = (tmp_path / "r" / "embedding.csv").read_text().splitlines()
    assert lines[0] == "mean1,mean2,std1,std2,label" and len(lines) > 100
    assert (tmp_path / "r" / "figures" / "embedding.png").is_file()


def test_vib_metrics_have_both_bounds_per_epoch(tmp_path):
    run(resolve_config("vib-digits", ["train.epochs=2", "train.progress=false"]), tmp_path / "r")
    header = (tmp_path / "r" / "metrics.csv").read_text().splitlines()[0].split(",")
    for col in ("train_kl_bits", "val_kl_bits", "val_izy_lower_bits", "test_class_loss_bits"):
        assert col in header


def test_param_values_and_keys():
    assert parse_values("1e-3, 1e-2") == ["1e-3", "1e-2"]
    assert parse_values("linspace(0,1,3)") == ["0", "0.5", "1"]
    config = resolve_config("vib-digits")
    assert resolve_key("beta", config) == "objective.beta"
    assert resolve_key("train.lr", config) == "train.lr"
    assert resolve_key("gamma", config) == "compress.gamma"
    with pytest.raises(ConfigError, match="is no config key"):
        resolve_key("no_such_knob", config)
    with pytest.raises(ConfigError, match="Did you mean 'beta'"):
        resolve_key("betta", config)
    with pytest.raises(ConfigError, match="names 2 config keys"):
        resolve_key("name", config)  # data.name and model.name


def test_sweep_runs_points_writes_table_and_figures_and_skips_finished(tmp_path):
    args = ("vib-digits", ["beta=1e-3,1"], tmp_path, ["train.epochs=2"])
    rows = run_sweep(*args, workers=1)
    assert [r["objective.beta"] for r in rows] == [1e-3, 1.0]
    for name in ("sweep.csv", "ib_tradeoff.png", "error_vs_beta.png"):
        assert (tmp_path / name).is_file()
    summary = tmp_path / "beta=1e-3" / "summary.json"
    stamp = summary.stat().st_mtime_ns
    run_sweep(*args, workers=1)
    assert summary.stat().st_mtime_ns == stamp  # finished point skipped
    # more compression at larger beta
    assert rows[1]["test_kl_bits"] < rows[0]["test_kl_bits"]


def test_sweep_rejects_a_bad_value_before_running(tmp_path):
    with pytest.raises(ConfigError, match="'beta' parameter of ObjectiveConfig must be >= 0"):
        run_sweep("vib-digits", ["beta=1e-3,-1"], tmp_path)
    assert not any(tmp_path.iterdir())


def test_demo_runs_the_classifier_and_the_vib_sweep(tmp_path):
    config = resolve_config("demo", ["train.progress=false"])
    summary = run(config, tmp_path / "demo")
    assert len(summary["vib_sweep"]) == 5
    assert (tmp_path / "demo" / "figures" / "ib_tradeoff.png").is_file()
    saved = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert saved["vib_sweep"]
    assert saved["tishby_tanh"]["compression_bits_binning"] is not None
    assert (tmp_path / "demo" / "figures" / "tishby_plane.png").is_file()


    # the closing story: each part's numbers, the figures and the page, all of them real
    story = saved["story"]
    assert f"test accuracy {saved['final']['test_acc']:.3f}" in story[0]
    kl = [r["I_ZX_upper_bits"] for r in saved["vib_sweep"]]
    assert f"I(Z;X) <= {min(kl):.3g} to {max(kl):.3g} bits" in story[1]
    assert f"fell by {saved['tishby_tanh']['compression_bits_binning']:.2f} bits" in story[2]
    figures = story[3].removeprefix("figures: ").split(", ")
    assert len(figures) == 5 and all(Path(f).is_file() for f in figures)
    page = tmp_path / "demo" / "report.html"
    assert str(page) in story[4] and page.is_file()
    html = page.read_text()
    assert 'href="tishby-tanh/report.html"' in html and 'href="vib-sweep/report.html"' in html
    assert (tmp_path / "demo" / "vib-sweep" / "report.html").is_file()
    text = format_summary(saved)
    assert "1. classifier" in text and "open in a browser" in text
