"""The VAE: its ELBO terms in closed form, its likelihoods and encoders, its preset, and its use
as the teacher of the teacher-student bound."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Independent, Normal, kl_divergence

from ibkit._errors import ConfigError
from ibkit.estimators import TeacherStudentBound
from ibkit.experiments import resolve_config, run
from ibkit.models import VAE
from ibkit.objectives import ELBOBits


@torch.no_grad()
def test_the_elbo_terms_are_the_bernoulli_cross_entropy_and_the_closed_form_kl():
    vae = VAE((1, 4, 4), latent_dim=3, hidden=(8,))
    x = torch.rand(5, 1, 4, 4)
    torch.manual_seed(1)
    out = vae(x)
    q = vae.encode(x)
    prior = Independent(Normal(torch.zeros(3), torch.ones(3)), 1)
    torch.testing.assert_close(out.kl_nats, kl_divergence(q, prior))
    torch.manual_seed(1)
    z = q.rsample()
    logits = vae.decoder(z)
    rec = F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="none").sum(1)
    torch.testing.assert_close(out.rec_nats, rec)
    torch.manual_seed(1)
    step = ELBOBits(beta=0.5)(vae, x, None)
    d = 16 * math.log(2)
    assert float(step.loss) == pytest.approx(float((rec.mean() + 0.5 * out.kl_nats.mean()) / d))
    assert float(step.metrics["nelbo_bits_per_dim"]) == pytest.approx(
        float((rec.mean() + out.kl_nats.mean()) / d))
    assert float(step.metrics["kl_bits"]) == pytest.approx(float(out.kl_nats.mean() / math.log(2)))
    assert step.logits is None


@pytest.mark.parametrize("likelihood", ["bernoulli", "continuous_bernoulli", "gaussian"])
@pytest.mark.parametrize("encoder", ["mlp", "cnn"])
def test_every_likelihood_and_encoder_gives_one_value_per_example(likelihood, encoder):
    vae = VAE((1, 28, 28), latent_dim=4, hidden=(32,), encoder=encoder, likelihood=likelihood)
    x = torch.rand(3, 1, 28, 28)
    out = vae(x)
    assert out.rec_nats.shape == out.kl_nats.shape == (3,)
    assert torch.isfinite(out.rec_nats).all()
    assert vae.decode(out.z).sample().shape == (3, 1, 28, 28)
    if likelihood == "continuous_bernoulli":  # a normalised density on [0, 1]^D
        assert (out.rec_nats < 784 * math.log(2) * 1.5).all()


def test_bad_arguments_are_named():
    with pytest.raises(ConfigError, match="'likelihood' parameter of VAE"):
        VAE((1, 8, 8), likelihood="poisson")
    with pytest.raises(ConfigError, match="'encoder' parameter of VAE"):
        VAE((64,), encoder="cnn")
    with pytest.raises(ConfigError, match="'latent_dim, hidden' parameter of VAE"):
        VAE((1, 8, 8), latent_dim=0)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vae") / "run"
    summary = run(resolve_config("vae-digits", ["train.progress=false"]), out)
    return out, summary


def test_vae_digits_trains_to_its_stated_elbo_and_draws_samples(digits_run):
    out, summary = digits_run
    assert summary["expected"][0]["met"] is True
    final = summary["final"]
    assert final["test_nelbo_bits_per_dim"] == pytest.approx(
        final["test_rec_bits_per_dim"] + final["test_kl_bits"] / 64, rel=1e-6)
    assert (out / "figures" / "samples.png").stat().st_size > 5_000


def test_the_negative_elbo_bounds_an_importance_sampled_log_likelihood(digits_run):
    from ibkit.data import load_digits

    out, _ = digits_run
    vae = VAE((1, 8, 8), latent_dim=8, hidden=(128,))
    vae.load_state_dict(torch.load(out / "checkpoints" / "model.pt", weights_only=True))
    x = load_digits().test.x[:200]
    with torch.no_grad():
        nelbo = float((vae(x).rec_nats + vae(x).kl_nats).mean())
        q = vae.encode(x)
        z = q.sample((256,))  # (K, n, k)
        prior = Independent(Normal(torch.zeros(8), torch.ones(8)), 1)
        log_w = vae.decode(z).log_prob(x.expand(256, *x.shape)) + prior.log_prob(z) - q.log_prob(z)
        iwae = float(-(torch.logsumexp(log_w, 0) - math.log(256)).mean())
    assert iwae <= nelbo  # -ln p(x) estimated by 256 importance samples is under the ELBO's bound


def test_a_vae_is_a_teacher_for_the_teacher_student_bound():
    torch.manual_seed(0)
    teacher = VAE((1, 8, 8), latent_dim=2, hidden=(16,))
    student = VAE((1, 8, 8), latent_dim=3, hidden=(16,)).encode
    with torch.no_grad():
        x = teacher.decode(torch.randn(2000, 2)).sample()
    untrained = TeacherStudentBound(teacher, student, steps=0, m=2).estimate(x, x)
    trained = TeacherStudentBound(teacher, student, steps=200, m=2, lr=1e-2).estimate(x, x)
    assert math.isfinite(trained.value_bits) and trained.value_bits < untrained.value_bits


def test_teacher_data_in_both_modes(digits_run):
    from ibkit.data import load_digits, teacher_dataset

    out, _ = digits_run
    vae = VAE((1, 8, 8), latent_dim=8, hidden=(128,))
    vae.load_state_dict(torch.load(out / "checkpoints" / "model.pt", weights_only=True))
    vae.eval()
    source = load_digits()
    rec = teacher_dataset(vae, source, "reconstruct")
    assert torch.equal(rec.test.y, source.test.y) and rec.test.x.shape == source.test.x.shape
    with torch.no_grad():
        expected = vae.decode(vae.encode(source.test.x).mean).mean
    torch.testing.assert_close(rec.test.x, expected)
    exact = teacher_dataset(vae, source, "exact", seed=3)
    assert len(exact.train) == len(source.train) and "true bound" in exact.notes["teacher_mode"]
    assert set(exact.train.x.unique().tolist()) <= {0.0, 1.0}  # Bernoulli samples of the teacher
    counts = torch.bincount(exact.train.y, minlength=10)
    assert (counts > 0).sum() >= 8  # the labeller spreads z_v ~ N(0, I) over the classes
    again = teacher_dataset(vae, source, "exact", seed=3)
    assert torch.equal(again.train.x, exact.train.x) and torch.equal(again.train.y, exact.train.y)
    with pytest.raises(ConfigError, match="'mode' parameter of teacher_dataset"):
        teacher_dataset(vae, source, "copy")
