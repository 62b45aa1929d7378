"""The benchmark suite's definition and each family's sampling law, checked against what the
docstrings state (mutants of estimators/task_families.py)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from ibkit._errors import ConfigError
from ibkit.estimators.task_families import (
    additive_uniform,
    benchmark_tasks,
    spiral,
    student_t,
    swiss_roll,
)
from ibkit.estimators.tasks import correlated_gaussian

# name, dim x, dim y, exact MI in bits, x[0, 0] and y[-1, -1] at n = 50 (the seeds): the
# benchmark numbers in docs/results.md hold for exactly these tasks
SUITE = [
    ('gaussian dx=1 dy=1 I=0.5 bits identity', 1, 1, 0.5, 0.125730221, -0.061105658),
    ('gaussian dx=2 dy=2 I=1 bits identity', 2, 2, 1.0, -0.114826964, 0.304244658),
    ('gaussian dx=5 dy=5 I=1 bits identity', 5, 5, 1.0, 0.500791748, 0.922782227),
    ('gaussian dx=10 dy=10 I=1.5 bits identity', 10, 10, 1.5, 0.051561047, -2.472546683),
    ('gaussian dx=25 dy=25 I=1.5 bits identity', 25, 25, 1.5, -1.353254054, 0.169501638),
    ('gaussian sparse(1) dx=5 dy=5 I=1 bits identity', 5, 5, 1.0, -0.208971364, 0.365186066),
    ('gaussian sparse(2) dx=25 dy=25 I=1.5 bits identity', 25, 25, 1.5, -0.87513868, 0.842888577),
    ('gaussian dx=1 dy=1 I=0.75 bits normal-cdf', 1, 1, 0.75, 0.134940108, 0.69885336),
    ('gaussian dx=3 dy=3 I=1 bits normal-cdf', 3, 3, 1.0, 0.106455412, 0.238186067),
    ('gaussian dx=1 dy=1 I=0.75 bits half-cube', 1, 1, 0.75, 0.006322683, -0.604772812),
    ('gaussian dx=3 dy=3 I=1 bits half-cube', 3, 3, 1.0, -0.200458653, 0.023533611),
    ('gaussian dx=1 dy=1 I=0.75 bits asinh', 1, 1, 0.75, -0.006826727, 0.276177976),
    ('gaussian dx=3 dy=3 I=1 bits asinh', 3, 3, 1.0, 1.162496905, -0.459260001),
    ('gaussian dx=1 dy=1 I=0.75 bits wiggly', 1, 1, 0.75, 1.679800833, 1.456256239),
    ('gaussian dx=3 dy=3 I=1 bits wiggly', 3, 3, 1.0, 0.13690485, 0.392170323),
    ('gaussian dx=1 dy=1 I=0.75 bits bimodal', 1, 1, 0.75, 2.016635062, 2.509408754),
    ('gaussian dx=3 dy=3 I=1 bits bimodal', 3, 3, 1.0, -1.148624708, -1.807480008),
    ('student-t dof=1 dx=1 dy=1', 1, 1, 0.323411007, 1.061659577, -1.162402991),
    ('student-t dof=3 dx=2 dy=2', 2, 2, 0.659887578, -0.479061304, 6.815340027),
    ('student-t dof=5 dx=5 dy=5', 5, 5, 1.238828638, 1.107735924, -1.019472593),
    ('additive uniform eps=0.1', 1, 1, 2.466197599, 0.729898495, 0.15636076),
    ('additive uniform eps=0.75', 1, 1, 0.480898347, 0.954151103, 0.857738508),
    ('spiral(gaussian dx=3 dy=3 I=1 bits identity)', 3, 3, 1.0, 0.64696003, -0.999028044),
    ('swiss roll(gaussian dx=1 dy=1 I=1 bits identity)', 2, 1, 1.0, 0.339342984, 1.248747539),
]


def test_the_suite_is_exactly_the_documented_24_tasks_and_seeds():
    tasks = benchmark_tasks(50)
    got = [(t.name, t.x.shape[1], t.y.shape[1], round(t.mi_bits, 9), round(float(t.x[0, 0]), 9),
            round(float(t.y[-1, -1]), 9)) for t in tasks]
    assert got == SUITE
    assert all(len(t.x) == len(t.y) == 50 for t in tasks)
    shifted = benchmark_tasks(50, random_state=1)
    assert [t.name for t in shifted] == [s[0] for s in SUITE]
    assert all(not np.array_equal(a.x, b.x) for a, b in zip(tasks, shifted, strict=True))


def test_student_t_has_the_stated_law_and_refuses_a_bad_dof():
    dof, n = 5.0, 200_000
    task = student_t(n, 2, 2, dof, gaussian_bits=1.0, random_state=3)
    joint = np.c_[task.x, task.y]
    assert joint.var(0) == pytest.approx(np.full(4, dof / (dof - 2)), rel=0.03)  # t variance
    corr = np.corrcoef(joint, rowvar=False)
    k_rho = math.sqrt(1 - 2.0 ** (-2 * 1.0 / 2))  # 1 bit over 2 canonical pairs
    assert corr[0, 2] == pytest.approx(k_rho, abs=0.01)
    assert corr[1, 3] == pytest.approx(k_rho, abs=0.01)
    assert abs(corr[0, 1]) < 0.01 and abs(corr[0, 3]) < 0.01
    # the shared scale: squared norms of the two blocks are correlated even with no rho
    free = student_t(n, 1, 1, 3.0, random_state=0)
    assert np.corrcoef(free.x[:, 0] ** 2, free.y[:, 0] ** 2)[0, 1] > 0.05
    assert abs(np.corrcoef(free.x[:, 0], free.y[:, 0])[0, 1]) < 0.03  # uncorrelated
    assert task.name == "student-t dof=5 dx=2 dy=2"
    assert (task.x.shape, task.y.shape) == ((n, 2), (n, 2))
    with pytest.raises(ConfigError, match=re.escape(
            "The 'dof' parameter of student_t must be > 0. Got 0.0 instead.")):
        student_t(10, 1, 1, 0.0)
    student_t(10, 1, 1, 0.01)  # any positive dof is allowed


def test_additive_uniform_samples_the_stated_law():
    task = additive_uniform(100_000, 0.3, random_state=2)
    noise = task.y - task.x
    assert task.x.min() >= 0 and task.x.max() <= 1 and task.x.mean() == pytest.approx(0.5, abs=0.01)
    assert noise.min() >= -0.3 and noise.max() <= 0.3
    assert noise.min() < -0.299 and noise.max() > 0.299
    assert noise.std() == pytest.approx(0.3 / math.sqrt(3), rel=0.01)
    assert task.x.shape == task.y.shape == (100_000, 1)
    assert task.name == "additive uniform eps=0.3"
    with pytest.raises(ConfigError, match=re.escape(
            "The 'epsilon' parameter of additive_uniform must be > 0. Got 0.0 instead.")):
        additive_uniform(10, 0.0)


def test_spiral_rotates_by_speed_times_the_squared_norm_and_keeps_the_rest():
    base = correlated_gaussian(200, 3, 3, 1.0, rotate=False, random_state=0)
    for speed in (0.5, 2.0):
        turned = spiral(base, speed)
        angle = speed * (base.x**2).sum(1)
        c, s = np.cos(angle), np.sin(angle)
        np.testing.assert_allclose(turned.x[:, 0], c * base.x[:, 0] - s * base.x[:, 1], atol=1e-12)
        np.testing.assert_allclose(turned.x[:, 1], s * base.x[:, 0] + c * base.x[:, 1], atol=1e-12)
        np.testing.assert_array_equal(turned.x[:, 2], base.x[:, 2])
        assert turned.y is base.y and turned.mi_bits == base.mi_bits
    assert not np.shares_memory(spiral(base).x, base.x)  # the input task is left alone
    np.testing.assert_allclose(spiral(base).x, spiral(base, 0.5).x)  # the default speed
    assert spiral(base).name == f"spiral({base.name})"
    with pytest.raises(ConfigError, match=re.escape(
            "The 'task' parameter of spiral must be x with at least 2 dimensions. Got 1 instead.")):
        spiral(correlated_gaussian(10, 1, 1, 0.5))


def test_swiss_roll_follows_its_formula():
    base = correlated_gaussian(100, 1, 1, 1.0, random_state=1)
    from scipy.stats import norm

    t = 1.5 * np.pi * (1 + 2 * norm.cdf(base.x[:, 0]))
    rolled = swiss_roll(base)
    np.testing.assert_allclose(rolled.x, np.c_[t * np.cos(t), t * np.sin(t)] / 10.0, atol=1e-12)
    assert rolled.name == f"swiss roll({base.name})" and rolled.mi_bits == base.mi_bits
    with pytest.raises(ConfigError, match=re.escape(
            "The 'task' parameter of swiss_roll must be x with 1 dimension. Got 2 instead.")):
        swiss_roll(correlated_gaussian(10, 2, 2, 0.5))


def test_the_families_default_seed_is_0_and_the_benchmarks_size_5000():
    np.testing.assert_array_equal(additive_uniform(5, 0.3).y, additive_uniform(5, 0.3, 0).y)
    np.testing.assert_array_equal(student_t(5, 1, 1, 3.0).x, student_t(5, 1, 1, 3.0,
                                                                       random_state=0).x)
    first = benchmark_tasks()[0]
    assert len(first.x) == 5000
    np.testing.assert_array_equal(first.x, benchmark_tasks(5000, 0)[0].x)


def test_a_spiral_of_two_coordinates_is_allowed():
    task = spiral(correlated_gaussian(10, 2, 1, 1.0, random_state=1))
    assert task.x.shape == (10, 2)
