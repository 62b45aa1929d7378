"""Adversarial attacks on a predictive distribution (a callable ``x -> log p(y|x)``, such as
:class:`ibkit.robustness.Predictive`), in the inputs' own units, inside ``bounds``.

- :func:`fgsm`: one signed-gradient step, x + eps * sign(g) (Goodfellow et al. 2015).
- :func:`pgd`: projected gradient descent in an L-inf or L2 ball, random restarts,
  cross-entropy or margin loss (Madry et al. 2018).
- Expectation over transformation (Athalye et al. 2018): every gradient is the mean over
  ``eot`` calls, each with fresh noise, g = (1/eot) sum_k grad_x loss(f(x; eps_k)).
- :func:`square_linf`: a gradient-free, score-based random search (Square attack,
  Andriushchenko et al. 2020, simplified): the obfuscation check.

Losses, maximised by the attacker (``target`` given: towards that class):

- ``ce``: -ln p(y|x) (targeted: ln p(t|x));
- ``margin``: max_{j != y} ln p(j|x) - ln p(y|x) (targeted: ln p(t|x) - max_{j != t} ln p(j|x)).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ibkit._errors import param_error

LOSSES = ("ce", "margin")
NORMS = ("linf", "l2")
Model = Callable[[torch.Tensor], torch.Tensor]


def check_attack(eps: float, norm: str = "linf", loss: str = "ce") -> None:
    """ConfigError unless eps >= 0, ``norm`` in :data:`NORMS` and ``loss`` in :data:`LOSSES`."""
    if not isinstance(eps, int | float) or not eps >= 0:
        raise param_error("eps", "the attack", "a number >= 0", eps)
    if norm not in NORMS:
        raise param_error("norm", "the attack", f"one of {NORMS}", norm)
    if loss not in LOSSES:
        raise param_error("loss", "the attack", f"one of {LOSSES}", loss)


def attack_loss(log_probs: torch.Tensor, y: torch.Tensor, loss: str = "ce",
                target: torch.Tensor | None = None) -> torch.Tensor:
    """The attacker's objective per example (to be maximised), ``(batch,)``."""
    cls = y if target is None else target
    own = log_probs.gather(1, cls[:, None])[:, 0]
    if loss == "ce":
        return -own if target is None else own
    others = log_probs.scatter(1, cls[:, None], float("-inf")).amax(1)
    return others - own if target is None else own - others


def _gradient(model: Model, x: torch.Tensor, y: torch.Tensor, loss: str,
              target: torch.Tensor | None, eot: int) -> torch.Tensor:
    grad = torch.zeros_like(x)
    for _ in range(eot):
        xg = x.detach().requires_grad_(True)
        value = attack_loss(model(xg), y, loss, target).sum()
        grad += torch.autograd.grad(value, xg)[0]
    return grad / eot


