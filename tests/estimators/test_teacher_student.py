"""The teacher-student bound (Herwana & Kadian, eq. 5) proven on a linear-Gaussian case whose
I(X;Z), VIB bound and Jensen gap are closed-form."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Bernoulli, Independent

from ibkit._errors import ConfigError
from ibkit.estimators import GaussianEstimator
from ibkit.estimators.linear_gaussian import LinearGaussianStudent, LinearGaussianTeacherStudent
from ibkit.estimators.teacher_student import TeacherStudentBound

CASE = LinearGaussianTeacherStudent.random(k=2, d=4, m=3, seed=0)


@pytest.fixture(scope="module")
def x():
    return CASE.sample_x(8000, seed=1)


def test_the_closed_forms_agree_with_sampling_and_with_each_other(x):
    truth = CASE.mi_bits()
    z = CASE.student()(x).sample()
    sampled = GaussianEstimator().estimate(x, z).value_bits  # exact for jointly Gaussian data
    assert sampled == pytest.approx(truth, abs=0.05)
    assert CASE.direct_bound_bits() > truth and CASE.jensen_gap_bits() > 0
    standard = LinearGaussianTeacherStudent.with_standard_marginal(k=2, d=4, m=2, seed=3)
    assert standard.direct_bound_bits() == pytest.approx(standard.mi_bits(), abs=1e-10)


def test_with_the_exact_posterior_the_bound_is_the_truth_plus_the_jensen_gap(x):
    est = TeacherStudentBound(CASE.teacher(), CASE.student(), inference=CASE.posterior, m=1,
                              batch_size=4000).estimate(x, x)
    assert est.kind == "upper_bound" and est.method == "teacher-student"
    expected = CASE.mi_bits() + CASE.jensen_gap_bits()  # 1.479 + 0.731 bits
    assert abs(est.value_bits - expected) < 3 * est.stderr_bits + 0.01
    # the direct (VIB) bound, computed from the same student, matches its closed form
    assert est.details["direct_bits"] == pytest.approx(CASE.direct_bound_bits(),
                                                       abs=3 * est.details["direct_stderr_bits"])
    assert est.details["minimum_bits"] == min(est.value_bits, est.details["direct_bits"])


def test_more_samples_of_x_per_z_close_the_gap_towards_the_truth(x):
    values = [TeacherStudentBound(CASE.teacher(), CASE.student(), inference=CASE.posterior, m=m,
                                  batch_size=4000).estimate(x, x) for m in (1, 4, 32)]
    truth = CASE.mi_bits()
    assert values[0].value_bits > values[1].value_bits > values[2].value_bits
    for v in values:
        assert v.value_bits > truth - 3 * v.stderr_bits
    assert values[2].value_bits - truth < 0.1  # 32 samples: within 0.1 bit (gap at M=1: 0.73)


def test_a_trained_inference_network_bounds_the_truth_within_the_gap(x):
    est = TeacherStudentBound(CASE.teacher(), CASE.student(), m=1, steps=600, lr=1e-2,
                              batch_size=512, hidden=(), full_covariance=True, seed=0)
    result = est.estimate(x, x)
    truth, gap = CASE.mi_bits(), CASE.jensen_gap_bits()
    assert truth - 3 * result.stderr_bits <= result.value_bits <= truth + gap + 3 * result.stderr_bits
    assert result.value_bits < result.details["direct_bits"]  # tighter than VIB's here
    # training lowered its loss, the bound on -E ln p(z)
    assert sum(est.history_bits_[-50:]) / 50 < sum(est.history_bits_[:50]) / 50 - 1.0


def test_the_estimate_is_seeded_and_leaves_global_state_alone(x):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    make = lambda: TeacherStudentBound(CASE.teacher(), CASE.student(), steps=20,  # noqa: E731
                                       batch_size=256, seed=4)
    a, b = make().estimate(x[:1000], x[:1000]), make().estimate(x[:1000], x[:1000])
    assert a.value_bits == b.value_bits
    assert torch.equal(torch.get_rng_state(), before)


def test_a_bernoulli_teacher_trains_through_the_score_function():
    g = torch.Generator().manual_seed(0)
    a = 2 * torch.randn(8, 2, generator=g, dtype=torch.float64)
    w = torch.randn(3, 8, generator=g, dtype=torch.float64) / 3

    class Teacher:
        latent_dim = 2

        def decode(self, z_v):
            return Independent(Bernoulli(logits=z_v @ a.T), 1)  # no rsample

    student = LinearGaussianStudent(w, torch.zeros(3, dtype=torch.float64),
                                    torch.full((3,), 0.5, dtype=torch.float64))
    x = Teacher().decode(torch.randn(4000, 2, generator=g, dtype=torch.float64)).sample()
    untrained = TeacherStudentBound(Teacher(), student, steps=0, m=4).estimate(x, x)
    trained = TeacherStudentBound(Teacher(), student, steps=300, m=4, lr=1e-2).estimate(x, x)
    assert trained.value_bits < untrained.value_bits - 0.5


@pytest.mark.parametrize(("params", "message"), [
    ({"m": 0}, "'m' parameter of TeacherStudentBound must be an int >= 1"),
    ({"steps": -1}, "'steps' parameter of TeacherStudentBound must be an int >= 0"),
    ({"lr": 0.0}, "'lr' parameter of TeacherStudentBound must be a number > 0"),
])
def test_bad_parameters_are_named(params, message, x):
    with pytest.raises(ConfigError, match=message):
        TeacherStudentBound(CASE.teacher(), CASE.student(), **params).estimate(x, x)
    with pytest.raises(ConfigError, match="'x' parameter of TeacherStudentBound"):
        TeacherStudentBound(CASE.teacher(), CASE.student()).estimate(torch.zeros(5), x[:5])
