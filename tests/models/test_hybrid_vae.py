"""The hybrid VAE-PixelCNN (seed 004): causal masks, causality of the whole decoder, the two
bottlenecks (sigma(p), no noise in evaluation, the per-pixel KL), the pixel likelihoods and
pixel-by-pixel sampling."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Bernoulli

from ibkit._errors import ConfigError
from ibkit._units import LN2
from ibkit.models import (
    HybridVAE,
    MaskedConv2d,
    PixelCNN,
    causal_mask,
    discretized_logistic_nll_nats,
    pixel_nll_nats,
)
from ibkit.models.pixel_likelihoods import sample_pixels
from ibkit.objectives import HybridELBOBits

SHAPE = (1, 8, 8)


def small(bottleneck: str = "dropout", **kw) -> HybridVAE:
    torch.manual_seed(0)
    return HybridVAE(SHAPE, latent_dim=4, hidden=(16,), bottleneck=bottleneck, layers=3,
                     channels=8, u_channels=4, mix_hidden=8, **kw)


def binary(n: int = 5, seed: int = 1, shape: tuple[int, ...] = SHAPE) -> torch.Tensor:
    return torch.bernoulli(torch.full((n, *shape), 0.4), generator=torch.Generator()
                           .manual_seed(seed))


def test_causal_masks_see_only_the_past_and_b_also_the_centre():
    a, b = causal_mask(5, "A"), causal_mask(5, "B")
    assert a[:2].eq(1).all() and a[3:].eq(0).all()
    assert a[2].tolist() == [1, 1, 0, 0, 0] and b[2].tolist() == [1, 1, 1, 0, 0]
    assert causal_mask(1, "A").item() == 0 and causal_mask(1, "B").item() == 1
    with pytest.raises(ConfigError, match="mask_type"):
        causal_mask(3, "C")
    with pytest.raises(ConfigError, match="kernel_size"):
        causal_mask(4, "A")


def test_masked_weights_get_no_gradient():
    conv = MaskedConv2d(1, 2, 3, "A")
    conv(torch.randn(1, 1, 5, 5)).sum().backward()
    assert conv.weight.grad is not None
    assert conv.weight.grad[..., 1, 1:].abs().sum() == 0 and conv.weight.grad[..., 2, :].abs().sum() == 0


def test_pixelcnn_output_at_j_ignores_pixel_j_and_later():
    torch.manual_seed(0)
    net = PixelCNN(1, 0, channels=6, layers=3, out_channels=2)
    x = torch.randn(1, 1, 6, 6)
    base = net(x).flatten(2)
    x2 = x.clone()
    x2[0, 0, 2, 3] += 5.0  # raster position 15
    diff = (net(x2).flatten(2) - base).abs().sum(1)[0]
    assert diff[:16].max() == 0  # positions before 15, and 15 itself
    assert diff[16:].max() > 0


@pytest.mark.parametrize("bottleneck", ["none", "dropout", "variational"])
@pytest.mark.parametrize("position", [0, 9, 27, 63])
def test_changing_pixel_j_never_changes_the_distribution_of_pixels_up_to_j(bottleneck, position):
    model = small(bottleneck).eval()
    x = binary(2)
    z = torch.randn(2, 4)
    params, _, _ = model.pixel_params(x, z)
    x2 = x.clone().flatten(1)
    x2[:, position] = 1 - x2[:, position]
    params2, _, _ = model.pixel_params(x2.reshape(x.shape), z)
    diff = (params2 - params).abs().flatten(2).sum(1)  # (batch, pixels)
    assert diff[:, : position + 1].max() == 0
    if position < 63:
        assert diff[:, position + 1:].max() > 0  # the future does see it


def test_causality_holds_in_training_mode_with_the_same_noise():
    model = small("dropout").train()
    x, z = binary(2), torch.randn(2, 4)
    torch.manual_seed(5)
    p1, _, _ = model.pixel_params(x, z)
    x2 = x.clone()
    x2[:, 0, 4, 4] = 1 - x2[:, 0, 4, 4]
    torch.manual_seed(5)
    p2, _, _ = model.pixel_params(x2, z)
    assert (p2 - p1).abs().flatten(2).sum(1)[:, : 4 * 8 + 5].max() == 0


@pytest.mark.parametrize("p", [0.05, 0.5, 0.9])
def test_the_dropout_rate_sets_sigma(p):
    assert small("dropout", dropout_p=p).dropout.sigma == pytest.approx(math.sqrt(p / (1 - p)))


@pytest.mark.parametrize("bottleneck", ["dropout", "variational"])
def test_no_bottleneck_noise_in_evaluation_but_noise_in_training(bottleneck):
    model = small(bottleneck)
    x, z = binary(3), torch.randn(3, 4)
    model.eval()
    assert torch.equal(model.pixel_params(x, z)[0], model.pixel_params(x, z)[0])
    model.train()
    assert not torch.equal(model.pixel_params(x, z)[0], model.pixel_params(x, z)[0])


def test_the_evaluation_path_passes_v_or_its_mean_unchanged():
    model = small("variational").eval()
    x, z = binary(3), torch.randn(3, 4)
    params, v, _ = model.pixel_params(x, z)
    mean, _ = model.variational.encode(v.permute(0, 2, 3, 1).reshape(-1, v.shape[1]))
    u = model.decode_u(z)
    mean = mean.reshape(3, 8, 8, -1).permute(0, 3, 1, 2)
    assert torch.allclose(params, model.mix(torch.cat([u, mean], 1)), atol=1e-6)
    gd = small("dropout").eval()
    params, v, _ = gd.pixel_params(x, z)
    assert torch.allclose(params, gd.mix(torch.cat([gd.decode_u(z), v], 1)), atol=1e-6)


def test_the_variational_kl_is_the_closed_form_summed_over_pixels():
    model = small("variational").eval()
    x, z = binary(2), torch.randn(2, 4)
    _, v, kl = model.pixel_params(x, z)
    mean, std = model.variational.encode(v.permute(0, 2, 3, 1).reshape(-1, v.shape[1]))
    per_unit = 0.5 * (mean**2 + std**2 - 1 - (std**2).log())
    assert torch.allclose(kl, per_unit.sum(-1).reshape(2, 64).sum(1), rtol=1e-5)
    assert (kl > 0).all()
    assert torch.equal(small("dropout").pixel_params(x, z)[2], torch.zeros(2))


def test_the_objective_adds_the_penalty_and_the_auxiliary_term_but_reports_the_elbo():
    model = small("variational", aux_decoder=True).eval()
    x = binary(4)
    torch.manual_seed(3)
    out = model(x)
    objective = HybridELBOBits(beta=0.7, aux_weight=0.5)
    torch.manual_seed(3)
    step = objective(model, x, None)
    d = 64 * LN2
    rec, kl = out.rec_nats.mean(), out.kl_nats.mean()
    expected = (rec + kl + 0.7 * out.bottleneck_kl_nats.mean() + 0.5 * out.aux_rec_nats.mean()) / d
    assert step.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    m = step.metrics
    assert m["nelbo_bits_per_dim"].item() == pytest.approx(((rec + kl) / d).item(), rel=1e-5)
    assert m["vae_kl_bits_per_dim"].item() == pytest.approx((kl / d).item(), rel=1e-5)
    assert m["bottleneck_kl_bits_per_pixel"].item() == pytest.approx(
        (out.bottleneck_kl_nats.mean() / (64 * LN2)).item(), rel=1e-5)
    assert m["aux_nll_bits_per_dim"].item() == pytest.approx((out.aux_rec_nats.mean() / d).item(),
                                                             rel=1e-5)
    assert step.logits is None
    with pytest.raises(ConfigError, match="beta"):
        HybridELBOBits(beta=-1.0)


def test_gradients_reach_the_encoder_the_pixelcnn_and_the_bottleneck():
    model = small("variational")
    HybridELBOBits(0.1)(model, binary(4), None).loss.backward()
    for part in (model.encoder, model.pixelcnn, model.variational, model.latent_decoder, model.mix):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())


def test_bernoulli_pixels_match_torch_distributions():
    logits, x = torch.randn(3, 1, 4, 4), binary(3, shape=(1, 4, 4))
    expected = -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(pixel_nll_nats(logits, x, "bernoulli"), expected, atol=1e-5)


@pytest.mark.parametrize("mean,log_scale", [(0.5, -3.0), (0.0, -1.0), (1.2, -5.0), (0.3, 2.0),
                                            (0.5, -7.5)])
def test_discretized_logistic_levels_sum_to_one_and_match_the_cdf(mean, log_scale):
    levels = torch.arange(256, dtype=torch.float64) / 255
    m, s = torch.full_like(levels, mean), torch.full_like(levels, log_scale)
    p = torch.exp(-discretized_logistic_nll_nats(m, s, levels))
    assert p.sum().item() == pytest.approx(1.0, abs=1e-6)
    scale = math.exp(max(log_scale, -7.0))
    cdf = lambda t: 1 / (1 + math.exp(-(t - mean) / scale))  # noqa: E731
    k = 128
    naive = cdf(levels[k] + 1 / 510) - cdf(levels[k] - 1 / 510)
    if naive > 1e-12:
        assert p[k].item() == pytest.approx(naive, rel=1e-6)
    assert torch.isfinite(discretized_logistic_nll_nats(m, s, levels)).all()


def test_logistic_likelihood_trains_on_grey_images_and_samples_on_the_grid():
    torch.manual_seed(0)
    model = HybridVAE((1, 8, 8), latent_dim=4, hidden=(16,), likelihood="logistic", layers=2,
                      channels=8, u_channels=4, mix_hidden=8)
    x = torch.randint(0, 256, (4, 1, 8, 8)).float() / 255
    out = model(x)
    assert torch.isfinite(out.rec_nats).all() and (out.rec_nats > 0).all()
    images = model.eval().sample(3, torch.Generator().manual_seed(0))
    assert images.shape == (3, 1, 8, 8)
    assert torch.allclose(images * 255, (images * 255).round()) and images.min() >= 0


def test_pixel_by_pixel_sampling_is_seeded_and_binary():
    model = small("dropout").eval()
    a = model.sample(4, torch.Generator().manual_seed(1))
    b = model.sample(4, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(a, model.sample(4, torch.Generator().manual_seed(2)))


def test_sampling_draws_each_pixel_from_the_models_conditional():
    model = small("none").eval()
    logits = torch.full((20000, 1), 1.0)
    draws = sample_pixels(logits, "bernoulli", torch.Generator().manual_seed(0))
    assert draws.mean().item() == pytest.approx(torch.sigmoid(torch.tensor(1.0)).item(), abs=0.01)
    assert model.sample(1).shape == (1, 1, 8, 8)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ConfigError, match="bottleneck"):
        small("gates")
    with pytest.raises(ConfigError, match="input_shape"):
        HybridVAE((64,))
    with pytest.raises(ConfigError, match="likelihood"):
        small("none", likelihood="gaussian")
    with pytest.raises(ValueError, match="'p'"):
        small("dropout", dropout_p=1.0)
    with pytest.raises(ConfigError, match="layers"):
        PixelCNN(1, 0, layers=0)
