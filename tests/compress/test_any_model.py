"""Gates on any nn.Module (a small ResNet with batch norm and a concatenation) and the export of
the pruned model through Torch-Pruning's dependency graph, equal to 1e-5."""

from __future__ import annotations

import re
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ibkit._errors import ConfigError, IbkitError
from ibkit.compress import (
    VIBNetObjective,
    add_gates,
    compression_report,
    export_pruned,
    gates,
    load_exported,
    prune_gates,
    save_exported,
)
from ibkit.layers import InformationGate


class Block(nn.Module):
    """conv-bn-relu-conv-bn plus a shortcut (identity or 1x1 conv-bn), then relu."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        self.short = nn.Sequential() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu1(self.bn1(self.conv1(x)))
        return self.relu2(self.bn2(self.conv2(h)) + self.short(x))


class SmallResNet(nn.Module):
    """Stem, two residual blocks, two branches concatenated, a 1x1 mix, two linear layers."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.layer1 = nn.Sequential(Block(8, 8, 1), Block(8, 16, 2))
        self.left = nn.Sequential(nn.Conv2d(16, 6, 1), nn.ReLU())
        self.right = nn.Sequential(nn.Conv2d(16, 5, 3, padding=1), nn.BatchNorm2d(5), nn.Tanh())
        self.mix = nn.Conv2d(11, 12, 1)
        self.act = nn.ReLU()
        self.fc1 = nn.Linear(12 * 4 * 4, 20)
        self.relu_fc = nn.ReLU()
        self.fc2 = nn.Linear(20, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layer1(self.stem(x))
        h = self.act(self.mix(torch.cat([self.left(h), self.right(h)], 1)))
        h = F.adaptive_avg_pool2d(h, 4).flatten(1)
        return self.fc2(self.relu_fc(self.fc1(h)))


INSIDE = ["layer1.0.relu1", "layer1.1.relu1", "left.1", "right.2", "act", "fc1"]


def _data(n: int = 96) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(n, 1, 8, 8)
    y = (x[:, 0, :4].mean((1, 2)) > 0).long() + (x[:, 0, 4:].mean((1, 2)) > 0).long()
    return x, y


def _trained_gated(after: list[str]) -> tuple[nn.Module, nn.Module, torch.Tensor]:
    """The dense net (batch-norm statistics moved by training) and its gated copy after a
    few steps of objective (*); gates' ln alpha then spread so that some units are cut."""
    torch.manual_seed(0)
    net, (x, y) = SmallResNet(), _data()
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    gated = add_gates(net, after, x[:8])
    objective = VIBNetObjective(1.0, n_train=len(x))
    opt = torch.optim.Adam(objective.param_groups(gated), 1e-2)
    for _ in range(5):
        opt.zero_grad()
        objective(gated, x, y).loss.backward()
        opt.step()
    with torch.no_grad():  # half of each gate's units below ln alpha = 0, signs mixed
        for g in gates(gated).values():
            g.mu.copy_(torch.linspace(-2.0, 2.0, g.num_units))
            g.log_sigma2.zero_()
    return net, gated, x


def test_gates_on_a_resnet_keep_its_parameter_names_and_its_forward():
    net, (x, _) = SmallResNet().eval(), _data(8)
    gated = add_gates(net, INSIDE, x)
    assert list(gates(gated)) == [f"{n}_gate" for n in INSIDE]
    assert gates(gated)["right.2_gate"].num_units == 5 and gates(gated)["fc1_gate"].num_units == 20
    assert set(net.state_dict()) < set(gated.state_dict())  # the net's own names are kept
    assert not any(isinstance(m, InformationGate) for m in net.modules())  # a copy was gated
    gated.eval()
    with torch.no_grad():  # gates at mu = 1 pass everything: same outputs as the dense net
        for g in gates(gated).values():
            g.mu.fill_(1.0)
        assert torch.allclose(gated(x), net(x), atol=1e-6)
        gates(gated)["act_gate"].mu.zero_()  # a closed gate changes the output
        assert not torch.allclose(gated(x), net(x), atol=1e-3)


def test_objective_trains_the_hooked_gates_with_their_own_gammas():
    net, (x, y) = SmallResNet(), _data(16)
    gated = add_gates(net, INSIDE, x[:4])
    objective = VIBNetObjective({"act_gate": 10.0}, n_train=16)
    groups = objective.param_groups(gated)
    assert sum(p.numel() for p in groups[1]["params"]) == 2 * sum(
        g.num_units for g in gates(gated).values())
    out = objective(gated, x, y)
    ce = F.cross_entropy(out.logits.detach(), y)
    expected = ce + 10.0 * gates(gated)["act_gate"].penalty_nats().detach() / 16
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    out.loss.backward()
    assert gates(gated)["act_gate"].log_sigma2.grad is not None
    with pytest.raises(ConfigError, match=r"names \['act'\]"):
        VIBNetObjective({"act": 1.0}, n_train=16).check_model(gated)


def test_pruned_resnet_exports_to_a_smaller_model_equal_to_1e_5():
    net, gated, x = _trained_gated(INSIDE)
    kept = prune_gates(gated)
    exported = export_pruned(gated, x[:16])
    assert not any(isinstance(m, InformationGate) for m in exported.modules())
    fresh = torch.randn(64, 1, 8, 8)
    gated.eval()
    exported.eval()
    with torch.no_grad():
        assert float((exported(fresh) - gated(fresh)).abs().max()) <= 1e-5
    # genuinely smaller: every cut layer lost exactly the pruned units
    assert exported.layer1[0].conv1.out_channels == kept["layer1.0.relu1_gate"][0] < 8
    assert exported.layer1[0].bn1.num_features == kept["layer1.0.relu1_gate"][0]
    assert exported.layer1[0].conv2.in_channels == kept["layer1.0.relu1_gate"][0]
    n_cat = kept["left.1_gate"][0] + kept["right.2_gate"][0]
    assert exported.mix.in_channels == n_cat < 11  # the concatenation's offsets followed
    assert exported.fc1.out_features == kept["fc1_gate"][0]
    assert exported.fc1.in_features == kept["act_gate"][0] * 16  # through the flatten
    report = compression_report(net, gated, exported, x[:1])
    assert report.weights_after < report.weights_before
    assert report.flops_after < report.flops_before


def test_a_gate_on_the_residual_stream_is_refused_at_export():
    # the stem's channels reach block 0's output through its identity shortcut, ungated
    _, gated, x = _trained_gated(["stem.2"])
    prune_gates(gated)
    with pytest.raises(ConfigError, match="shared by a path it does not gate"):
        export_pruned(gated, x[:16])


def test_bad_positions_are_refused_with_the_reason():
    x = _data(4)[0]

    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.fc2, self.relu = nn.Linear(64, 8), nn.Linear(8, 3), nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(self.relu(self.fc1(self.relu(x.flatten(1)))))

    with pytest.raises(ConfigError, match="runs 2 times in one forward pass"):
        add_gates(Shared(), ["relu"], x)
    with pytest.raises(ConfigError, match=r"names \['layer9'\]; allowed: module names"):
        add_gates(SmallResNet(), ["layer9"], x)
    with pytest.raises(ConfigError, match="Cannot gate module 'layer1' of type Sequential"):
        add_gates(SmallResNet(), ["layer1"], x)
    with pytest.raises(ConfigError, match="'input' gate needs an nn.Sequential"):
        add_gates(SmallResNet(), ["input", "act"], x)
    with pytest.raises(ConfigError, match="gate its own children"):
        add_gates(nn.Sequential(SmallResNet()), ["0.act"], x)
    with pytest.raises(ConfigError, match="gate the same units"):
        _, gated, x = _trained_gated(["left.0", "left.1"])
        export_pruned(gated, x[:16])


def test_export_without_torch_pruning_names_the_extra(monkeypatch: pytest.MonkeyPatch):
    _, gated, x = _trained_gated(["act"])
    monkeypatch.setitem(sys.modules, "torch_pruning", None)
    with pytest.raises(IbkitError, match=r"ibkit\[compress\]"):
        export_pruned(gated, x[:4])


def test_an_exported_resnet_is_saved_and_loaded_through_torch_export(tmp_path):
    _, gated, x = _trained_gated(INSIDE)
    prune_gates(gated)
    exported = export_pruned(gated, x[:16])
    with pytest.raises(ConfigError, match="^" + re.escape(
            f"save_exported: a {type(exported).__name__} is saved through torch.export, which "
            "needs the 'example' parameter (a batch of inputs).") + "$"):
        save_exported(exported, tmp_path)
    target = tmp_path / "new" / "folder"  # made with its parents, and again over itself
    assert save_exported(exported, target, example=x[:4]) == target / "exported.pt2"
    path = save_exported(exported, target, example=x[:4])
    assert path == target / "exported.pt2" and path.is_file()
    loaded = load_exported(target)
    for batch in (7, 1):  # other batch sizes than the example's, down to one
        fresh = torch.randn(batch, 1, 8, 8)
        with torch.no_grad():
            assert torch.allclose(loaded(fresh), exported.eval()(fresh), atol=1e-6)
