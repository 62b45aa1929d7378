"""The VIB loss in bits, its bounds, beta validation and schedules."""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F

from ibkit._errors import ConfigError
from ibkit.objectives import BetaSchedule, VIBObjective, label_entropy_bits, vib_loss


def test_loss_parts_are_in_bits_and_add_up():
    logits = torch.randn(3, 8, 4)
    y = torch.randint(0, 4, (8,))
    kl = torch.rand(8) * 5
    parts = vib_loss(logits, y, kl, beta=0.1, label_entropy=2.0)
    ce_nats = torch.stack([F.cross_entropy(logits[s], y) for s in range(3)]).mean()
    torch.testing.assert_close(parts.class_loss_bits, ce_nats / math.log(2))
    torch.testing.assert_close(parts.kl_bits, kl.mean() / math.log(2))
    torch.testing.assert_close(parts.loss_bits, parts.class_loss_bits + 0.1 * parts.kl_bits)
    torch.testing.assert_close(parts.izy_lower_bits, 2.0 - parts.class_loss_bits)


def test_label_entropy():
    assert label_entropy_bits(torch.tensor([0, 1, 2, 3])) == pytest.approx(2.0)
    assert label_entropy_bits(torch.tensor([1, 1, 1])) == pytest.approx(0.0)


@pytest.mark.parametrize("beta", [-1e-3, float("nan"), float("inf")])
def test_beta_must_be_finite_and_non_negative(beta):
    with pytest.raises(ConfigError, match=r"'beta' parameter .* must be a finite float >= 0"):
        VIBObjective(beta, 1.0)


def test_linear_warmup():
    s = BetaSchedule(1e-2, warmup_epochs=4)
    assert [s(e) for e in range(6)] == pytest.approx([2.5e-3, 5e-3, 7.5e-3, 1e-2, 1e-2, 1e-2])
    assert BetaSchedule(3e-3)(100) == 3e-3
    obj = VIBObjective(s, 1.0)
    obj.on_epoch_start(1)
    assert obj.beta == pytest.approx(5e-3)


def test_plain_functions_become_objectives_and_error_pct_is_per_cent():
    from ibkit.objectives import (
        FunctionObjective,
        Objective,
        StepOutput,
        as_objective,
        cross_entropy,
        error_pct,
    )

    calls = []

    def fn(model, x, y):
        calls.append((model, x, y))
        return StepOutput(torch.tensor(2.5))

    wrapped = as_objective(fn)
    assert isinstance(wrapped, FunctionObjective) and as_objective(cross_entropy) is cross_entropy
    out = wrapped("m", "x", "y")
    assert float(out.loss) == 2.5 and out.logits is None and calls == [("m", "x", "y")]
    assert wrapped.param_groups(torch.nn.Linear(1, 1)) is None
    assert Objective().on_epoch_start(3) is None
    with pytest.raises(ValueError, match=r"'objective' parameter of Trainer must be an Objective"):
        as_objective(3)
    assert error_pct(0.75) == 25.0 and error_pct(1.0) == 0.0 and error_pct(0.0) == 100.0


