"""Neural variational lower bounds on I(X;Y) (Poole et al. 2019; Belghazi et al. 2018).

A critic f(x, y) (an MLP on the concatenated pair) scores a batch of K pairs against all
K x K pairings:

- InfoNCE: I >= E[ (1/K) sum_i ln( exp f(x_i,y_i) / ((1/K) sum_j exp f(x_i,y_j)) ) ] (<= ln K);
- NWJ:     I >= E_p[f] - e^{-1} E_{p(x)p(y)}[exp f];
- MINE:    I >= E_p[f] - ln E_{p(x)p(y)}[exp f] (Donsker-Varadhan), trained with a moving
  average of the denominator to correct the gradient's bias;
- SMILE (Song & Ermon 2020): the Donsker-Varadhan value with the density ratio clipped to
  [e^-tau, e^tau] in the denominator, E_p[f] - ln E_{p(x)p(y)}[clip(exp f)], which trades a
  little bias for far less variance; the critic is trained on the Jensen-Shannon bound
  -E_p[softplus(-f)] - E_{p(x)p(y)}[softplus(f)] (whose optimum is the same log ratio).

InfoNCE cannot exceed ln K (K the batch size): an estimate at 90 % of that ceiling or above
warns and says so in ``details["at_ceiling"]``; use a larger ``batch_size`` or another bound.

The critic is trained on ``1 - holdout`` of the sample and the bound is evaluated on the
held-out rest; training stops early when the held-out value has not improved for
``patience`` evaluations, and the best held-out value is reported (a slight optimistic
selection, under one standard error in our tests).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ibkit._errors import param_error
from ibkit._units import LN2
from ibkit.estimators.base import Estimate, MIEstimator

BOUNDS = ("infonce", "nwj", "mine", "smile")
CEILING_FRACTION = 0.9
"""InfoNCE at or above this fraction of its ceiling ln K is reported as at the ceiling."""
CRITICS = ("separable", "concat")


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, d_out))


class SeparableCritic(nn.Module):
    """f(x, y) = g(x) . h(y) / sqrt(m): all K x K scores from 2K forward passes and one product."""

    def __init__(self, dim_x: int, dim_y: int, hidden: int, embed: int = 32) -> None:
        super().__init__()
        self.g, self.h, self.scale = _mlp(dim_x, hidden, embed), _mlp(dim_y, hidden, embed), embed**-0.5

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.g(x) @ self.h(y).T * self.scale  # (K, K)


class ConcatCritic(nn.Module):
    """f(x, y) = MLP([x, y]): more expressive, K^2 forward passes per batch."""

    def __init__(self, dim_x: int, dim_y: int, hidden: int) -> None:
        super().__init__()
        self.f = _mlp(dim_x + dim_y, hidden, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        k = len(x)
        pairs = torch.cat([x.unsqueeze(1).expand(k, k, -1), y.unsqueeze(0).expand(k, k, -1)], -1)
        return self.f(pairs).squeeze(-1)  # (K, K)


def _scores(critic: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """f(x_i, y_j) for all pairs, ``(K, K)``; the diagonal holds the joint samples."""
    return critic(x, y)


def bound_nats(scores: torch.Tensor, bound: str, tau: float = 5.0) -> torch.Tensor:
    """The chosen bound in nats from a ``(K, K)`` score matrix (``tau``: SMILE's clip)."""
    k = len(scores)
    joint = scores.diagonal()
    off = scores[~torch.eye(k, dtype=torch.bool, device=scores.device)]  # product of marginals
    if bound == "infonce":
        return (joint - torch.logsumexp(scores, 1) + math.log(k)).mean()
    if bound == "nwj":
        return joint.mean() - (off - 1.0).exp().mean()
    if bound == "smile":
        off = off.clamp(-tau, tau)
    return joint.mean() - (torch.logsumexp(off, 0) - math.log(len(off)))


def js_bound(scores: torch.Tensor) -> torch.Tensor:
    """The Jensen-Shannon (f-GAN) objective -E_p[softplus(-f)] - E_q[softplus(f)], which
    SMILE's critic maximises."""
    k = len(scores)
    off = scores[~torch.eye(k, dtype=torch.bool, device=scores.device)]
    return -F.softplus(-scores.diagonal()).mean() - F.softplus(off).mean()


class NeuralEstimator(MIEstimator):
    """InfoNCE, NWJ or MINE with a small MLP critic (see the module docstring).

    Args:
        bound: ``"infonce"``, ``"nwj"``, ``"mine"`` or ``"smile"``.
        critic: ``"separable"`` (g(x) . h(y), fast) or ``"concat"`` (MLP on [x, y]).
        hidden: critic width (two hidden layers, ReLU).
        batch_size: K, pairs per step (InfoNCE cannot exceed ln K).
        lr: Adam learning rate.
        max_steps: training steps at most.
        eval_every: steps between held-out evaluations.
        patience: evaluations without improvement before stopping.
        holdout: share of samples kept for evaluation.
        ma_rate: MINE's moving-average rate for the denominator.
        tau: SMILE's clip of the log density ratio.
        random_state: seed of the split, the initialisation and the batches.
    """

    name = "neural"
    min_samples = 20

    def __init__(self, bound: str = "infonce", critic: str = "separable", hidden: int = 64,
                 batch_size: int = 128,
                 lr: float = 1e-3, max_steps: int = 3000, eval_every: int = 100,
                 patience: int = 5, holdout: float = 0.3, ma_rate: float = 0.01,
                 random_state: int = 0, tau: float = 5.0) -> None:
        self.bound = bound
        self.critic = critic
        self.hidden = hidden
        self.batch_size = batch_size
        self.lr = lr
        self.max_steps = max_steps
        self.eval_every = eval_every
        self.patience = patience
        self.holdout = holdout
        self.ma_rate = ma_rate
        self.random_state = random_state
        self.tau = tau

    def check_params(self) -> None:
        """Bound, critic, hold-out share, batch size, tau, and ``max_steps >= eval_every >= 1``."""
        owner = type(self).__name__
        if self.bound not in BOUNDS:
            raise param_error("bound", owner, f"one of {BOUNDS}", self.bound)
        if self.critic not in CRITICS:
            raise param_error("critic", owner, f"one of {CRITICS}", self.critic)
        if not 0.0 < self.holdout < 1.0:
            raise param_error("holdout", owner, "a float in (0, 1)", self.holdout)
        if self.batch_size < 2:
            raise param_error("batch_size", owner, "an int >= 2", self.batch_size)
        if not self.tau > 0:
            raise param_error("tau", owner, "a float > 0", self.tau)
        if isinstance(self.eval_every, bool) or not isinstance(self.eval_every, int) \
                or self.eval_every < 1:
            raise param_error("eval_every", owner, "an int >= 1", self.eval_every)
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) \
                or self.max_steps < self.eval_every:
            raise param_error("max_steps", owner, f"an int >= eval_every = {self.eval_every} "
                              "(no held-out evaluation happens before step eval_every)",
                              self.max_steps)

    def _loss(self, scores: torch.Tensor, state: dict) -> torch.Tensor:
        if self.bound == "smile":
            return -js_bound(scores)
        if self.bound != "mine":
            return -bound_nats(scores, self.bound)
        k = len(scores)
        off = scores[~torch.eye(k, dtype=torch.bool)]
        denom = off.exp().mean()
        state["ma"] = denom.detach() if state.get("ma") is None else (
            (1 - self.ma_rate) * state["ma"] + self.ma_rate * denom.detach())
        # gradient of ln E[e^f] replaced by grad E[e^f] / moving average (Belghazi et al.)
        return -(scores.diagonal().mean() - denom / state["ma"])

    @torch.no_grad()
    def _held_out(self, critic: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[float]:
        k = min(self.batch_size, len(x))
        return [float(bound_nats(_scores(critic, x[i : i + k], y[i : i + k]), self.bound, self.tau))
                for i in range(0, len(x) - k + 1, k)]

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        # a critic this small runs 4-15x faster on one thread than on two competing ones
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._fit_and_evaluate(x, y)
        finally:
            torch.set_num_threads(threads)

    def _fit_and_evaluate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        if y.dim() == 1:  # class labels: one-hot
            y = F.one_hot(y - y.min()).to(torch.float64)
        g = torch.Generator().manual_seed(self.random_state)
        x, y = x.float().cpu(), y.float().cpu()
        x = (x - x.mean(0)) / x.std(0).clamp_min(1e-8)
        y = (y - y.mean(0)) / y.std(0).clamp_min(1e-8)
        perm = torch.randperm(len(x), generator=g)
        n_test = max(2, int(self.holdout * len(x)))
        test, train = perm[:n_test], perm[n_test:]
        with torch.random.fork_rng():
            torch.manual_seed(self.random_state)
            critic: nn.Module = (SeparableCritic if self.critic == "separable" else ConcatCritic)(
                x.shape[1], y.shape[1], self.hidden)
        opt = torch.optim.Adam(critic.parameters(), lr=self.lr)
        state: dict[str, Any] = {}
        best, best_vals, stale, step = -math.inf, [0.0], 0, 0
        k = min(self.batch_size, len(train))
        for step in range(1, self.max_steps + 1):
            idx = train[torch.randint(len(train), (k,), generator=g)]
            loss = self._loss(_scores(critic, x[idx], y[idx]), state)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % self.eval_every == 0:
                vals = self._held_out(critic, x[test], y[test])
                if np.mean(vals) > best:
                    best, best_vals, stale = float(np.mean(vals)), vals, 0
                else:
                    stale += 1
                    if stale >= self.patience:
                        break
        se = float(np.std(best_vals) / math.sqrt(len(best_vals))) / LN2 if len(best_vals) > 1 else None
        details = {**self.get_params(), "steps": step, "held_out_batches": len(best_vals),
                   "caveat": "a lower bound in expectation only: the best of several held-out "
                             "evaluations, it can exceed the true MI by a few standard errors "
                             "(selection and sampling error)"}
        if self.bound == "infonce":
            ceiling = math.log(min(self.batch_size, len(test)))
            details["at_ceiling"] = best >= CEILING_FRACTION * ceiling
            if details["at_ceiling"]:
                warnings.warn(f"NeuralEstimator: InfoNCE reads {best:.3f} nats, at its ceiling "
                              f"ln K = {ceiling:.3f} (K = {min(self.batch_size, len(test))} "
                              "pairs per batch): the true MI may be much larger. Use a larger "
                              "batch_size or bound='smile'.", RuntimeWarning, stacklevel=4)
        return Estimate(max(best, 0.0) / LN2 if self.bound not in ("mine", "smile")
                        else best / LN2, "lower_bound", f"neural-{self.bound}", se, details)
