"""More task families with exact mutual information, and the benchmark suite of all of them
(after the families of Czyz et al. 2023, "Beyond normal: on the evaluation of mutual
information estimators"). Every task is seeded; ``Task.mi_bits`` is exact (in nats: times
ln 2).

- :func:`student_t`: x, y blocks of a multivariate Student-t with ``dof`` degrees of freedom;
  I = I_Gauss(scale matrix) + the closed-form term of the shared chi-square scale
  (Arellano-Valle, Contreras-Reyes & Genton 2013), > 0 even for independent blocks.
- :func:`additive_uniform`: X ~ U(0, 1), Y = X + U(-eps, eps):
  I = eps - ln(2 eps) nats for eps <= 1/2, 1 / (4 eps) nats above.
- :func:`spiral`: a Gaussian task with x's first two coordinates rotated by an angle growing
  with |x|^2 (a volume-preserving diffeomorphism: MI unchanged, but no longer coordinate-wise).
- :func:`swiss_roll`: a 1-d Gaussian x rolled into the plane, t -> (t cos t, t sin t) with
  t = 1.5 pi (1 + 2 Phi(x)) (injective and smooth: MI unchanged).
- :func:`benchmark_tasks`: the suite.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma, gammaln
from scipy.stats import norm

from ibkit._errors import param_error
from ibkit._units import LN2
from ibkit.estimators.tasks import Task, correlated_gaussian, rho_for_bits


def student_t_term_nats(dof: float, dim_x: int, dim_y: int) -> float:
    """The MI in nats that the shared scale of a Student-t adds to the Gaussian part."""
    nu, d = dof, dim_x + dim_y
    return float(gammaln(nu / 2) + gammaln((nu + d) / 2) - gammaln((nu + dim_x) / 2)
                 - gammaln((nu + dim_y) / 2) + (nu + dim_x) / 2 * digamma((nu + dim_x) / 2)
                 + (nu + dim_y) / 2 * digamma((nu + dim_y) / 2) - nu / 2 * digamma(nu / 2)
                 - (nu + d) / 2 * digamma((nu + d) / 2))


def student_t(n: int, dim_x: int, dim_y: int, dof: float, gaussian_bits: float = 0.0,
              random_state: int = 0) -> Task:
    """x, y = Z / sqrt(W / dof) split in blocks, Z ~ N(0, Sigma) with min(dx, dy) canonical
    pairs carrying ``gaussian_bits``, W ~ chi^2(dof)."""
    if not dof > 0:
        raise param_error("dof", "student_t", "> 0", dof)
    rng = np.random.default_rng(random_state)
    k = min(dim_x, dim_y)
    rho = rho_for_bits(gaussian_bits, k)
    z = rng.standard_normal((n, dim_x + dim_y))
    z[:, dim_x:dim_x + k] = rho * z[:, :k] + math.sqrt(1 - rho**2) * z[:, dim_x:dim_x + k]
    t = z / np.sqrt(rng.chisquare(dof, n) / dof)[:, None]
    mi = gaussian_bits + student_t_term_nats(dof, dim_x, dim_y) / LN2
    return Task(t[:, :dim_x], t[:, dim_x:], float(mi),
                f"student-t dof={dof:g} dx={dim_x} dy={dim_y}")


def additive_uniform(n: int, epsilon: float, random_state: int = 0) -> Task:
    """X ~ U(0, 1), Y = X + N with N ~ U(-epsilon, epsilon)."""
    if not epsilon > 0:
        raise param_error("epsilon", "additive_uniform", "> 0", epsilon)
    rng = np.random.default_rng(random_state)
    x = rng.uniform(0.0, 1.0, (n, 1))
    y = x + rng.uniform(-epsilon, epsilon, (n, 1))
    nats = epsilon - math.log(2 * epsilon) if epsilon <= 0.5 else 1.0 / (4 * epsilon)
    return Task(x, y, nats / LN2, f"additive uniform eps={epsilon:g}")


def spiral(task: Task, speed: float = 0.5) -> Task:
    """``task`` with x's first two coordinates rotated by ``speed * |x|^2`` radians."""
    x = np.array(task.x, dtype=np.float64)
    if x.shape[1] < 2:
        raise param_error("task", "spiral", "x with at least 2 dimensions", x.shape[1])
    angle = speed * (x**2).sum(1)
    c, s = np.cos(angle), np.sin(angle)
    x[:, 0], x[:, 1] = c * x[:, 0] - s * x[:, 1], s * x[:, 0] + c * x[:, 1]
    return Task(x, task.y, task.mi_bits, f"spiral({task.name})")


def swiss_roll(task: Task) -> Task:
    """``task`` with its 1-d x rolled into 2-d (see the module docstring)."""
    if task.x.shape[1] != 1:
        raise param_error("task", "swiss_roll", "x with 1 dimension", task.x.shape[1])
    t = 1.5 * math.pi * (1 + 2 * norm.cdf(task.x[:, 0]))
    x = np.stack([t * np.cos(t), t * np.sin(t)], 1) / 10.0
    return Task(x, task.y, task.mi_bits, f"swiss roll({task.name})")


def benchmark_tasks(n: int = 5000, random_state: int = 0) -> list[Task]:
    """The benchmark suite: 24 tasks in 1 to 25 dimensions per side, each seeded from
    ``random_state``: Gaussians dense and sparse, under monotone maps (normal CDF, x|x|^1/2,
    asinh, a wiggly map, bimodal marginals), Student-t, additive uniform noise, a spiral and
    a swiss roll."""
    s = random_state
    g = correlated_gaussian
    tasks = [g(n, 1, 1, 0.5, random_state=s), g(n, 2, 2, 1.0, random_state=s + 1),
             g(n, 5, 5, 1.0, random_state=s + 2), g(n, 10, 10, 1.5, random_state=s + 3),
             g(n, 25, 25, 1.5, random_state=s + 4),
             g(n, 5, 5, 1.0, random_state=s + 5, n_pairs=1),
             g(n, 25, 25, 1.5, random_state=s + 6, n_pairs=2)]
    for i, name in enumerate(("normal-cdf", "half-cube", "asinh", "wiggly", "bimodal")):
        tasks.append(g(n, 1, 1, 0.75, transform=name, random_state=s + 10 + i))
        tasks.append(g(n, 3, 3, 1.0, transform=name, random_state=s + 20 + i))
    tasks += [student_t(n, 1, 1, 1.0, random_state=s + 30),
              student_t(n, 2, 2, 3.0, gaussian_bits=0.5, random_state=s + 31),
              student_t(n, 5, 5, 5.0, gaussian_bits=1.0, random_state=s + 32),
              additive_uniform(n, 0.1, random_state=s + 40),
              additive_uniform(n, 0.75, random_state=s + 41),
              spiral(g(n, 3, 3, 1.0, rotate=False, random_state=s + 50)),
              swiss_roll(g(n, 1, 1, 1.0, random_state=s + 51))]
    return tasks
