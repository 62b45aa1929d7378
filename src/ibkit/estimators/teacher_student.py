"""The teacher-student upper bound on I(X;Z) of Herwana & Kadian (equation 5, section 3.3).

When the data come from a teacher, z_v ~ p(z_v) = N(0, I) and x ~ p(x | z_v), an inference
network q(z_v | z) lower-bounds ln p(z) of a student encoder p(z | x), and so upper-bounds
I(X;Z) = -E ln p(z) - E_x H[p(z|x)]. With M samples x'_1..M ~ p(x | z_v) per z (nats):

    ln p(z) >= E_{z_v ~ q(.|z)} E_{x'} ln (1/M) sum_m p(z | x'_m) - KL[q(z_v|z) || p(z_v)]
    I(X;Z) <= -E_x H[p(z|x)] - E_{z ~ p(z)} [ that lower bound ]

M = 1 is the paper's; a larger M gives a tighter, still valid bound (the inner Jensen gap
shrinks) at M decoder and student passes per z. The bound holds only when x really is drawn
from the teacher with the prior p(z_v) = N(0, I) used in the KL; on images reconstructed
through a teacher (the paper's section 4) p(z_v) is the aggregate posterior and the number is
an approximation.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch
from torch import nn
from torch.distributions import Distribution, Independent, MultivariateNormal, Normal, kl_divergence

from ibkit._errors import param_error
from ibkit._units import LN2
from ibkit.estimators.base import ArrayLike, Estimate, MIEstimator, _to_tensor


class Teacher(Protocol):
    """A generative model with prior N(0, I_k): ``latent_dim`` k and ``decode(z_v) -> p(x|z_v)``
    (a distribution with one event per row of ``z_v``)."""

    latent_dim: int

    def decode(self, z_v: torch.Tensor) -> Distribution: ...  # noqa: D102


Student = Callable[[torch.Tensor], Distribution]
"""An encoder ``x -> p(z | x)``: a Gaussian, one event (or one row of independent units) per x."""


def _events(dist: Distribution) -> Distribution:
    return Independent(dist, 1) if len(dist.event_shape) == 0 else dist


class InferenceNetwork(nn.Module):
    """q(z_v | z): a Gaussian whose mean and scale an MLP of z gives (``hidden`` widths, ReLU;
    none: linear). Diagonal by default; ``full_covariance`` gives a Cholesky factor
    (k (k + 1) / 2 outputs), which a correlated posterior needs (the linear-Gaussian case)."""

    def __init__(self, z_dim: int, latent_dim: int, hidden: Sequence[int] = (128,),
                 full_covariance: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = z_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        k = latent_dim
        self.full_covariance = full_covariance
        layers.append(nn.Linear(width, k + (k * (k + 1) // 2 if full_covariance else k)))
        self.net = nn.Sequential(*layers)
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor) -> Distribution:
        """q(z_v | z) for each row of ``z``."""
        k = self.latent_dim
        out = self.net(z)
        mean, rest = out[..., :k], out[..., k:]
        if not self.full_covariance:
            return Independent(Normal(mean, rest.clamp(-10, 5).exp()), 1)
        rows, cols = torch.tril_indices(k, k, device=z.device)
        tril = torch.zeros(*out.shape[:-1], k, k, dtype=out.dtype, device=out.device)
        tril[..., rows, cols] = rest
        diag = torch.diagonal(tril, dim1=-2, dim2=-1)
        tril = tril - torch.diag_embed(diag) + torch.diag_embed(diag.clamp(-10, 5).exp())
        return MultivariateNormal(mean, scale_tril=tril)


def _prior_like(q: Distribution, k: int) -> Distribution:
    zeros = torch.zeros(k, dtype=q.mean.dtype, device=q.mean.device)
    if isinstance(q, MultivariateNormal):
        return MultivariateNormal(zeros, scale_tril=torch.eye(k, dtype=zeros.dtype,
                                                              device=zeros.device))
    return Independent(Normal(zeros, torch.ones_like(zeros)), 1)


def log_pz_lower_nats(z: torch.Tensor, teacher: Teacher, student: Student,
                      inference: Callable[[torch.Tensor], Distribution], m: int = 1,
                      score_function: bool = True) -> torch.Tensor:
    """The lower bound on ln p(z) of each row of ``z`` (nats, ``(n,)``): steps 4-7 of the
    paper's algorithm with M = ``m`` samples of x' combined by log-mean-exp.

    With a teacher whose p(x|z_v) cannot be reparameterised (Bernoulli pixels) and
    ``score_function``, the returned tensor carries the score-function (REINFORCE) gradient of
    the x' expectation, with the batch mean as baseline; its value is unchanged.
    """
    q = _events(inference(z))
    z_v = q.rsample()
    kl = kl_divergence(q, _prior_like(q, z_v.shape[-1]))
    p_x = teacher.decode(z_v)
    xs = p_x.rsample((m,)) if p_x.has_rsample else p_x.sample((m,))  # (M, n, ...)
    flat = xs.reshape(m * len(z), *xs.shape[2:])
    log_p = _events(student(flat)).log_prob(z.repeat(m, *([1] * (z.dim() - 1)))).reshape(m, len(z))
    inner = torch.logsumexp(log_p, 0) - math.log(m)
    if not p_x.has_rsample and score_function and torch.is_grad_enabled():
        score = p_x.log_prob(xs).sum(0)  # (n,)
        inner = inner + (inner.detach() - inner.detach().mean()) * (score - score.detach())
    return inner - kl


class TeacherStudentBound(MIEstimator):
    """Upper bound on I(X;Z) in bits of a ``student`` on data from a ``teacher`` (Herwana &
    Kadian, eq. 5): the inference network q(z_v|z) is trained with the bound as its loss (step
    8), then the bound is averaged over the x given to ``estimate``.

    ``estimate(x, y)``: ``x`` are inputs drawn from the teacher (``y`` is not used). The
    estimate's ``details`` also hold the direct VIB bound E_x KL[p(z|x) || N(0, I)] and the
    minimum of both (what the paper reports), in bits.

    Args:
        teacher: see :class:`Teacher` (prior N(0, I)).
        student: ``x -> p(z|x)``, a Gaussian (its ``entropy`` and ``log_prob`` are used).
        inference: a fixed q(z_v|z) (a callable ``z -> Distribution``), or None to train an
            :class:`InferenceNetwork` with ``hidden`` layers (and a full covariance if
            ``full_covariance``).
        m: samples x' per z, combined by log-mean-exp (M = 1 is the paper's).
        steps, lr, batch_size: Adam training of the inference network on the x given.
        warm_start: a later ``fit`` continues training the same network (and optimizer), as
            scikit-learn's ``warm_start`` (for a bound tracked over a student's training).
        seed: seed of every draw (the global generator is left as it was).
    """

    name = "teacher-student"
    y_kind = "any"

    def __init__(self, teacher: Teacher, student: Student,
                 inference: Callable[[torch.Tensor], Distribution] | None = None, m: int = 1,
                 steps: int = 1000, lr: float = 1e-2, batch_size: int = 256,
                 hidden: Sequence[int] = (128,), full_covariance: bool = False,
                 warm_start: bool = False, seed: int = 0) -> None:
        self.teacher = teacher
        self.student = student
        self.inference = inference
        self.m = m
        self.steps = steps
        self.lr = lr
        self.batch_size = batch_size
        self.hidden = hidden
        self.full_covariance = full_covariance
        self.warm_start = warm_start
        self.seed = seed

    def check_params(self) -> None:
        """``m``, ``steps``, ``batch_size`` ints >= 1 (steps >= 0), ``lr`` > 0."""
        owner = type(self).__name__
        for name, low in (("m", 1), ("steps", 0), ("batch_size", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise param_error(name, owner, f"an int >= {low}", value)
        if not self.lr > 0:
            raise param_error("lr", owner, "a number > 0", self.lr)

    def works_in_plane(self) -> bool:
        """False: it needs the teacher and the student, not a layer's values."""
        return False

    def _inputs(self, x: ArrayLike, y: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
        t = _to_tensor(x, "x", type(self).__name__)
        if t.dim() < 2 or len(t) < 2 or not torch.isfinite(t).all():
            raise param_error("x", type(self).__name__,
                              "finite inputs of shape (n_samples >= 2, ...)", tuple(t.shape))
        return t, _to_tensor(y, "y", type(self).__name__)

    def _z(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Steps 2-3: z ~ p(z|x), the entropy H[p(z|x)] and the VIB bound, per x (nats)."""
        with torch.no_grad():
            p_z = _events(self.student(x))
            mean, var = p_z.mean, p_z.variance
            direct = 0.5 * (var + mean**2 - 1 - var.log()).flatten(1).sum(1)
            return p_z.sample(), p_z.entropy(), direct

    def fit(self, x: ArrayLike) -> TeacherStudentBound:
        """Train the inference network on teacher inputs ``x`` (no-op with a fixed one)."""
        self.check_params()
        x = self._inputs(x, x)[0]
        self.history_bits_: list[float] = []
        if self.inference is not None:
            self.inference_: Callable[[torch.Tensor], Distribution] = self.inference
            return self
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            if not (self.warm_start and hasattr(self, "network_")):
                z_dim = self._z(x[:2])[0].shape[-1]
                self._new_network(z_dim, x.dtype)
            net, opt = self.network_, self.optimizer_
            self.history_bits_ = []
            for _ in range(self.steps):
                batch = x[torch.randint(len(x), (min(self.batch_size, len(x)),))]
                z, _, _ = self._z(batch)
                loss = -log_pz_lower_nats(z, self.teacher, self.student, net, self.m).mean()
                grads = torch.autograd.grad(loss, list(net.parameters()))  # the student's
                for p, g in zip(net.parameters(), grads, strict=True):   # .grad stay as they were
                    p.grad = g
                opt.step()
                self.history_bits_.append(float(loss.detach()) / LN2)
        return self

    def _new_network(self, z_dim: int, dtype: torch.dtype,
                     device: torch.device | None = None) -> None:
        self.network_ = InferenceNetwork(z_dim, self.teacher.latent_dim, self.hidden,
                                         self.full_covariance).to(dtype=dtype, device=device)
        self.optimizer_ = torch.optim.Adam(self.network_.parameters(), lr=self.lr)
        self.inference_ = self.network_

    def restore(self, network_state: dict, optimizer_state: dict) -> TeacherStudentBound:
        """Rebuild the trained inference network and its optimizer from their ``state_dict``s
        (a checkpoint); a later warm-started ``fit`` continues from them."""
        first = next(v for k, v in network_state.items() if k.endswith("weight"))
        with torch.random.fork_rng(devices=[]):  # the new layers' init draws nothing global
            self._new_network(first.shape[1], first.dtype, first.device)
        self.network_.load_state_dict(network_state)
        # a copy: torch keeps the given moment tensors as they are, so a live estimator's
        # state would otherwise be shared with it and moved by both
        self.optimizer_.load_state_dict(copy.deepcopy(optimizer_state))
        return self

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        if not hasattr(self, "inference_"):
            self.fit(x)
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(self.seed + 1)
            parts = []
            for i in range(0, len(x), self.batch_size):
                z, h, direct = self._z(x[i : i + self.batch_size])
                lower = log_pz_lower_nats(z, self.teacher, self.student, self.inference_, self.m)
                parts.append(torch.stack([-lower - h, direct], 1))
        per_x = torch.cat(parts) / LN2  # (n, 2): teacher-student, direct (bits)
        mean, se = per_x.mean(0), per_x.std(0) / math.sqrt(len(per_x))
        details: dict[str, Any] = {
            "m": self.m, "direct_bits": float(mean[1]), "direct_stderr_bits": float(se[1]),
            "minimum_bits": float(mean.min()), "steps": self.steps if self.inference is None else 0,
        }
        return Estimate(float(mean[0]), "upper_bound", self.name, float(se[0]), details)
