"""A teacher and a student whose I(X;Z) is exact: the proof case of the teacher-student bound.

Teacher: z_v ~ N(0, I_k), x = A z_v + N(0, s^2 I_d), so x ~ N(0, S_x) with S_x = A A^T + s^2 I.
Student: z = W x + b + N(0, D), D = diag(sigma^2), so z ~ N(b, S_z) with S_z = W S_x W^T + D.

In nats (every public function here returns bits):

- I(X;Z) = 1/2 ln det S_z - 1/2 ln det D;
- the VIB bound with r = N(0, I): E_x KL[p(z|x) || r] = 1/2 (tr D + tr(W S_x W^T) + |b|^2 - m
  - ln det D), which is I(X;Z) + KL[N(b, S_z) || N(0, I)] (equal when the marginal is N(0, I));
- the exact posterior p(z_v | z) = N(P B^T C^-1 (z - b), P), with B = W A, C = s^2 W W^T + D
  the covariance of z given z_v, and P = (I + B^T C^-1 B)^-1;
- with that posterior as q and M = 1 sample of x' per z, the teacher-student bound exceeds
  I(X;Z) by the inner Jensen gap E[ln E_x' p(z|x') - E_x' ln p(z|x')]
  = s^2 tr(W^T D^-1 W) - 1/2 ln det(C D^-1) (Herwana & Kadian's section 5 "next step";
  derivation in ``FORMULAS.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Independent, MultivariateNormal, Normal

from ibkit._errors import param_error
from ibkit._units import LN2


def _logdet(a: torch.Tensor) -> float:
    return float(torch.linalg.slogdet(a)[1])


class LinearGaussianTeacher:
    """The teacher x = A z_v + N(0, s^2 I): ``latent_dim`` and ``decode(z_v) -> p(x | z_v)``."""

    def __init__(self, a: torch.Tensor, noise_std: float) -> None:
        self.a, self.noise_std = a, noise_std
        self.latent_dim = a.shape[1]

    def decode(self, z_v: torch.Tensor) -> Independent:
        """p(x | z_v) = N(A z_v, s^2 I), one event per row of ``z_v``."""
        mean = z_v @ self.a.T
        return Independent(Normal(mean, torch.full_like(mean, self.noise_std)), 1)


class LinearGaussianStudent:
    """The student encoder p(z | x) = N(W x + b, diag(sigma^2)), called as ``student(x)``."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor, sigma: torch.Tensor) -> None:
        self.w, self.b, self.sigma = w, b, sigma

    def __call__(self, x: torch.Tensor) -> Independent:
        """p(z | x) for each row of ``x``."""
        mean = x @ self.w.T + self.b
        return Independent(Normal(mean, self.sigma.expand_as(mean)), 1)