def _l2(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def _project(delta: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    if norm == "linf":
        return delta.clamp(-eps, eps)
    return delta * (eps / _l2(delta)).clamp(max=1.0)


def fgsm(model: Model, x: torch.Tensor, y: torch.Tensor, eps: float,
         bounds: tuple[float, float] = (0.0, 1.0), loss: str = "ce", eot: int = 1,
         target: torch.Tensor | None = None) -> torch.Tensor:
    """The fast gradient sign method: clip(x + eps * sign(g), bounds), g the (EOT) gradient."""
    check_attack(eps, "linf", loss)
    g = _gradient(model, x, y, loss, target, eot)
    return (x + eps * g.sign()).clamp(*bounds).detach()


def pgd(model: Model, x: torch.Tensor, y: torch.Tensor, eps: float, norm: str = "linf",
        bounds: tuple[float, float] = (0.0, 1.0), steps: int = 40,
        step_size: float | None = None, restarts: int = 1, loss: str = "ce", eot: int = 1,
        target: torch.Tensor | None = None, random_start: bool = True,
        judge: Model | None = None, seed: int = 0) -> torch.Tensor:
    """Projected gradient ascent of the attack loss in the ``norm`` ball of radius ``eps``.

    Each of ``restarts`` runs starts at a uniform point of the ball (``random_start``) or at
    x, takes ``steps`` steps of ``step_size`` (default 2.5 eps / steps) along sign(g) (L-inf)
    or g / ||g||_2 (L2), then projects onto the ball and the bounds. Per example, the first
    restart whose result ``judge`` (default ``model``) misclassifies is kept, else the last.
    """
    check_attack(eps, norm, loss)
    if steps < 1 or restarts < 1 or eot < 1:
        raise param_error("steps, restarts, eot", "pgd", "ints >= 1", (steps, restarts, eot))
    step = 2.5 * eps / steps if step_size is None else step_size
    judge = judge or model
    g = torch.Generator().manual_seed(seed)
    best, done = x.clone(), torch.zeros(len(x), dtype=torch.bool)
    for _ in range(restarts):
        delta = torch.zeros_like(x)
        if random_start and eps > 0:
            delta = _project((torch.rand(x.shape, generator=g) * 2 - 1).to(x) * eps, eps, norm)
        adv = (x + delta).clamp(*bounds)
        for _ in range(steps):
            grad = _gradient(model, adv, y, loss, target, eot)
            move = grad.sign() if norm == "linf" else grad / _l2(grad)
            adv = (x + _project(adv + step * move - x, eps, norm)).clamp(*bounds).detach()
        with torch.no_grad():
            fooled = _fooled(judge(adv), y, target)
        open_ = ~done  # examples not fooled by an earlier restart take this one's result
        best[open_] = adv[open_]
        done |= fooled
        if bool(done.all()):
            break
    return best


def _fooled(log_probs: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    pred = log_probs.argmax(1)
    return pred != y if target is None else pred == target


def square_linf(model: Model, x: torch.Tensor, y: torch.Tensor, eps: float,
                bounds: tuple[float, float] = (0.0, 1.0), queries: int = 1000,
                p_init: float = 0.1, seed: int = 0) -> torch.Tensor:
    """A gradient-free L-inf attack from scores only (the Square attack, simplified): start
    from vertical stripes of +-eps; at each query, per example still classified correctly,
    redraw +-eps (per channel) on a random square whose side shrinks with the query count,
    and keep the change if the margin loss rises. Images ``(batch, C, H, W)``; other inputs
    are treated as ``(batch, 1, 1, features)``."""
    check_attack(eps, "linf", "margin")
    shape = x.shape
    img = x if x.dim() == 4 else x.reshape(len(x), 1, 1, -1)
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = img.shape
    stripes = (torch.randint(0, 2, (n, c, 1, w), generator=g) * 2 - 1).to(img) * eps
    adv = (img + stripes.expand_as(img)).clamp(*bounds)
    with torch.no_grad():
        best = attack_loss(model(adv.reshape(shape)), y, "margin")
        for i in range(queries):
            active = best <= 0  # not yet fooled
            if not bool(active.any()):
                break
            frac = p_init * 0.5 ** int(8 * i / queries)
            side_h = max(1, min(h, round((frac * h * w) ** 0.5)))
            side_w = max(1, min(w, round(frac * h * w / side_h)))
            r = int(torch.randint(0, h - side_h + 1, (1,), generator=g))
            s = int(torch.randint(0, w - side_w + 1, (1,), generator=g))
            cand = adv.clone()
            signs = (torch.randint(0, 2, (n, c, 1, 1), generator=g) * 2 - 1).to(img) * eps
            window = img[:, :, r:r + side_h, s:s + side_w] + signs
            cand[:, :, r:r + side_h, s:s + side_w] = window.clamp(*bounds)
            value = attack_loss(model(cand.reshape(shape)), y, "margin")
            better = active & (value > best)
            adv[better], best[better] = cand[better], value[better]
    return adv.reshape(shape)
