"""InformationGate on its own: exact messages, the noise scale, alpha and the mask
(mutants of layers/gate.py); GaussianDropoutBottleneck's p at the edges."""

from __future__ import annotations

import math
import re

import pytest
import torch

from ibkit._errors import ConfigError
from ibkit.layers import GaussianDropoutBottleneck, InformationGate


def _exactly(error, text: str):
    return pytest.raises(error, match="^" + re.escape(text) + "$")


@pytest.mark.parametrize("bad", [0, 1.5, -3])
def test_num_units_is_checked_exactly(bad):
    with _exactly(ConfigError, f"The 'num_units' parameter of InformationGate must be an int "
                               f">= 1. Got {bad!r} instead."):
        InformationGate(bad)


def test_threshold_is_checked_exactly_and_one_unit_is_allowed():
    with _exactly(ConfigError, "The 'threshold' parameter of InformationGate must be a finite "
                               "float. Got nan instead."):
        InformationGate(3, threshold=float("nan"))
    assert InformationGate(1).num_units == 1


def test_the_initial_gate_is_one_with_a_small_spread():
    torch.manual_seed(0)
    mu = InformationGate(10_000).mu.detach()
    assert abs(float(mu.mean()) - 1.0) < 1e-3
    assert float(mu.std()) == pytest.approx(0.01, rel=0.05)


def test_training_noise_has_the_gates_standard_deviation():
    torch.manual_seed(0)
    gate = InformationGate(2, init_log_sigma2=math.log(0.04))
    with torch.no_grad():
        gate.mu.fill_(1.0)
    with torch.no_grad():
        z = gate(torch.ones(100_000, 2))
    assert float(z.mean()) == pytest.approx(1.0, abs=2e-3)
    assert float(z.std()) == pytest.approx(0.2, rel=0.01)  # sqrt(sigma^2) = 0.2
    with torch.no_grad():
        assert torch.equal(gate.eval()(torch.ones(3, 2)), gate.multiplier().expand(3, 2))


def test_log_alpha_of_a_zero_gate_is_finite_and_the_mask_follows_the_threshold():
    gate = InformationGate(3, threshold=0.0, init_log_sigma2=0.0)
    with torch.no_grad():
        gate.mu.copy_(torch.tensor([0.0, 0.5, 2.0]))
    alpha = gate.log_alpha().detach()
    torch.testing.assert_close(alpha, torch.log(torch.tensor([1e-16, 0.25, 4.0])))
    assert gate.mask().tolist() == [0.0, 0.0, 1.0] and gate.kept().tolist() == [2]


def test_a_wrong_input_shape_is_named_exactly():
    gate = InformationGate(4)
    with _exactly(ValueError, "InformationGate(4) takes (batch, 4) or (batch, 4, H, W) inputs. "
                              "Got shape (2, 3)."):
        gate(torch.zeros(2, 3))
    with _exactly(ValueError, "InformationGate(4) takes (batch, 4) or (batch, 4, H, W) inputs. "
                              "Got shape (2, 4, 5)."):
        gate(torch.zeros(2, 4, 5))


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5])
def test_dropout_p_must_lie_strictly_between_0_and_1(p):
    with _exactly(ValueError, f"The 'p' parameter of GaussianDropoutBottleneck must be in "
                              f"(0, 1). Got {p!r} instead."):
        GaussianDropoutBottleneck(p)


def test_alpha_penalty_and_kl_in_closed_form():
    gate = InformationGate(2, threshold=1.0, init_log_sigma2=-2.0)
    with torch.no_grad():
        gate.mu.copy_(torch.tensor([1.0, math.exp(0.5 * -1.0)]))  # mu^2 = 1 and e^-1
    log_alpha = gate.log_alpha().detach()
    torch.testing.assert_close(log_alpha, torch.tensor([2.0, 1.0]), atol=1e-6, rtol=0)
    # the mask keeps log alpha >= threshold: 1.0 sits exactly on it and is kept
    assert gate.mask().tolist() == [1.0, 1.0]
    penalty = math.log1p(math.exp(2.0)) + math.log1p(math.exp(1.0))
    assert float(gate.penalty_nats().detach()) == pytest.approx(penalty, rel=1e-6)
    assert float(gate.kl_bits().detach()) == pytest.approx(0.5 * penalty / math.log(2), rel=1e-6)


def test_evaluation_multiplies_by_the_gate_on_dense_and_convolutional_inputs():
    gate = InformationGate(3).eval()
    with torch.no_grad():
        gate.mu.copy_(torch.tensor([2.0, -1.0, 0.5]))
        dense = gate(torch.ones(2, 3))
        conv = gate(torch.ones(2, 3, 4, 5))
    torch.testing.assert_close(dense, torch.tensor([[2.0, -1.0, 0.5]] * 2))
    torch.testing.assert_close(conv[:, :, 1, 2], torch.tensor([[2.0, -1.0, 0.5]] * 2))
    assert conv.shape == (2, 3, 4, 5) and torch.equal(conv[0, 1], torch.full((4, 5), -1.0))
