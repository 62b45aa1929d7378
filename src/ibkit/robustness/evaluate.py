"""One model's robustness: every attack at every epsilon, the worst case per example, the
perturbation norms of the minimum-norm attacks and the sanity checks that expose gradient
obfuscation (Athalye et al. 2018; Korshunova et al. 2021 on IB models).

Epsilons and norms are in units of the pixel range: eps = 0.1 moves a pixel by a tenth of
``bounds[1] - bounds[0]`` (so [0, 1] and [-1, 1] images get the same attack).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ibkit._errors import param_error
from ibkit.robustness.attacks import fgsm, pgd, square_linf
from ibkit.robustness.library import carlini_wagner_l2
from ibkit.robustness.predictive import Predictive


@dataclass
class AttackConfig:
    """What :func:`evaluate_robustness` runs (epsilons in pixel-range units).

    ``eps_linf``: FGSM, PGD (single-draw, EOT, transfer from the mean mode, margin loss) and
    the Square attack; ``eps_l2``: L2 PGD. PGD takes ``steps`` steps, ``restarts`` random
    starts; EOT averages ``eot`` gradients. Square: ``square_queries`` queries. Carlini-Wagner
    L2 (foolbox), untargeted and targeted to a random wrong label: ``cw_steps`` Adam steps of
    ``cw_stepsize`` in its tanh space (large enough to move pixels that sit at the bounds) per
    ``cw_binary_steps`` constants, on the predictive itself and, for a stochastic model, on
    its mean mode. Predictions use ``n_samples`` draws (Deep VIB: 12).
    """

    n_samples: int = field(default=12, metadata={"min": 1})
    eps_linf: tuple[float, ...] = field(default=(0.05, 0.1, 0.2, 0.3), metadata={"min": 0.0})
    eps_l2: tuple[float, ...] = field(default=(1.0, 2.0, 3.0), metadata={"min": 0.0})
    steps: int = field(default=40, metadata={"min": 1})
    restarts: int = field(default=1, metadata={"min": 1})
    eot: int = field(default=5, metadata={"min": 1})
    square_queries: int = field(default=300, metadata={"min": 1})
    cw_steps: int = field(default=50, metadata={"min": 1})
    cw_binary_steps: int = field(default=6, metadata={"min": 1})
    cw_stepsize: float = field(default=0.3, metadata={"gt": 0.0})
    seed: int = field(default=0, metadata={"min": 0})

    def __post_init__(self) -> None:
        for name in ("eps_linf", "eps_l2"):
            values = getattr(self, name)
            if not all(isinstance(v, int | float) and v >= 0 for v in values):
                raise param_error(name, "AttackConfig", "epsilons >= 0", values)


@dataclass
class RobustnessResult:
    """What :func:`evaluate_robustness` returns.

    Attributes:
        rows: tidy rows ``attack, gradient, norm, eps, robust_acc, n`` (``clean`` first,
            ``worst-case`` per L-inf eps: correct under every L-inf attack).
        norms: per minimum-norm attack and gradient, the mean and median L0, L2 and L-inf of
            the successful perturbations (pixel-range units; L0 counts values moved by > 1e-3).
        checks: the sanity checks, each ``{"passed": bool, "detail": str}``.
        seconds: time per attack.
    """

    rows: list[dict[str, Any]]
    norms: list[dict[str, Any]]
    checks: dict[str, dict[str, Any]]
    seconds: dict[str, float]


def _correct(judge: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return judge(x).argmax(1) == y


def _row(attack: str, gradient: str, norm: str, eps: float, ok: torch.Tensor) -> dict[str, Any]:
    return {"attack": attack, "gradient": gradient, "norm": norm, "eps": eps,
            "robust_acc": float(ok.float().mean()), "n": len(ok)}


def _norms(attack: str, x: torch.Tensor, adv: torch.Tensor, success: torch.Tensor,
           scale: float) -> dict[str, Any]:
    delta = ((adv - x) / scale).flatten(1)[success]
    out: dict[str, Any] = {"attack": attack, "n_success": int(success.sum()), "n": len(x)}
    for name, values in (("l0", (delta.abs() > 1e-3).float().sum(1)),
                         ("l2", delta.norm(dim=1)), ("linf", delta.abs().amax(1)
                                                     if len(delta) else delta.sum(1))):
        out[f"{name}_mean"] = float(values.mean()) if len(values) else math.nan
        out[f"{name}_median"] = float(values.median()) if len(values) else math.nan
    return out


def evaluate_robustness(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                        bounds: tuple[float, float] = (0.0, 1.0),
                        config: AttackConfig | None = None) -> RobustnessResult:
    """Attack ``model`` (any classifier; see :class:`Predictive`) on ``x, y``.

    Every attack is judged on the S-sample predictive distribution with fresh noise. For a
    stochastic model the gradient attacks run three ways: ``single-draw`` (the gradient of
    one draw), ``eot`` (``eot`` gradients of S draws averaged) and ``transfer-mean`` (crafted
    on the noise-free mean mode); a deterministic model's gradient is ``exact``.
    """
    cfg = config or AttackConfig()
    lo, hi = bounds
    if not hi > lo:
        raise param_error("bounds", "evaluate_robustness", "(low, high) with high > low", bounds)
    scale = hi - lo
    judge = Predictive(model, cfg.n_samples)
    ways = _gradient_ways(model, cfg)
    rows, norms, seconds = [], [], {}
    clean = _correct(judge, x, y)
    rows.append(_row("clean", "none", "", 0.0, clean))
    worst = {eps: clean.clone() for eps in cfg.eps_linf}

    def record(attack: str, gradient: str, norm: str, eps: float, adv: torch.Tensor) -> None:
        ok = clean & _correct(judge, adv, y)
        rows.append(_row(attack, gradient, norm, eps, ok))
        if norm == "linf":
            worst[eps] &= ok

    for gradient, (surrogate, eot) in ways.items():
        t = time.perf_counter()
        for eps in cfg.eps_linf:
            e = eps * scale
            record("fgsm", gradient, "linf", eps, fgsm(surrogate, x, y, e, bounds, eot=eot))
            record("pgd", gradient, "linf", eps, pgd(surrogate, x, y, e, "linf", bounds,
                                                      cfg.steps, None, cfg.restarts, "ce", eot,
                                                      judge=judge, seed=cfg.seed))
        seconds[f"fgsm+pgd-linf ({gradient})"] = time.perf_counter() - t
    best_way = "eot" if "eot" in ways else "exact"
    surrogate, eot = ways[best_way]
    t = time.perf_counter()
    for eps in cfg.eps_linf:
        record("pgd-margin", best_way, "linf", eps, pgd(
            surrogate, x, y, eps * scale, "linf", bounds, cfg.steps, None, cfg.restarts,
            "margin", eot, judge=judge, seed=cfg.seed))
    for eps in cfg.eps_l2:
        record("pgd", best_way, "l2", eps, pgd(surrogate, x, y, eps * scale, "l2", bounds,
                                                cfg.steps, None, cfg.restarts, "ce", eot,
                                                judge=judge, seed=cfg.seed))
    seconds["pgd-margin and pgd-l2"] = time.perf_counter() - t
    t = time.perf_counter()
    for eps in cfg.eps_linf:
        record("square", "none", "linf", eps, square_linf(judge, x, y, eps * scale, bounds,
                                                          cfg.square_queries, seed=cfg.seed))
    seconds["square"] = time.perf_counter() - t
    for eps in cfg.eps_linf:
        rows.append(_row("worst-case", "all", "linf", eps, worst[eps]))
    targets = _wrong_labels(y, int(judge(x[:1]).shape[1]), cfg.seed)
    cw_ways = {"predictive": judge}
    if judge.stochastic:
        cw_ways["transfer-mean"] = Predictive(model, 1, mode="mean")
    for way, surrogate_cw in cw_ways.items():
        for attack, target in (("cw-l2", None), ("cw-l2-targeted", targets)):
            t = time.perf_counter()
            adv, found = carlini_wagner_l2(surrogate_cw, x, y, bounds, target, cfg.cw_steps,
                                           cfg.cw_binary_steps, cfg.cw_stepsize)
            with torch.no_grad():
                pred = judge(adv).argmax(1)  # judged again, on fresh noise
            success = clean & found & ((pred != y) if target is None else (pred == target))
            rows.append(_row(attack, way, "l2", math.inf, clean & ~success))
            norms.append({"gradient": way, **_norms(attack, x, adv, success, scale)})
            seconds[f"{attack} ({way})"] = time.perf_counter() - t
    return RobustnessResult(rows, norms, sanity_checks(rows, len(x)), seconds)


def _gradient_ways(model: nn.Module, cfg: AttackConfig) -> dict[str, tuple[nn.Module, int]]:
    if not Predictive(model, cfg.n_samples).stochastic:
        return {"exact": (Predictive(model, 1), 1)}
    return {"single-draw": (Predictive(model, 1), 1),
            "eot": (Predictive(model, cfg.n_samples), cfg.eot),
            "transfer-mean": (Predictive(model, 1, mode="mean"), 1)}


def _wrong_labels(y: torch.Tensor, n_classes: int, seed: int) -> torch.Tensor:
    """A uniformly random label != y per example (seeded): the targets of Deep VIB's attack."""
    g = torch.Generator().manual_seed(seed)
    shift = torch.randint(1, n_classes, y.shape, generator=g)
    return (y + shift) % n_classes


