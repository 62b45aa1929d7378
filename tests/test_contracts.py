"""The written contracts of issue 25: VIBObjective's model contract, short data reprs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch import nn

from ibkit._units import LN2
from ibkit.data import Dataset, Split
from ibkit.layers import VariationalBottleneck
from ibkit.objectives import CEBObjective, VIBObjective, check_vib_output, vib_loss


class TupleModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x):
        return self.lin(x), torch.zeros(len(x))


@dataclass
class Out:
    logits: torch.Tensor
    log_probs: torch.Tensor
    bottleneck: object


class OwnVIB(nn.Module):
    """An own model keeping the contract with (batch, classes) logits: one sample of z."""

    def __init__(self) -> None:
        super().__init__()
        self.enc, self.bn, self.dec = nn.Linear(4, 6), VariationalBottleneck(6, 2), nn.Linear(2, 3)

    def forward(self, x):
        b = self.bn(self.enc(x), n_samples=1)
        logits = self.dec(b.z[0])
        return Out(logits, logits.log_softmax(-1), b)


def test_tuple_output_names_the_missing_attribute():
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match=r"has no '\.logits'.*model contract of VIBObjective"):
        VIBObjective(1e-3, 1.5)(TupleModel(), x, y)


def test_bottleneck_without_kl_is_named():
    out = Out(torch.zeros(2, 3), torch.zeros(2, 3), bottleneck=object())
    with pytest.raises(ValueError, match=r"has no '\.bottleneck\.kl_nats'"):
        check_vib_output(out)
    with pytest.raises(ValueError, match=r"^CEBObjective: .*'\.log_probs'"):
        check_vib_output(type("O", (), {"logits": 1})(), "CEBObjective")
    with pytest.raises(ValueError, match=r"^CEBObjective: "):
        CEBObjective(1e-3, 1.5)(TupleModel(), torch.randn(2, 4), torch.tensor([0, 1]))


def test_own_model_with_two_dim_logits_trains():
    torch.manual_seed(0)
    model, x, y = OwnVIB(), torch.randn(8, 4), torch.randint(0, 3, (8,))
    torch.manual_seed(1)
    step = VIBObjective(0.01, 1.5)(model, x, y)
    torch.manual_seed(1)
    out = model(x)
    expected = vib_loss(out.logits.unsqueeze(0), y, out.bottleneck.kl_nats, 0.01, 1.5)
    assert torch.equal(step.loss, expected.loss_bits)
    assert torch.equal(step.metrics["kl_bits"], out.bottleneck.kl_nats.mean() / LN2)
    step.loss.backward()
    assert model.enc.weight.grad is not None


def test_data_reprs_are_one_short_line():
    split = Split(torch.zeros(1000, 1, 28, 28), torch.zeros(1000, dtype=torch.long))
    assert repr(split) == "Split(x=(1000, 1, 28, 28) float32, y=(1000,) int64)"
    data = Dataset("toy", split, None, split, 10)
    assert repr(data) == ("Dataset('toy', train=1000, val=None, test=1000, "
                          "input_shape=(1, 28, 28), n_classes=10)")
    assert str(data) == repr(data)
