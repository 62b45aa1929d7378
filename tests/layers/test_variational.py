"""VariationalBottleneck and VIBClassifier: KL, gradients, units, sampling at evaluation."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

from ibkit.layers import VariationalBottleneck
from ibkit.models import VIBClassifier


@pytest.mark.parametrize("prior", ["standard", "gaussian"])
def test_closed_form_kl_matches_torch_distributions(prior):
    layer = VariationalBottleneck(6, 4, prior=prior)
    if prior == "gaussian":
        with torch.no_grad():
            layer.prior_mean.normal_()
            layer.prior_log_std.uniform_(-1, 1)
    h = torch.randn(32, 6) * 3
    out = layer(h)
    q = Independent(Normal(out.mean, out.std), 1)
    expected = kl_divergence(q, layer.prior_distribution())
    torch.testing.assert_close(out.kl_nats, expected, rtol=1e-5, atol=1e-5)


def test_mixture_kl_is_a_monte_carlo_estimate_of_the_true_kl():
    layer = VariationalBottleneck(3, 2, prior="mixture", n_components=3, std_offset=0.0)
    h = torch.randn(4, 3)
    out = layer(h, n_samples=200_000)
    q = Independent(Normal(out.mean, out.std), 1)
    z = q.sample((400_000,))
    reference = (q.log_prob(z) - layer.prior_distribution().log_prob(z)).mean(0)
    torch.testing.assert_close(out.kl_nats, reference, atol=0.02, rtol=0.0)


def test_kl_bits_is_kl_nats_over_ln2():
    out = VariationalBottleneck(5, 3)(torch.randn(7, 5))
    torch.testing.assert_close(out.kl_bits, out.kl_nats / math.log(2))


def test_std_is_softplus_of_rho_minus_offset():
    layer = VariationalBottleneck(4, 2, std_offset=5.0)
    h = torch.randn(3, 4)
    rho = layer.head(h)[:, 2:]
    torch.testing.assert_close(layer(h).std, torch.nn.functional.softplus(rho - 5.0))


def test_samples_are_reparameterised_around_the_mean():
    layer = VariationalBottleneck(4, 3, std_offset=0.0)
    out = layer(torch.randn(2, 4), n_samples=100_000)
    assert out.z.shape == (100_000, 2, 3)
    torch.testing.assert_close(out.z.mean(0), out.mean, atol=0.02, rtol=0)
    torch.testing.assert_close(out.z.std(0), out.std, atol=0.02, rtol=0)


@pytest.mark.parametrize("beta", [0.0, 1e-3])
def test_gradients_reach_the_mean_and_std_heads(beta):
    """Regression for re-implementations with non-reparameterised sampling or a detached KL."""
    from ibkit.objectives import VIBObjective

    model = VIBClassifier(6, (8,), 3, 4, std_offset=0.0)
    model.train()
    VIBObjective(beta, 2.0)(model, torch.randn(16, 6), torch.randint(0, 4, (16,))).loss.backward()
    grad = model.bottleneck.head.weight.grad  # rows 0..2 mean, 3..5 rho
    assert grad[:3].abs().sum() > 0, "no gradient to the mean head"
    assert grad[3:].abs().sum() > 0, "no gradient to the std head"
    assert model.encoder[1].weight.grad.abs().sum() > 0


def test_kl_gradient_is_the_closed_form_and_points_towards_the_prior():
    """d KL / d mu = mu and d KL / d sigma = sigma - 1 / sigma for the standard prior (per
    example, divided by the batch size for the mean), so a step against it moves to N(0, I)."""
    layer = VariationalBottleneck(6, 3, std_offset=0.0)
    out = layer(torch.randn(16, 6) * 2)
    out.mean.retain_grad()
    out.std.retain_grad()
    out.kl_nats.mean().backward()
    mu, sigma = out.mean.detach(), out.std.detach()
    torch.testing.assert_close(out.mean.grad, mu / 16)
    torch.testing.assert_close(out.std.grad, (sigma - 1 / sigma) / 16)


def test_evaluation_averages_class_probabilities_over_samples():
    model = VIBClassifier(6, (8,), 3, 4, std_offset=0.0, eval_samples=12).eval()
    x = torch.randn(5, 6)
    torch.manual_seed(1)
    out = model(x)
    assert out.logits.shape == (12, 5, 4)
    expected = torch.softmax(out.logits, -1).mean(0).log()
    torch.testing.assert_close(out.log_probs, expected)
    # and it is not the single-sample or mean prediction
    assert not torch.allclose(out.log_probs, torch.log_softmax(out.logits[0], -1))


def test_mean_mode_decodes_the_mean():
    model = VIBClassifier(6, (8,), 3, 4, eval_mode="mean").eval()
    out = model(torch.randn(5, 6))
    torch.testing.assert_close(out.log_probs,
                               torch.log_softmax(model.decoder(out.bottleneck.mean), -1))


def test_training_draws_train_samples():
    model = VIBClassifier(6, (8,), 3, 4, train_samples=7).train()
    assert model(torch.randn(5, 6)).logits.shape == (7, 5, 4)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"prior": "laplace"}, r"'prior' parameter of VariationalBottleneck must be one of"),
    ({"n_components": 0}, r"'n_components' parameter .* >= 1"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VariationalBottleneck(4, 2, **kwargs)


def test_defaults_edges_and_messages_of_the_bottleneck():
    import re

    layer = VariationalBottleneck(1, 1)  # the smallest sizes are allowed
    assert layer.std_offset == 5.0 and layer.prior == "standard"
    h = torch.zeros(3, 1)
    with torch.no_grad():
        layer.head.weight.zero_()
        layer.head.bias.zero_()
        _, std = layer.encode(h)
    assert torch.allclose(std, torch.nn.functional.softplus(torch.tensor(-5.0)).expand(3, 1))
    mixture = VariationalBottleneck(4, 3, prior="mixture")
    assert mixture.prior_logits.shape == (10,) and mixture.prior_means.shape == (10, 3)
    assert mixture.prior_log_stds.shape == (10, 3)
    one = VariationalBottleneck(4, 3, prior="mixture", n_components=1)
    assert one.prior_means.shape == (1, 3)
    for bad in ((0, 2), (2, 0)):
        with pytest.raises(ValueError, match="^" + re.escape(
                f"VariationalBottleneck needs in_features >= 1 and dim >= 1. Got in_features="
                f"{bad[0]}, dim={bad[1]}.") + "$"):
            VariationalBottleneck(*bad)
    with pytest.raises(ValueError, match="'n_components' parameter of VariationalBottleneck "
                                         "must be >= 1"):
        VariationalBottleneck(4, 3, prior="mixture", n_components=0)


def test_samples_keep_the_layers_dtype():
    layer = VariationalBottleneck(4, 2).double()
    out = layer(torch.randn(5, 4, dtype=torch.float64), n_samples=3)
    assert out.z.dtype == torch.float64 and out.z.shape == (3, 5, 2)
