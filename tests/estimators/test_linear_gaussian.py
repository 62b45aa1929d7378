"""The linear-Gaussian teacher-student case: its construction, its samples and its exact
posterior, each against an independent computation (mutants of estimators/linear_gaussian.py)."""

from __future__ import annotations

import math

import pytest
import torch
from tests.conftest import raises_exactly

from ibkit._errors import ConfigError
from ibkit.estimators import LinearGaussianTeacherStudent

F64 = torch.float64



def test_shapes_and_positivity_are_checked_with_exact_messages():
    a, w = torch.ones(4, 2, dtype=F64), torch.ones(3, 4, dtype=F64)
    b, s = torch.zeros(3, dtype=F64), torch.ones(3, dtype=F64)
    LinearGaussianTeacherStudent(a, 0.5, w, b, s)  # valid
    with raises_exactly("The 'w, b, sigma' parameter of LinearGaussianTeacherStudent must be shapes "
                  "(m, 4), (m,), (m,). Got ((3, 5), (3,), (3,)) instead."):
        LinearGaussianTeacherStudent(a, 0.5, torch.ones(3, 5, dtype=F64), b, s)
    for bad_b, bad_s in ((torch.zeros(2, dtype=F64), s), (b, torch.ones(2, dtype=F64))):
        with pytest.raises(ConfigError, match="'w, b, sigma' parameter"):
            LinearGaussianTeacherStudent(a, 0.5, w, bad_b, bad_s)
    with raises_exactly("The 'noise_std, sigma' parameter of LinearGaussianTeacherStudent must be "
                  "positive. Got (0.0, [1.0, 1.0, 1.0]) instead."):
        LinearGaussianTeacherStudent(a, 0.0, w, b, s)
    with pytest.raises(ConfigError, match="'noise_std, sigma' parameter"):
        LinearGaussianTeacherStudent(a, 0.5, w, b, torch.tensor([1.0, 0.0, 1.0], dtype=F64))
    with raises_exactly("The 'm, scale' parameter of LinearGaussianTeacherStudent must be m <= d and "
                  "0 < scale < 1. Got (5, 0.8) instead."):
        LinearGaussianTeacherStudent.with_standard_marginal(d=4, m=5)
    for scale in (0.0, 1.0):
        with pytest.raises(ConfigError, match="'m, scale' parameter"):
            LinearGaussianTeacherStudent.with_standard_marginal(scale=scale)
    LinearGaussianTeacherStudent.with_standard_marginal(d=4, m=4)  # m = d is allowed


def test_random_draws_what_its_docstring_says():
    case = LinearGaussianTeacherStudent.random()
    assert (case.a.shape, case.w.shape, case.b.shape, case.noise_std) == (
        (4, 2), (3, 4), (3,), 0.5)
    assert all(t.dtype == F64 for t in (case.a, case.w, case.b, case.sigma))
    big = LinearGaussianTeacherStudent.random(k=400, d=500, m=600, noise_std=0.1, seed=1)
    assert big.noise_std == 0.1
    assert float(big.a.std()) == pytest.approx(400**-0.5, rel=0.02)  # N(0, 1) / sqrt(k)
    assert float(big.w.std()) == pytest.approx(500**-0.5, rel=0.02)  # N(0, 1) / sqrt(d)
    assert float(big.a.mean()) == pytest.approx(0.0, abs=0.01 * 400**-0.5 * 10)
    assert float(big.b.std()) == pytest.approx(0.5, rel=0.1)
    assert 0.3 <= float(big.sigma.min()) < 0.31 and 0.79 < float(big.sigma.max()) <= 0.8
    again = LinearGaussianTeacherStudent.random(k=400, d=500, m=600, noise_std=0.1, seed=1)
    assert torch.equal(again.w, big.w) and not torch.equal(
        LinearGaussianTeacherStudent.random(seed=2).w, case.w)


def test_the_standard_marginal_is_exactly_standard():
    case = LinearGaussianTeacherStudent.with_standard_marginal()
    assert case.w.shape == (2, 4) and case.a.shape == (4, 2) and case.noise_std == 0.5
    s_z = case.w @ case.covariance_x() @ case.w.T + torch.diag(case.sigma**2)
    assert torch.allclose(s_z, torch.eye(2, dtype=F64), atol=1e-12)
    assert torch.allclose(case.sigma, torch.full((2,), 0.6, dtype=F64))  # sqrt(1 - 0.8^2)
    assert torch.equal(case.b, torch.zeros(2, dtype=F64))
    assert torch.equal(case.a, LinearGaussianTeacherStudent.random(2, 4, 2, 0.5, 0).a)
    # the rows of W S_x^(1/2) / scale are orthonormal
    evals, evecs = torch.linalg.eigh(case.covariance_x())
    q = case.w @ evecs @ torch.diag(evals.sqrt()) @ evecs.T / 0.8
    assert torch.allclose(q @ q.T, torch.eye(2, dtype=F64), atol=1e-12)
    # the VIB bound is then the exact I(X;Z)
    assert case.direct_bound_bits() == pytest.approx(case.mi_bits(), abs=1e-10)
    other = LinearGaussianTeacherStudent.with_standard_marginal(k=3, d=6, m=3, noise_std=0.2,
                                                                scale=0.5, seed=4)
    assert torch.allclose(other.sigma, torch.full((3,), 0.75**0.5, dtype=F64))
    assert other.noise_std == 0.2 and other.a.shape == (6, 3)