def _acc(rows: list[dict[str, Any]], attack: str, gradient: str | None, eps: float) -> float:
    values = [r["robust_acc"] for r in rows if r["attack"] == attack and r["norm"] == "linf"
              and r["eps"] == eps and (gradient is None or r["gradient"] == gradient)]
    return min(values) if values else math.nan


def sanity_checks(rows: list[dict[str, Any]], n: int) -> dict[str, dict[str, Any]]:
    """The checks a careful reviewer asks for, over the L-inf rows, with a tolerance of
    max(0.01, 1.5 / sqrt(n)) for sampling noise:

    - ``accuracy_falls_to_zero``: PGD accuracy never rises with eps, and is <= 0.05 at the
      largest eps;
    - ``iterative_beats_single_step``: PGD <= FGSM at every eps (same gradient);
    - ``eot_beats_single_draw`` (stochastic models): PGD with EOT <= PGD with one draw;
    - ``white_box_beats_transfer`` (stochastic models): PGD with EOT <= PGD crafted on the mean;
    - ``cw_white_box_beats_transfer`` (stochastic models): Carlini-Wagner on the predictive
      is not weaker than Carlini-Wagner crafted on the mean mode (if it is, the noise hides
      the gradient);
    - ``gradient_free_not_better``: the Square attack does not beat the best gradient attack
      by more than the tolerance (if it does, the gradient is obfuscated).
    """
    tol = max(0.01, 1.5 / math.sqrt(max(n, 1)))
    eps_list = sorted({r["eps"] for r in rows if r["norm"] == "linf" and r["attack"] == "pgd"})
    ways = sorted({r["gradient"] for r in rows if r["attack"] == "pgd" and r["norm"] == "linf"})
    best = "eot" if "eot" in ways else "exact"
    out: dict[str, dict[str, Any]] = {}
    pgd_acc = [_acc(rows, "pgd", best, e) for e in eps_list]
    rising = any(b > a + tol for a, b in zip(pgd_acc, pgd_acc[1:], strict=False))
    out["accuracy_falls_to_zero"] = {
        "passed": bool(pgd_acc) and not rising and pgd_acc[-1] <= 0.05,
        "detail": "PGD accuracy by eps: " + ", ".join(f"{e:g}: {a:.3f}" for e, a in
                                                       zip(eps_list, pgd_acc, strict=True))}
    worse = [(e, w) for e in eps_list for w in ways
             if _acc(rows, "pgd", w, e) > _acc(rows, "fgsm", w, e) + tol]
    out["iterative_beats_single_step"] = {"passed": not worse, "detail": "PGD above FGSM at "
                                          + (", ".join(f"eps {e:g} ({w})" for e, w in worse)
                                             or "no eps")}
    if "eot" in ways:
        for name, other in (("eot_beats_single_draw", "single-draw"),
                            ("white_box_beats_transfer", "transfer-mean")):
            bad = [e for e in eps_list if _acc(rows, "pgd", "eot", e)
                   > _acc(rows, "pgd", other, e) + tol]
            out[name] = {"passed": not bad, "detail": f"EOT above {other} at eps "
                                                      + (", ".join(f"{e:g}" for e in bad) or
                                                         "none")}
    cw = {(r["attack"], r["gradient"]): r["robust_acc"] for r in rows
          if r["attack"].startswith("cw-l2")}
    hidden = [a for (a, g), v in cw.items() if g == "predictive"
              and v > cw.get((a, "transfer-mean"), v) + tol]
    if any(g == "transfer-mean" for _, g in cw):
        out["cw_white_box_beats_transfer"] = {
            "passed": not hidden,
            "detail": ("the noise hides the gradient from Carlini-Wagner: " + ", ".join(hidden)
                       + " on the predictive leaves more accuracy than on the mean mode")
            if hidden else "Carlini-Wagner on the predictive at least as strong as on the mean"}
    gaps = {e: min(_acc(rows, a, None, e) for a in ("fgsm", "pgd", "pgd-margin"))
            - _acc(rows, "square", None, e) for e in eps_list}
    obfuscated = [e for e, g in gaps.items() if g > tol]
    out["gradient_free_not_better"] = {
        "passed": not obfuscated,
        "detail": ("gradient obfuscation suspected: the Square attack beats every gradient "
                   "attack at eps " + ", ".join(f"{e:g}" for e in obfuscated)) if obfuscated
        else "best gradient attack minus Square, by eps: " + ", ".join(
            f"{e:g}: {g:+.3f}" for e, g in gaps.items())}
    return out