@dataclass(frozen=True)
class LinearGaussianTeacherStudent:
    """The linear-Gaussian teacher and student with their closed forms (float64 tensors).

    Attributes:
        a: ``(d, k)`` teacher map; noise_std: s; w: ``(m, d)``; b: ``(m,)``; sigma: ``(m,)``.
    """

    a: torch.Tensor
    noise_std: float
    w: torch.Tensor
    b: torch.Tensor
    sigma: torch.Tensor

    def __post_init__(self) -> None:
        d, k = self.a.shape
        m = self.w.shape[0]
        if self.w.shape != (m, d) or self.b.shape != (m,) or self.sigma.shape != (m,):
            raise param_error("w, b, sigma", type(self).__name__,
                              f"shapes (m, {d}), (m,), (m,)",
                              (tuple(self.w.shape), tuple(self.b.shape), tuple(self.sigma.shape)))
        if not self.noise_std > 0 or not bool((self.sigma > 0).all()):
            raise param_error("noise_std, sigma", type(self).__name__, "positive",
                              (self.noise_std, self.sigma.tolist()))

    @classmethod
    def random(cls, k: int = 2, d: int = 4, m: int = 3, noise_std: float = 0.5,
               seed: int = 0) -> LinearGaussianTeacherStudent:
        """Random maps (standard normal entries / sqrt of the input size), b ~ N(0, 0.25 I),
        sigma in [0.3, 0.8]."""
        g = torch.Generator().manual_seed(seed)
        r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
        sigma = 0.3 + 0.5 * torch.rand(m, generator=g, dtype=torch.float64)
        return cls(r(d, k) / k**0.5, noise_std, r(m, d) / d**0.5, 0.5 * r(m), sigma)

    @classmethod
    def with_standard_marginal(cls, k: int = 2, d: int = 4, m: int = 2, noise_std: float = 0.5,
                               scale: float = 0.8, seed: int = 0) -> LinearGaussianTeacherStudent:
        """A student whose marginal p(z) is exactly N(0, I) (``m <= d``): W = scale * Q S_x^-1/2
        with Q orthonormal rows, b = 0, D = (1 - scale^2) I, so W S_x W^T + D = I."""
        if not (m <= d and 0 < scale < 1):
            raise param_error("m, scale", cls.__name__, "m <= d and 0 < scale < 1", (m, scale))
        base = cls.random(k, d, m, noise_std, seed)
        s_x = base.covariance_x()
        evals, evecs = torch.linalg.eigh(s_x)
        inv_sqrt = evecs @ torch.diag(evals.rsqrt()) @ evecs.T
        g = torch.Generator().manual_seed(seed + 1)
        q = torch.linalg.qr(torch.randn(d, m, generator=g, dtype=torch.float64))[0].T
        sigma = torch.full((m,), (1 - scale**2) ** 0.5, dtype=torch.float64)
        return cls(base.a, noise_std, scale * q @ inv_sqrt, torch.zeros(m, dtype=torch.float64),
                   sigma)

    def teacher(self) -> LinearGaussianTeacher:
        """The teacher, for :class:`~ibkit.estimators.TeacherStudentBound`."""
        return LinearGaussianTeacher(self.a, self.noise_std)

    def student(self) -> LinearGaussianStudent:
        """The student encoder, for :class:`~ibkit.estimators.TeacherStudentBound`."""
        return LinearGaussianStudent(self.w, self.b, self.sigma)

    def sample_x(self, n: int, seed: int = 0) -> torch.Tensor:
        """``(n, d)`` inputs from the teacher: z_v ~ N(0, I), x ~ p(x | z_v)."""
        g = torch.Generator().manual_seed(seed)
        z_v = torch.randn(n, self.a.shape[1], generator=g, dtype=torch.float64)
        return z_v @ self.a.T + self.noise_std * torch.randn(n, self.a.shape[0], generator=g,
                                                            dtype=torch.float64)

    def covariance_x(self) -> torch.Tensor:
        """S_x = A A^T + s^2 I."""
        return self.a @ self.a.T + self.noise_std**2 * torch.eye(self.a.shape[0],
                                                                 dtype=torch.float64)

    def _d(self) -> torch.Tensor:
        return torch.diag(self.sigma**2)

    def mi_bits(self) -> float:
        """The exact I(X;Z) in bits."""
        s_z = self.w @ self.covariance_x() @ self.w.T + self._d()
        return (_logdet(s_z) - _logdet(self._d())) / 2 / LN2

    def direct_bound_bits(self) -> float:
        """The VIB bound E_x KL[p(z|x) || N(0, I)] in bits."""
        m = len(self.sigma)
        trace = float(torch.trace(self.w @ self.covariance_x() @ self.w.T))
        nats = (float((self.sigma**2).sum()) + trace + float(self.b @ self.b) - m
                - _logdet(self._d())) / 2
        return nats / LN2

    def jensen_gap_bits(self) -> float:
        """The M = 1 inner Jensen gap of the bound with the exact posterior, in bits."""
        d_inv = torch.diag(self.sigma**-2)
        c = self.noise_std**2 * self.w @ self.w.T + self._d()
        nats = (self.noise_std**2 * float(torch.trace(self.w.T @ d_inv @ self.w))
                - _logdet(c @ d_inv) / 2)
        return nats / LN2

    def posterior(self, z: torch.Tensor) -> MultivariateNormal:
        """The exact p(z_v | z) for each row of ``z`` (an inference network that is optimal)."""
        k = self.a.shape[1]
        bmat = self.w @ self.a
        c_inv = torch.linalg.inv(self.noise_std**2 * self.w @ self.w.T + self._d())
        p = torch.linalg.inv(torch.eye(k, dtype=torch.float64) + bmat.T @ c_inv @ bmat)
        mean = (z - self.b) @ (p @ bmat.T @ c_inv).T
        return MultivariateNormal(mean, covariance_matrix=p.expand(len(z), k, k))
