"""The teacher-student bound's parts: the inference network's layout and limits, event
handling, defaults, dtypes and the score-function switch (mutants of teacher_student.py)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.distributions import Independent, Normal

from ibkit.estimators import InferenceNetwork, LinearGaussianTeacherStudent
from ibkit.estimators.teacher_student import log_pz_lower_nats

CASE = LinearGaussianTeacherStudent.random(k=2, d=4, m=3, seed=0)


def test_the_network_has_the_stated_layers_and_output_size():
    net = InferenceNetwork(3, 2, hidden=(8, 4))
    kinds = [type(m) for m in net.net]
    assert kinds == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert [m.out_features for m in net.net if isinstance(m, nn.Linear)] == [8, 4, 4]
    assert net.full_covariance is False
    assert InferenceNetwork(3, 2, hidden=()).net[0].out_features == 4  # linear: mean and scale
    assert InferenceNetwork(3, 3, full_covariance=True).net[-1].out_features == 3 + 6


def test_scales_are_clamped_to_exp_minus_10_and_exp_5():
    for full in (False, True):
        net = InferenceNetwork(2, 2, hidden=(), full_covariance=full)
        with torch.no_grad():
            net.net[0].weight.zero_()
            for value, want in ((100.0, math.exp(5)), (-100.0, math.exp(-10))):
                net.net[0].bias.fill_(value)
                q = net(torch.zeros(1, 2))
                scale = (q.scale_tril.diagonal(dim1=-2, dim2=-1) if full
                         else q.base_dist.scale)
                assert torch.allclose(scale, torch.full_like(scale, want), rtol=1e-6)


class _ScalarEvents:
    """The linear-Gaussian teacher and student, but returning distributions without an
    event dimension (as a user's plain Normal would)."""

    def decode(self, z_v):
        return CASE.teacher().decode(z_v).base_dist

    def student(self, x):
        return CASE.student()(x).base_dist


def test_distributions_without_event_dimensions_count_each_row_as_one_event():
    z = CASE.student()(CASE.sample_x(50, seed=1)).sample()
    net = InferenceNetwork(3, 2).double()
    plain = _ScalarEvents()
    torch.manual_seed(0)
    a = log_pz_lower_nats(z, CASE.teacher(), CASE.student(), net)
    torch.manual_seed(0)
    b = log_pz_lower_nats(z, plain, plain.student, net)
    torch.manual_seed(0)
    c = log_pz_lower_nats(z, CASE.teacher(), CASE.student(), net, m=1)  # the default m
    assert a.shape == (50,) and a.dtype == torch.float64
    assert torch.allclose(a, b) and torch.equal(a, c)


def test_a_reparameterised_teacher_gets_no_score_function_term():
    z = CASE.student()(CASE.sample_x(40, seed=2)).sample()
    grads = []
    for score_function in (True, False):
        torch.manual_seed(0)
        net = InferenceNetwork(3, 2, hidden=(8,)).double()
        log_pz_lower_nats(z, CASE.teacher(), CASE.student(), net, m=2,
                          score_function=score_function).mean().backward()
        grads.append(torch.cat([p.grad.flatten() for p in net.parameters()]))
    assert torch.allclose(grads[0], grads[1], atol=1e-12)


def test_the_prior_follows_the_posteriors_dtype_and_family():
    from ibkit.estimators.teacher_student import _prior_like

    q = Independent(Normal(torch.zeros(3, 2, dtype=torch.float64),
                           torch.ones(3, 2, dtype=torch.float64)), 1)
    prior = _prior_like(q, 2)
    assert prior.mean.dtype == torch.float64 and prior.event_shape == (2,)
    full = InferenceNetwork(2, 2, full_covariance=True).double()(torch.zeros(3, 2,
                                                                             dtype=torch.float64))
    prior = _prior_like(full, 2)
    assert prior.scale_tril.dtype == torch.float64
    assert torch.equal(prior.scale_tril, torch.eye(2, dtype=torch.float64))


def test_restore_rebuilds_the_trained_network_and_optimizer_without_global_draws():
    from ibkit.estimators import TeacherStudentBound

    x = CASE.sample_x(600, seed=3)

    def make():
        return TeacherStudentBound(CASE.teacher(), CASE.student(), steps=15, batch_size=128,
                                   hidden=(6,), warm_start=True, seed=2)

    trained = make().fit(x)
    assert trained.works_in_plane() is False
    state = {k: v.clone() for k, v in trained.network_.state_dict().items()}
    opt_state = trained.optimizer_.state_dict()
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    restored = make().restore(state, opt_state)
    assert torch.equal(torch.rand(1), before)  # restoring drew nothing from the global RNG
    for k, v in restored.network_.state_dict().items():
        assert torch.equal(v, state[k])
    assert restored.optimizer_.state_dict()["state"].keys() == opt_state["state"].keys()
    assert restored.estimate(x, x).value_bits == trained.estimate(x, x).value_bits
    # a warm-started fit continues both the same way
    assert torch.equal(restored.fit(x).network_.net[0].weight, trained.fit(x).network_.net[0].weight)


def test_the_concatenating_critic_scores_every_pair_with_one_mlp():
    from ibkit.estimators.neural import ConcatCritic

    torch.manual_seed(0)
    critic = ConcatCritic(2, 3, hidden=5)
    x, y = torch.randn(4, 2), torch.randn(4, 3)
    scores = critic(x, y)
    assert scores.shape == (4, 4)
    for i in range(4):
        for j in range(4):
            assert torch.allclose(scores[i, j], critic.f(torch.cat([x[i], y[j]])).squeeze())
    layers = [m for m in critic.f if isinstance(m, nn.Linear)]
    assert layers[0].in_features == 5 and layers[0].out_features == 5
    assert layers[-1].out_features == 1