def test_samples_of_x_have_the_teachers_covariance_and_are_seeded():
    case = LinearGaussianTeacherStudent.random(k=2, d=3, m=2, noise_std=0.7, seed=5)
    x = case.sample_x(200_000, seed=1)
    assert x.shape == (200_000, 3) and x.dtype == F64
    cov = torch.cov(x.T)
    assert torch.allclose(cov, case.covariance_x(), atol=0.02)
    assert float(x.mean(0).abs().max()) < 0.01
    assert torch.equal(case.sample_x(10, seed=3), case.sample_x(10, seed=3))
    assert not torch.equal(case.sample_x(10, seed=3), case.sample_x(10, seed=4))


def test_the_posterior_is_gaussian_conditioning_of_the_joint():
    case = LinearGaussianTeacherStudent.random(k=2, d=4, m=3, noise_std=0.6, seed=7)
    # joint of (z_v, z): cov(z_v) = I, cov(z_v, z) = B^T, cov(z) = B B^T + C, mean of z = b
    bmat = case.w @ case.a
    c = case.noise_std**2 * case.w @ case.w.T + torch.diag(case.sigma**2)
    s_zz = bmat @ bmat.T + c
    z = torch.randn(5, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
    gain = bmat.T @ torch.linalg.inv(s_zz)
    post = case.posterior(z)
    assert torch.allclose(post.mean, (z - case.b) @ gain.T, atol=1e-12)
    assert torch.allclose(post.covariance_matrix[3], torch.eye(2, dtype=F64) - gain @ bmat,
                          atol=1e-12)
    assert post.batch_shape == (5,) and post.event_shape == (2,)


def test_the_draws_are_the_documented_ones_from_their_own_generators():
    g = torch.Generator().manual_seed(0)
    sigma = 0.3 + 0.5 * torch.rand(3, generator=g, dtype=F64)
    a, w, b = (torch.randn(*s, generator=g, dtype=F64) for s in ((4, 2), (3, 4), (3,)))
    torch.manual_seed(123)  # the global generator plays no part
    case = LinearGaussianTeacherStudent.random()  # seed 0 by default
    assert torch.equal(case.sigma, sigma) and torch.equal(case.a, a / 2**0.5)
    assert torch.equal(case.w, w / 2.0) and torch.equal(case.b, 0.5 * b)
    g = torch.Generator().manual_seed(0)
    z_v = torch.randn(6, 2, generator=g, dtype=F64)
    x = z_v @ case.a.T + 0.5 * torch.randn(6, 4, generator=g, dtype=F64)
    assert torch.equal(case.sample_x(6), x)  # seed 0 by default
    # the standard-marginal student: the base case of the same seed, Q from seed + 1
    torch.manual_seed(7)
    std = LinearGaussianTeacherStudent.with_standard_marginal(seed=3)
    assert torch.equal(std.a, LinearGaussianTeacherStudent.random(2, 4, 2, 0.5, seed=3).a)
    q = torch.linalg.qr(torch.randn(4, 2, generator=torch.Generator().manual_seed(4),
                                    dtype=F64))[0].T
    evals, evecs = torch.linalg.eigh(std.covariance_x())
    assert torch.allclose(std.w @ evecs @ torch.diag(evals.sqrt()) @ evecs.T / 0.8, q,
                          atol=1e-12)
    assert std.b.dtype == F64


def test_the_direct_bound_counts_the_students_offset():
    case = LinearGaussianTeacherStudent.random(k=2, d=3, m=2, noise_std=0.4, seed=2)
    mean_z = case.w @ case.covariance_x() @ case.w.T
    expected = 0.5 * (float((case.sigma**2).sum()) + float(torch.trace(mean_z))
                      + float(case.b @ case.b) - 2 - float(torch.log(case.sigma**2).sum()))
    assert float(case.b @ case.b) > 0.05
    assert case.direct_bound_bits() == pytest.approx(expected / math.log(2), rel=1e-12)


def test_the_teacher_decodes_each_row_as_one_independent_normal():
    case = LinearGaussianTeacherStudent.random(k=2, d=3, m=2, noise_std=0.4, seed=1)
    z_v = torch.randn(5, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    x = case.sample_x(5)
    dist = case.teacher().decode(z_v)
    assert dist.batch_shape == (5,) and dist.event_shape == (3,)
    expected = torch.distributions.Normal(z_v @ case.a.T, 0.4).log_prob(x).sum(1)
    assert torch.allclose(dist.log_prob(x), expected, atol=1e-12)


def test_the_student_encodes_w_x_plus_b_with_its_own_scales():
    case = LinearGaussianTeacherStudent.random(k=2, d=3, m=2, seed=3)
    x = case.sample_x(4)
    dist = case.student()(x)
    assert float(case.b.abs().min()) > 0.01
    assert torch.allclose(dist.mean, x @ case.w.T + case.b, atol=1e-12)
    assert torch.allclose(dist.stddev, case.sigma.expand(4, 2), atol=1e-12)
    assert dist.batch_shape == (4,) and dist.event_shape == (2,)
