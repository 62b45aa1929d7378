"""The teacher-student bound pinned exactly: its defaults and messages, the estimate
recomputed by hand (seed, batches, standard error, details), the fit's history in bits, M and
warm starts, and the score-function surrogate's value and gradient (mutants of
teacher_student.py)."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch.distributions import Bernoulli, Independent, kl_divergence

from ibkit._errors import ConfigError
from ibkit._units import LN2
from ibkit.estimators import InferenceNetwork, LinearGaussianTeacherStudent
from ibkit.estimators.linear_gaussian import LinearGaussianStudent
from ibkit.estimators.teacher_student import (
    TeacherStudentBound,
    _prior_like,
    log_pz_lower_nats,
)

CASE = LinearGaussianTeacherStudent.random(k=2, d=4, m=3, seed=0)


def _bound(**params) -> TeacherStudentBound:
    return TeacherStudentBound(CASE.teacher(), CASE.student(), **params)


def test_defaults_exactly():
    params = _bound().get_params()
    del params["teacher"], params["student"]
    assert params == {"inference": None, "m": 1, "steps": 1000, "lr": 1e-2, "batch_size": 256,
                      "hidden": (128,), "full_covariance": False, "warm_start": False,
                      "seed": 0}
    assert _bound(warm_start=True).warm_start is True


@pytest.mark.parametrize(("params", "message"), [
    ({"m": 0}, "The 'm' parameter of TeacherStudentBound must be an int >= 1. Got 0 instead."),
    ({"batch_size": 0},
     "The 'batch_size' parameter of TeacherStudentBound must be an int >= 1. Got 0 instead."),
    ({"lr": 0.0}, "The 'lr' parameter of TeacherStudentBound must be a number > 0. "
                  "Got 0.0 instead."),
])
def test_parameter_messages_exactly(params, message):
    with pytest.raises(ConfigError, match="^" + re.escape(message) + "$"):
        _bound(**params).fit(CASE.sample_x(10))


def test_input_checks_exactly_and_their_edges():
    message = ("The 'x' parameter of TeacherStudentBound must be finite inputs of shape "
               "(n_samples >= 2, ...). Got {} instead.")
    for bad, shape in ((torch.zeros(5), "(5,)"), (CASE.sample_x(1), "(1, 4)")):
        with pytest.raises(ConfigError, match="^" + re.escape(message.format(shape)) + "$"):
            _bound(inference=CASE.posterior).fit(bad)
    with pytest.raises(ConfigError, match="^" + re.escape(
            "The 'x' parameter of TeacherStudentBound must be a numpy array or torch tensor. "
            "Got 'list' instead.") + "$"):
        _bound(inference=CASE.posterior).fit([[1.0, 2.0], [3.0, 4.0]])
    with_nan = CASE.sample_x(10)
    with_nan[3, 1] = math.nan
    with pytest.raises(ConfigError, match=re.escape(message.format("(10, 4)"))):
        _bound(inference=CASE.posterior).fit(with_nan)
    two = CASE.sample_x(2, seed=4)  # two samples and a batch of one are allowed
    e = _bound(inference=CASE.posterior, batch_size=1).estimate(two, two)
    assert math.isfinite(e.value_bits)


def _by_hand(x: torch.Tensor, inference, m: int, batch: int, seed: int):
    """The estimate as documented: seed + 1, batches of ``batch``, mean and s.e. in bits."""
    teacher, student = CASE.teacher(), CASE.student()
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed + 1)
        rows = []
        for i in range(0, len(x), batch):
            p_z = student(x[i : i + batch])
            z = p_z.sample()
            h = p_z.entropy()
            direct = 0.5 * (p_z.variance + p_z.mean**2 - 1 - p_z.variance.log()).sum(1)
            lower = log_pz_lower_nats(z, teacher, student, inference, m)
            rows.append(torch.stack([-lower - h, direct], 1))
    per_x = torch.cat(rows) / LN2
    return per_x.mean(0), per_x.std(0) / math.sqrt(len(per_x))


def test_the_estimate_is_the_documented_average_exactly():
    x = CASE.sample_x(250, seed=5)  # batches of 100, 100 and 50
    e = _bound(inference=CASE.posterior, m=2, batch_size=100, seed=3).estimate(x, x)
    mean, se = _by_hand(x, CASE.posterior, 2, 100, 3)
    assert e.value_bits == float(mean[0]) and e.stderr_bits == float(se[0])
    assert e.details == {"m": 2, "direct_bits": float(mean[1]),
                         "direct_stderr_bits": float(se[1]),
                         "minimum_bits": float(mean.min()), "steps": 0}
    assert e.kind == "upper_bound" and e.method == "teacher-student"


def test_a_fitted_network_is_used_as_it_is_and_the_steps_are_recorded():
    xa, xb = CASE.sample_x(300, seed=6), CASE.sample_x(200, seed=7)
    est = _bound(steps=4, batch_size=64, hidden=(5,), seed=1).fit(xa)
    net, weight = est.network_, est.network_.net[0].weight.detach().clone()
    e = est.estimate(xb, xb)  # fitted on xa: estimate must not train again on xb
    assert est.network_ is net and torch.equal(est.network_.net[0].weight, weight)
    assert e.details["steps"] == 4
    mean, _ = _by_hand(xb, net, 1, 64, 1)
    assert e.value_bits == float(mean[0])
    fixed = _bound(inference=CASE.posterior).fit(xa)
    assert fixed.history_bits_ == [] and fixed.inference_ == CASE.posterior


def test_the_history_is_the_loss_in_bits():
    """With a learning rate too small to move the network, the history's mean is the bound on
    -E ln p(z) of the same network: the estimate plus the mean entropy, in bits."""
    x = CASE.sample_x(2000, seed=8)
    est = _bound(steps=30, lr=1e-12, batch_size=2000, hidden=(4,), seed=2).fit(x)
    e = est.estimate(x, x)
    with torch.no_grad():
        entropy_bits = float(CASE.student()(x).entropy().mean()) / LN2
    history = sum(est.history_bits_) / len(est.history_bits_)
    assert len(est.history_bits_) == 30
    assert history == pytest.approx(e.value_bits + entropy_bits, rel=0.05)


def test_fit_uses_m_and_a_warm_start_keeps_the_network():
    x = CASE.sample_x(300, seed=9)
    h1 = _bound(steps=3, m=1, hidden=(4,)).fit(x).history_bits_
    h3 = _bound(steps=3, m=3, hidden=(4,)).fit(x).history_bits_
    assert h1 != h3
    warm = _bound(steps=2, hidden=(4,), warm_start=True).fit(x)
    net = warm.network_
    assert warm.fit(x).network_ is net
    cold = _bound(steps=2, hidden=(4,)).fit(x)
    net = cold.network_
    assert cold.fit(x).network_ is not net


class _BernoulliTeacher:
    latent_dim = 2

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.a = 2 * torch.randn(6, 2, generator=g, dtype=torch.float64)

    def decode(self, z_v):
        return Independent(Bernoulli(logits=z_v @ self.a.T), 1)  # no rsample


def _student() -> LinearGaussianStudent:
    w = torch.linspace(-1, 1, 18, dtype=torch.float64).reshape(3, 6)
    return LinearGaussianStudent(w, torch.zeros(3, dtype=torch.float64),
                                 torch.full((3,), 0.5, dtype=torch.float64))


def test_the_score_function_term_keeps_the_value_and_gives_the_baselined_gradient():
    teacher, student = _BernoulliTeacher(), _student()
    x = teacher.decode(torch.randn(64, 2, generator=torch.Generator().manual_seed(1),
                                   dtype=torch.float64)).sample()
    z = student(x).sample()
    torch.manual_seed(0)
    net = InferenceNetwork(3, 2, hidden=(5,)).double()
    torch.manual_seed(1)
    out = log_pz_lower_nats(z, teacher, student, net, m=2)
    out.mean().backward()
    got = [p.grad.clone() for p in net.parameters()]
    with torch.no_grad():
        torch.manual_seed(1)
        plain = log_pz_lower_nats(z, teacher, student, net, m=2)
    assert torch.allclose(out.detach(), plain, atol=1e-12)  # the value is unchanged
    net.zero_grad()
    torch.manual_seed(1)  # the same draws, by hand: the surrogate with the batch-mean baseline
    q = net(z)
    z_v = q.rsample()
    kl = kl_divergence(q, _prior_like(q, 2))
    p_x = teacher.decode(z_v)
    xs = p_x.sample((2,))
    log_p = student(xs.reshape(128, 6)).log_prob(z.repeat(2, 1)).reshape(2, 64)
    inner = torch.logsumexp(log_p, 0) - math.log(2)
    score = p_x.log_prob(xs).sum(0)
    surrogate = inner + (inner.detach() - inner.detach().mean()) * score
    (surrogate - kl).mean().backward()
    for g, p in zip(got, net.parameters(), strict=True):
        assert torch.allclose(g, p.grad, atol=1e-10)