def test_objectives_report_their_metrics_in_bits_under_their_names():
    """The names and values the engine averages and metrics.csv records (mutation testing
    found them unchecked here)."""
    from ibkit._units import LN2
    from ibkit.models import VIBClassifier
    from ibkit.objectives import ReconstructionBits, cross_entropy

    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    model = torch.nn.Linear(5, 3)
    out = cross_entropy(model, x, y)
    torch.testing.assert_close(out.logits, model(x))
    assert list(out.metrics) == ["ce_bits"]
    assert float(out.metrics["ce_bits"]) == pytest.approx(float(out.loss.detach()) / LN2, rel=1e-6)
    vib = VIBClassifier(5, (8,), 2, 3).eval()
    obj = VIBObjective(BetaSchedule(0.5, warmup_epochs=4), label_entropy=1.5)
    assert obj.beta == 0.5 / 4  # epoch 0 of the warm-up from the start
    torch.manual_seed(1)
    got = obj(vib, x, y)
    torch.manual_seed(1)
    ref = vib(x)
    parts = vib_loss(ref.logits, y, ref.bottleneck.kl_nats, 0.5 / 4, 1.5)
    torch.testing.assert_close(got.logits, ref.log_probs)
    assert list(got.metrics) == ["class_loss_bits", "kl_bits", "izy_lower_bits", "beta"]
    for name in ("class_loss_bits", "kl_bits", "izy_lower_bits"):
        torch.testing.assert_close(got.metrics[name], getattr(parts, name))
    assert float(got.metrics["beta"]) == 0.125
    with pytest.raises(ValueError, match=r"'x' parameter of ReconstructionBits must be inputs in "
                                         r"\[0, 1\] \(data.scale=unit\)\. Got 'values in \[0, 1.5\]'"):
        ReconstructionBits()(torch.nn.Identity(), torch.tensor([[0.0, 1.5]]), None)


def test_beta_and_objective_messages_name_the_owner_and_the_value():
    from ibkit.objectives import as_objective, check_beta

    with pytest.raises(ConfigError, match=r"^The 'beta' parameter of the VIB objective must be a "
                                          r"finite float >= 0\. Got -1\.0 instead\.$"):
        check_beta(-1.0)
    with pytest.raises(ConfigError, match=r"'warmup_epochs' parameter of BetaSchedule must be an "
                                          r"int >= 0\. Got -2 instead"):
        BetaSchedule(1.0, warmup_epochs=-2)
    with pytest.raises(ConfigError, match=r"'objective' parameter of Trainer must be an Objective "
                                          r"or a function \(model, x, y\) -> StepOutput\. Got 3"):
        as_objective(3)


def test_ceb_is_class_loss_plus_beta_times_the_backward_kl_in_bits():
    from ibkit.models import CEBClassifier
    from ibkit.objectives import CEBObjective

    torch.manual_seed(0)
    ceb = CEBClassifier(5, (8,), 2, 3).eval()
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    obj = CEBObjective(0.3, label_entropy=1.5)
    torch.manual_seed(4)
    got = obj(ceb, x, y)
    torch.manual_seed(4)
    ref = ceb(x)
    kl = ceb.backward_kl_nats(ref.bottleneck.mean, ref.bottleneck.std, y)
    class_bits = -ref.log_probs.gather(-1, y[:, None]).mean() / math.log(2)
    residual_bits = kl.mean() / math.log(2)
    torch.testing.assert_close(got.logits, ref.log_probs)
    assert list(got.metrics) == ["class_loss_bits", "residual_bits", "izy_lower_bits", "beta"]
    torch.testing.assert_close(got.metrics["class_loss_bits"], class_bits.detach())
    torch.testing.assert_close(got.metrics["residual_bits"], residual_bits.detach())
    torch.testing.assert_close(got.metrics["izy_lower_bits"], (1.5 - class_bits).detach())
    torch.testing.assert_close(got.loss, class_bits + 0.3 * residual_bits)
    assert float(got.metrics["beta"]) == pytest.approx(0.3)
    assert float(residual_bits.detach()) > 0.01  # the backward encoder's KL is not trivially 0


