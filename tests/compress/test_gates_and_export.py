"""InformationGate, pruning, export of a smaller model, the compression report, bad input."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch import nn

from ibkit._errors import ConfigError
from ibkit.compress import (
    VIBNetObjective,
    add_gates,
    compression_report,
    count_flops,
    export_pruned,
    gates,
    lenet300_ratios,
    load_exported,
    prune_gates,
    save_exported,
)
from ibkit.compress.report import positions_per_unit
from ibkit.layers import InformationGate
from ibkit.models import MLP, lenet5_caffe, vgg16_cifar


def test_gate_noise_kl_and_evaluation() -> None:
    gate = InformationGate(4)
    with torch.no_grad():
        gate.mu.copy_(torch.tensor([1.0, 2.0, 0.1, -1.0]))
        gate.log_sigma2.copy_(torch.tensor([0.0, 0.0, 0.0, 4.0]))
    alpha = torch.tensor([1.0, 4.0, 0.01, math.exp(-4.0)])
    assert torch.allclose(gate.log_alpha(), alpha.log(), atol=1e-5)
    assert float(gate.kl_bits().detach()) == pytest.approx(float(0.5 * torch.log2(1 + alpha).sum()), rel=1e-5)
    gate.eval()  # ln alpha < 0 for units 2 and 3: masked; others multiplied by mu
    with torch.no_grad():
        assert torch.equal(gate(torch.ones(1, 4)), torch.tensor([[1.0, 2.0, 0.0, 0.0]]))
    gate.train()
    with torch.no_grad():
        out = gate(torch.ones(1000, 4))
        conv = gate(torch.ones(5, 4, 3, 3))  # channels: one draw per example and channel
    assert out.std(0)[0] == pytest.approx(1.0, rel=0.1)  # sigma = 1: noise per example
    assert not torch.equal(out[:, 0], out[:, 1])  # and per unit
    assert torch.equal(conv, conv[:, :, :1, :1].expand_as(conv))
    (gate(torch.ones(8, 4)).sum() + gate.kl_bits()).backward()
    assert gate.mu.grad.abs().sum() > 0 and gate.log_sigma2.grad.abs().sum() > 0


def _randomise(model: nn.Module) -> None:
    for g in gates(model).values():
        with torch.no_grad():
            g.log_sigma2.uniform_(-4.0, 2.0)
            g.mu.uniform_(-1.5, 1.5)


@pytest.mark.parametrize("kind", ["lenet300", "lenet5", "vgg"])
def test_export_is_smaller_and_equal_within_1e_5(kind: str, tmp_path) -> None:
    torch.manual_seed(0)
    if kind == "lenet300":
        dense, x, after = MLP(784, (300, 100), 10), torch.rand(16, 1, 28, 28), ["input", "act1", "act2"]
    elif kind == "lenet5":
        dense, x, after = lenet5_caffe(), torch.rand(16, 1, 28, 28), ["relu1", "relu2", "relu3"]
    else:
        dense, x, after = vgg16_cifar(width=1 / 8), torch.rand(16, 3, 32, 32), ["relu1", "pool1",
                                                                               "relu9", "relu_fc1"]
    gated = add_gates(dense, after, x)
    _randomise(gated)
    gated.train()
    gated(x)  # batch-norm statistics move
    kept = prune_gates(gated)
    assert "mu_orig" in dict(gated.named_parameters()).keys() | {
        k.split(".")[-1] for k in gated.state_dict()}
    exported = export_pruned(gated, x)
    gated.eval()
    assert (exported(x) - gated(x)).abs().max() <= 1e-5
    report = compression_report(dense, gated, exported, x[:1])
    assert report.weights_after < report.weights_before
    assert report.flops_after < report.flops_before
    assert report.architecture == "-".join(str(k) for k, _ in kept.values())
    assert save_exported(exported, tmp_path) == tmp_path / "exported.pt"
    spec_text = (tmp_path / "exported.json").read_text()
    assert spec_text.startswith('[\n {\n  "') and spec_text.endswith("]\n")  # indent 1
    alone = load_exported(tmp_path)  # rebuilt from the spec, weights read with weights_only
    assert (alone(x) - gated(x)).abs().max() <= 1e-5


def _keep_first(gated: nn.Module, counts: tuple[int, ...]) -> None:
    """Set each gate to keep its first ``counts[i]`` units (ln alpha 5 kept, -5 pruned), prune."""
    for g, k in zip(gates(gated).values(), counts, strict=True):
        with torch.no_grad():
            g.mu.fill_(1.0)
            g.log_sigma2.fill_(-5.0)
            g.log_sigma2[k:] = 5.0
    prune_gates(gated)


def test_report_arithmetic_of_the_paper() -> None:
    r_w, r_n = lenet300_ratios((97, 71, 33))
    assert round(r_w, 2) == 3.59 and round(r_n, 2) == 16.98
    # the same numbers from a gated LeNet-300-100 pruned to 97-71-33
    torch.manual_seed(0)
    dense, x = MLP(784, (300, 100), 10), torch.rand(4, 1, 28, 28)
    gated = add_gates(dense, ["input", "act1", "act2"], x)
    _keep_first(gated, (97, 71, 33))
    report = compression_report(dense, gated, export_pruned(gated, x), x[:1])
    assert report.architecture == "97-71-33"
    assert round(report.r_W_pct, 2) == 3.59 and round(report.r_N_pct, 2) == 16.98
    # exactly: weights only, biases of neither model counted
    assert report.weights_before == 784 * 300 + 300 * 100 + 100 * 10
    assert report.weights_after == 97 * 71 + 71 * 33 + 33 * 10
    assert report.r_W_pct == 100.0 * (97 * 71 + 71 * 33 + 33 * 10) / (784 * 300 + 300 * 100 + 1000)
    assert report.r_N_pct == 100.0 * (97 + 71 + 33) / (784 + 300 + 100)
    assert report.flops_after == 9560 and count_flops(dense, x) == 266_200
    assert report.r_N_positions_pct == pytest.approx(report.r_N_pct)  # no convolutions


@pytest.mark.parametrize("keep,r_w,r_n,r_n_positions,flops", [
    ((3, 9, 17), 0.78, 5.09, 15.25, 89_018),    # the vibnet-lenet5 preset's network
    ((3, 10, 16), 0.82, 5.09, 15.66, 93_920),   # near the paper's 0.83 %, 15.55 %, 0.094 M
])
def test_lenet5_report_counts_channels_and_their_positions(keep, r_w, r_n, r_n_positions,
                                                           flops) -> None:
    torch.manual_seed(0)
    dense, x = lenet5_caffe(), torch.rand(4, 1, 28, 28)
    gated = add_gates(dense, ["relu1", "relu2", "relu3"], x)
    _keep_first(gated, keep)
    report = compression_report(dense, gated, export_pruned(gated, x), x[:1])
    # (3 x 576 + 9 x 64 + 17) / (20 x 576 + 50 x 64 + 500) for 3-9-17
    assert round(report.r_W_pct, 2) == r_w and round(report.r_N_pct, 2) == r_n
    assert round(report.r_N_positions_pct, 2) == r_n_positions
    assert report.flops_after == flops and report.flops_before == 2_293_000


def test_objective_star() -> None:
    torch.manual_seed(0)
    x, y = torch.rand(10, 1, 28, 28), torch.randint(0, 10, (10,))
    gated = add_gates(MLP(784, (30,), 10), ["input", "act1"], x)
    obj = VIBNetObjective({"input_gate": 2.0, "act1_gate": 0.0}, n_train=100)
    gated.eval()
    out = obj(gated, x, y)
    ce = nn.functional.cross_entropy(gated(x), y)
    penalty = 2.0 * gates(gated)["input_gate"].penalty_nats() / 100
    assert float(out.loss.detach()) == pytest.approx(float((ce + penalty).detach()), rel=1e-5)
    with pytest.raises(ConfigError, match="'gamma'"):
        VIBNetObjective(-1.0, 100)


def _toy_gated_trainer(objective: VIBNetObjective, **train: float):
    """A trainer of a gated 6-5-2 MLP on 20 random examples, one epoch at lr 1e-3."""
    from ibkit.data import Dataset, Split
    from ibkit.engine import TrainConfig, Trainer

    torch.manual_seed(0)
    x, y = torch.rand(20, 6), torch.randint(0, 2, (20,))
    gated = add_gates(MLP(6, (5,), 2), ["input", "act1"], x)
    data = Dataset("toy", Split(x, y), None, None, 2)
    return Trainer(gated, data, TrainConfig(epochs=1, lr=1e-3, progress=False, **train),
                   objective)


def test_gate_learning_rate_reaches_the_trainers_optimizer() -> None:
    trainer = _toy_gated_trainer(VIBNetObjective(1.0, n_train=20, gate_lr=0.5))
    weights, gate_group = trainer.optimizer.param_groups
    assert weights["lr"] == 1e-3 and gate_group["lr"] == 0.5
    gate_params = {id(p) for g in gates(trainer.model).values() for p in g.parameters()}
    assert {id(p) for p in gate_group["params"]} == gate_params and len(gate_params) == 4
    assert not gate_params & {id(p) for p in weights["params"]}
    before = gates(trainer.model)["input_gate"].log_sigma2.detach().clone()
    trainer.fit()  # one Adam step moves a parameter by about its group's rate
    step = (gates(trainer.model)["input_gate"].log_sigma2.detach() - before).abs().max()
    assert 0.3 < float(step) < 0.6
    with pytest.raises(ConfigError, match="'gate_lr'"):
        VIBNetObjective(1.0, 20, gate_lr=0.0)


def test_weight_decay_skips_the_gates() -> None:
    trainer = _toy_gated_trainer(VIBNetObjective(1.0, n_train=20), weight_decay=0.1)
    weights, gate_group = trainer.optimizer.param_groups
    assert weights["weight_decay"] == 0.1 and gate_group["weight_decay"] == 0.0


def test_bad_input_is_refused() -> None:
    x = torch.rand(4, 10)
    model = nn.Sequential(nn.Linear(10, 5), nn.Dropout(0.1), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(ConfigError, match="Cannot gate module '1' of type Dropout"):
        add_gates(model, ["1"], x)
    with pytest.raises(ConfigError, match="'gates'.*'fc7'"):
        add_gates(model, ["fc7"], x)
    with pytest.raises(ConfigError, match="has none"):
        export_pruned(model, x)
    with pytest.raises(ValueError, match="no InformationGate"):
        prune_gates(model)
    gated = add_gates(model, ["2"], x)
    with torch.no_grad():
        gates(gated)["2_gate"].log_sigma2.fill_(10.0)  # every unit below the threshold
    with pytest.warns(RuntimeWarning, match="keeping unit"):
        kept = prune_gates(gated)
    assert kept["2_gate"] == (1, 5)
    exported = export_pruned(gated, x)  # one unit survives: a working model
    assert exported[0].out_features == 1
    with pytest.raises(ConfigError, match="no Linear or Conv2d follows it"):
        add_gates(model, ["3"], x)  # refused when added, not after training at export


def test_traps_are_refused_before_training() -> None:
    x = torch.rand(4, 1, 6, 6)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(64, 2))
    with pytest.raises(ConfigError, match="batch norm '1' follows it.*gate '1' instead"):
        add_gates(cnn, ["0"], x)
    gated = add_gates(cnn, ["1"], x)
    with pytest.raises(ConfigError, match=r"names \['2'\], which are not gates.*'1_gate'"):
        VIBNetObjective({"2": 5.0}, 100).param_groups(gated)
    with pytest.raises(ConfigError, match="has none, so it would be plain cross-entropy"):
        VIBNetObjective(1.0, 100)(cnn, x, torch.zeros(4, dtype=torch.long))
    with pytest.raises(ConfigError, match="needs the gated model"):
        compression_report(cnn, cnn, cnn, x)


def test_report_counts_exactly_off_square_inputs_and_positions_as_ints() -> None:
    """Exact where rounding hid mistakes (mutation testing): the paper's ratios as fractions,
    the units per gate, FLOPs of a convolution over a non-square image, integer positions."""
    r_w, r_n = lenet300_ratios((97, 71, 33))
    exact = (97 * 71 + 71 * 33 + 33 * 10) / (784 * 300 + 300 * 100 + 100 * 10)
    assert r_w == pytest.approx(100.0 * exact, rel=1e-12)
    assert r_n == pytest.approx(100.0 * (97 + 71 + 33) / (784 + 300 + 100), rel=1e-12)
    torch.manual_seed(0)
    dense, x = MLP(784, (300, 100), 10), torch.rand(4, 1, 28, 28)
    gated = add_gates(dense, ["input", "act1", "act2"], x)
    _keep_first(gated, (97, 71, 33))
    report = compression_report(dense, gated, export_pruned(gated, x), x[:1])
    assert list(report.units.values()) == [[97, 784], [71, 300], [33, 100]]
    assert report.as_dict()["units"] == report.units
    assert report.as_dict()["r_W_pct"] == report.r_W_pct == pytest.approx(r_w, rel=1e-12)
    conv = nn.Sequential(nn.Conv2d(1, 2, 3))
    assert count_flops(conv, torch.zeros(1, 1, 8, 6)) == 9 * 2 * 6 * 4  # output 6 x 4
    lenet = add_gates(lenet5_caffe(), ["relu1", "relu2", "relu3"], x)
    positions = positions_per_unit(lenet, x[:1])
    assert sorted(positions.values()) == [1, 64, 576]  # fc units, conv2 8 x 8, conv1 24 x 24
    assert all(type(v) is int for v in positions.values())


def test_every_layer_setting_survives_export_save_and_load(tmp_path) -> None:
    # no biases, dilation, reflect padding, batch-norm eps, pools with stride and padding:
    # a setting the spec forgot (dilation, padding_mode and pool padding once were) changes
    # the reloaded model
    torch.manual_seed(0)
    dense = nn.Sequential(
        nn.Conv2d(2, 6, 3, padding=2, dilation=2, bias=False, padding_mode="reflect"),
        nn.BatchNorm2d(6, eps=1e-3), nn.ReLU(),
        nn.AvgPool2d(2, stride=1), nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        nn.Flatten(), nn.Linear(6 * 5 * 5, 12, bias=False), nn.BatchNorm1d(12, eps=1e-2),
        nn.ReLU(), nn.Linear(12, 3))
    x = torch.randn(16, 2, 9, 9)
    gated = add_gates(dense, ["2", "8"], x)
    _randomise(gated)
    gated.train()
    gated(x)  # batch-norm statistics move
    prune_gates(gated)
    exported = export_pruned(gated, x)
    gated.eval()
    assert (exported(x) - gated(x)).abs().max() <= 1e-5
    save_exported(exported, tmp_path)
    loaded = load_exported(tmp_path)
    assert str(loaded) == str(exported)  # every module's settings, as printed by torch
    assert (loaded(x) - gated(x)).abs().max() <= 1e-5


def test_layers_that_cannot_be_exported_are_named_exactly(tmp_path) -> None:
    x = torch.randn(4, 2, 6, 6)
    grouped = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3, groups=2))
    with pytest.raises(ConfigError, match=r"^Export supports Conv2d with groups=1\. Got groups=2\.$"):
        export_pruned(add_gates(grouped, ["1"], x), x)
    import json

    (tmp_path / "exported.json").write_text(json.dumps([{"name": "a", "kind": "NoSuchLayer"}]))
    torch.save({}, tmp_path / "exported.pt")
    with pytest.raises(ConfigError, match=r"^Unknown layer kind 'NoSuchLayer' in an exported "
                                          r"model's spec\.$"):
        load_exported(tmp_path)


def test_the_report_needs_the_gated_model_and_says_so() -> None:
    plain = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(ConfigError, match="^" + re.escape(
            "compression_report needs the gated model (with InformationGate modules) as "
            "'gated'; this one has none.") + "$"):
        compression_report(plain, plain, plain, torch.zeros(1, 4))
