"""Compression presets end to end: run directory, report, exported model on its own."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tarfile

import numpy as np
import pytest
import torch

from ibkit.compress import load_exported
from ibkit.data import cifar, load_dataset
from ibkit.experiments import resolve_config, run


def test_lenet300_preset_on_digits_writes_report_and_exported_model(tmp_path) -> None:
    config = resolve_config("vibnet-lenet300", [
        "data.name=digits", "train.epochs=3", "compress.finetune_epochs=1",
        "compress.gamma=0.5,1,1", "train.progress=false"])
    summary = run(config, tmp_path / "r")
    final, report = summary["final"], summary["compression"]["report"]
    assert 0 < final["r_W_pct"] <= 100 and 0 < final["r_N_pct"] <= 100
    assert report["architecture"].count("-") == 2 and report["units"]["input_gate"][1] == 64
    assert "exported_test_error_pct" in final and "finetuned_test_error_pct" in final
    assert {e["metric"] for e in summary["expected"]} == {"r_W_pct", "r_N_pct",
                                                          "finetuned_test_error_pct"}
    with open(tmp_path / "r" / "compression.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["gate"] for r in rows] == ["input_gate", "act1_gate", "act2_gate"]
    # the exported model on its own gives the reported test error
    model = load_exported(tmp_path / "r" / "exported")
    data = load_dataset("digits")
    with torch.no_grad():
        err = 100 * (model(data.test.x).argmax(1) != data.test.y).float().mean().item()
    assert err == pytest.approx(final["exported_test_error_pct"], abs=1e-6)
    assert (tmp_path / "r" / "figures" / "units_kept.png").is_file()


def _cifar_archive(path, n: int) -> None:
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        for name in (*cifar.TRAIN_BATCHES, "test_batch.bin"):
            rec = rng.integers(0, 256, (n, cifar.RECORD_BYTES), dtype=np.uint8)
            rec[:, 0] %= 10
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = rec.nbytes
            tar.addfile(info, io.BytesIO(rec.tobytes()))


def test_vgg16_cifar10_preset_runs_on_a_tiny_generated_data_set(tmp_path, monkeypatch) -> None:
    archive = tmp_path / "data" / "cifar10" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir(parents=True)
    _cifar_archive(archive, 40)
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setattr(cifar, "CIFAR10_FILES", (cifar.RemoteFile(archive.name, md5, ()),))
    config = resolve_config("vibnet-vgg16-cifar10", [
        "model.hidden=32", "train.epochs=2", "train.batch_size=50", "compress.finetune_epochs=1",
        "compress.gamma_warmup_epochs=1", "train.progress=false"], data_dir=str(tmp_path / "data"))
    summary = run(config, tmp_path / "v")
    report = summary["compression"]["report"]
    assert len(report["units"]) == 14  # a gate after each of 13 conv ReLUs and the FC ReLU
    assert report["flops_after"] <= report["flops_before"]
    saved = json.loads((tmp_path / "v" / "summary.json").read_text())
    assert saved["final"]["r_W_pct"] == pytest.approx(report["r_W_pct"])


def test_pretraining_phase_trains_the_dense_model_that_gets_the_gates(tmp_path) -> None:
    # With a negligible learning rate after gating, the gated model must keep the
    # pretrained accuracy (gates start as the identity); gating an untrained model would
    # leave chance accuracy.
    config = resolve_config("vibnet-lenet300", [
        "data.name=digits", "train.epochs=1", "train.lr=1e-12", "compress.gamma=0", "compress.gate_lr=0",
        "compress.pretrain_epochs=6", "compress.pretrain_lr=3e-3", "compress.finetune_epochs=0",
        "train.progress=false"])
    summary = run(config, tmp_path / "p")
    final = summary["final"]
    with open(tmp_path / "p" / "pretrain" / "metrics.csv") as f:
        assert len(list(csv.DictReader(f))) == 6
    assert final["pretrained_test_error_pct"] < 15.0
    assert final["test_error_pct"] == pytest.approx(final["pretrained_test_error_pct"], abs=0.5)
    assert summary["compression"]["pretrain_seconds"] > 0


def test_pretraining_resumes_from_its_own_checkpoint(tmp_path) -> None:
    from ibkit.experiments import build_model
    from ibkit.experiments.families.compression import pretrain_dense

    config = resolve_config("vibnet-lenet300", [
        "data.name=digits", "compress.pretrain_epochs=2", "train.progress=false"])
    data = load_dataset("digits")
    trained = build_model(config, data)
    first = pretrain_dense(trained, data, config, tmp_path, resume=False)
    torch.manual_seed(123)  # a different initialisation: only the checkpoint can match
    again = build_model(config, data)
    second = pretrain_dense(again, data, config, tmp_path, resume=True)
    assert second == first  # history and timing restored, nothing trained again
    for a, b in zip(trained.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_finetuning_can_anneal_its_learning_rate(tmp_path) -> None:
    config = resolve_config("vibnet-lenet300", [
        "data.name=digits", "train.epochs=1", "compress.pretrain_epochs=0", "compress.gamma=0.5",
        "compress.finetune_epochs=4", "compress.finetune_lr=1e-3",
        "compress.finetune_schedule=cosine", "train.progress=false"])
    run(config, tmp_path / "c")
    with open(tmp_path / "c" / "finetune" / "metrics.csv") as f:
        lrs = [float(r["lr"]) for r in csv.DictReader(f)]
    assert lrs == pytest.approx([1e-3 * (1 + np.cos(np.pi * e / 4)) / 2 for e in range(4)])
