"""Compression presets end to end: run directory, report, exported model on its own."""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import pytest
import torch
from tests.conftest import tar_of_records

from ibkit.compress import load_exported
from ibkit.data import cifar, load_dataset
from ibkit.experiments import resolve_config, run
from ibkit.experiments.families.compression import VGG_POINTS


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
    members = [(b, n) for b in (*cifar.TRAIN_BATCHES, "test_batch.bin")]
    tar_of_records(path, "cifar-10-batches-bin", members, cifar.RECORD_BYTES, {0: 10})


def _cifar100_archive(path, n: int) -> None:
    tar_of_records(path, "cifar-100-binary", [("train.bin", n), ("test.bin", n)],
                    cifar.CIFAR100_RECORD_BYTES, {0: 20, 1: 100})


@pytest.mark.parametrize("preset", [p[0] for p in VGG_POINTS])
def test_every_vgg16_preset_runs_on_a_tiny_generated_archive(preset, tmp_path, monkeypatch):
    data = resolve_config(preset).data.name
    archive = tmp_path / "data" / data / f"cifar-{data[5:]}-binary.tar.gz"
    archive.parent.mkdir(parents=True)
    (_cifar_archive if data == "cifar10" else _cifar100_archive)(archive, 40 if data == "cifar10"
                                                                  else 150)
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    attr = "CIFAR10_FILES" if data == "cifar10" else "CIFAR100_FILES"
    monkeypatch.setattr(cifar, attr, (cifar.RemoteFile(archive.name, md5, ()),))
    config = resolve_config(preset, [
        "model.hidden=32", "train.epochs=2", "train.batch_size=50", "compress.finetune_epochs=1",
        "compress.gamma_warmup_epochs=1", "train.progress=false"], data_dir=str(tmp_path / "data"))
    summary = run(config, tmp_path / "v")
    report = summary["compression"]["report"]
    assert len(report["units"]) == 14  # a gate after each of 13 conv ReLUs and the FC ReLU
    assert report["flops_after"] <= report["flops_before"]
    saved = json.loads((tmp_path / "v" / "summary.json").read_text())
    assert saved["final"]["r_W_pct"] == pytest.approx(report["r_W_pct"])
    # all four of the paper's numbers are measured and checked
    measured = {e["metric"]: e["measured"] for e in saved["expected"]}
    assert set(measured) == {"r_W_pct", "r_N_pct", "flops_after", "finetuned_test_error_pct"}
    assert all(v is not None for v in measured.values())
    n_classes = 10 if data == "cifar10" else 100
    exported = load_exported(tmp_path / "v" / "exported")
    assert exported(torch.zeros(2, 3, 32, 32)).shape == (2, n_classes)


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


def test_flops_are_multiply_accumulates_as_torchs_flop_counter_counts_them():
    """The paper's FLOPs are the multiply-accumulates of convolutions and linear layers;
    torch.utils.flop_counter counts 2 FLOPs per multiply-accumulate (and no bias adds)."""
    from torch.utils.flop_counter import FlopCounterMode

    from ibkit.compress import count_flops
    from ibkit.models import lenet5_caffe, vgg16_cifar

    for model, x in ((vgg16_cifar(), torch.zeros(1, 3, 32, 32)),
                     (lenet5_caffe(), torch.zeros(1, 1, 28, 28))):
        model.eval()
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(x)
        assert 2 * count_flops(model, x) == counter.get_total_flops()
    assert count_flops(vgg16_cifar(), torch.zeros(1, 3, 32, 32)) == 313_463_808


def test_gates_over_training_and_figure_2_on_a_short_fig2_run(tmp_path):
    config = resolve_config("vibnet-lenet300-fig2", [
        "data.name=digits", "train.epochs=4", "compress.pretrain_epochs=1",
        "compress.finetune_epochs=0", "compress.gamma=2", "plane.probe_size=300",
        "train.progress=false"])
    run(config, tmp_path / "f")
    with open(tmp_path / "f" / "gates.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [e for e in range(5) for _ in range(3)]
    first = [r for r in rows if r["gate"] == "act1_gate"]
    assert int(first[0]["kept"]) == int(first[0]["units"]) == 300  # gates start open
    assert all(0 <= float(r["kept_frac"]) <= 1 and float(r["kl_bits"]) > 0 for r in rows)
    assert float(first[-1]["kl_bits"]) < float(first[0]["kl_bits"])  # objective (*) works
    with open(tmp_path / "f" / "plane.csv") as f:
        plane = list(csv.DictReader(f))
    assert {r["layer"] for r in plane} == {"act1_gate"}
    assert sorted({int(r["epoch"]) for r in plane}) == list(range(5))
    assert (tmp_path / "f" / "figures" / "compression_mi.png").is_file()


def test_the_gate_trace_drops_rows_after_the_checkpoint_on_resume(tmp_path):
    from ibkit.compress import GateTrace, add_gates
    from ibkit.models import MLP

    model = add_gates(MLP(8, (6,), 2, "relu"), ["act1"], torch.zeros(2, 8))
    trace = GateTrace(tmp_path / "gates.csv")

    class _T:
        history: list = []

    trainer = _T()
    trainer.model = model
    trace.on_train_start(trainer)
    for epoch in (1, 2, 3):
        trace.on_epoch_end(trainer, epoch, {})
    trace.load_state_dict({"last": 1})  # the checkpoint was taken after epoch 1
    with open(tmp_path / "gates.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1]
    from ibkit.compress import gates

    with torch.no_grad():  # close 2 of the 6 units: ln alpha = ln mu^2 - ln sigma^2 < 0
        gates(model)["act1_gate"].log_sigma2[:2] = 5.0
    trace.on_epoch_end(trainer, 2, {})
    with open(tmp_path / "gates.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert (rows[0]["kept"], rows[-1]["kept"], rows[-1]["units"]) == ("6", "4", "6")
    assert float(rows[-1]["kept_frac"]) == pytest.approx(4 / 6)
    assert float(rows[-1]["kl_bits"]) < float(rows[0]["kl_bits"])