def test_reconstruction_bits_are_the_bernoulli_nll_per_dimension_written_out():
    from ibkit.objectives import ReconstructionBits

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 6))
    x = torch.rand(4, 2, 3)
    x[0, 0, 0], x[1, 1, 2] = 0.0, 1.0  # both ends of [0, 1] are allowed
    out = ReconstructionBits()(model, x, None)
    p = torch.sigmoid(model(x))
    t = x.flatten(1)
    expected = (-(t * torch.log2(p) + (1 - t) * torch.log2(1 - p))).mean()
    torch.testing.assert_close(out.loss, expected)
    assert out.logits is None and list(out.metrics) == ["recon_bits_per_dim"]
    torch.testing.assert_close(out.metrics["recon_bits_per_dim"], expected.detach())
    assert not out.metrics["recon_bits_per_dim"].requires_grad
    for bad, shown in [(-0.5, "values in [-0.5, 1]"), (2.0, "values in [0, 2]")]:
        y = x.clone()
        y[0, 0, 0], y[0, 0, 1] = bad, 1.0 if bad < 0 else 0.0
        with pytest.raises(ValueError, match=re.escape(
                "The 'x' parameter of ReconstructionBits must be inputs in [0, 1] "
                f"(data.scale=unit). Got '{shown}' instead.")):
            ReconstructionBits()(model, y, None)


def test_the_small_parts_defaults_and_owners():
    from ibkit.objectives import ELBOBits, HybridELBOBits, accuracy, check_beta, check_vib_output

    scores = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.2, 0.1], [0.0, 0.1, 0.7], [0.3, 0.2, 0.1]])
    assert float(accuracy(scores, torch.tensor([1, 1, 2, 0]))) == 0.75
    assert check_beta(0.0) == 0.0 and check_beta(2) == 2.0
    assert BetaSchedule(0.5)(0) == 0.5  # no warm-up by default
    hybrid = HybridELBOBits()
    assert (hybrid.beta, hybrid.aux_weight) == (0.0, 0.0)
    for make, owner in [(lambda: ELBOBits(beta=-1.0), "ELBOBits"),
                        (lambda: HybridELBOBits(beta=-1.0), "HybridELBOBits"),
                        (lambda: HybridELBOBits(aux_weight=-1.0), "HybridELBOBits (aux_weight)")]:
        with pytest.raises(ConfigError, match="^" + re.escape(
                f"The 'beta' parameter of {owner} must be a finite float >= 0. Got -1.0 "
                "instead.") + "$"):
            make()
    with pytest.raises(ConfigError, match=r"^VIBObjective: the model's output \(object\) has no "
                                          r"'\.logits'\."):
        check_vib_output(object())


def test_the_hybrid_elbo_in_bits_per_dimension_and_per_pixel_from_a_stub_output():
    from types import SimpleNamespace

    from ibkit.objectives import HybridELBOBits

    out = SimpleNamespace(rec_nats=torch.tensor([3.0, 5.0]), kl_nats=torch.tensor([1.0, 1.0]),
                          bottleneck_kl_nats=torch.tensor([2.0, 4.0]), dims=12,
                          v=torch.zeros(2, 1, 3, 4), aux_rec_nats=torch.tensor([6.0, 8.0]))
    step = HybridELBOBits(beta=0.5, aux_weight=0.25)(lambda x: out, None, None)
    per_dim = 12 * math.log(2)
    expected = {"nelbo_bits_per_dim": 5.0 / per_dim, "rec_bits_per_dim": 4.0 / per_dim,
                "vae_kl_bits_per_dim": 1.0 / per_dim,
                "bottleneck_kl_bits_per_pixel": 3.0 / (12 * math.log(2)),
                "aux_nll_bits_per_dim": 7.0 / per_dim}
    assert {k: float(v) for k, v in step.metrics.items()} == pytest.approx(expected)
    assert float(step.loss) == pytest.approx((4.0 + 1.0 + 0.5 * 3.0 + 0.25 * 7.0) / per_dim)
    assert step.logits is None
    out.aux_rec_nats, out.v = None, torch.zeros(2, 1, 2, 5)  # 10 pixels
    step = HybridELBOBits(beta=0.5)(lambda x: out, None, None)
    assert "aux_nll_bits_per_dim" not in step.metrics
    assert float(step.metrics["bottleneck_kl_bits_per_pixel"]) == pytest.approx(
        3.0 / (10 * math.log(2)))
