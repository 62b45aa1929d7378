"""Attacks from foolbox (Rauber et al. 2017-2020; the optional extra ``ibkit[robustness]``),
run on a :class:`ibkit.robustness.Predictive`: Carlini-Wagner L2 (minimum norm, targeted or
untargeted, as in Deep VIB section 4.2) and L-inf PGD (to cross-check :func:`ibkit.robustness.pgd`).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from ibkit._errors import IbkitError


def _foolbox() -> Any:
    try:
        with warnings.catch_warnings():  # foolbox 3.3 imports a deprecated scipy namespace
            warnings.simplefilter("ignore", DeprecationWarning)
            import foolbox
    except ImportError:  # pragma: no cover - depends on the environment
        raise IbkitError("This attack needs foolbox: pip install 'ibkit[robustness]' (or "
                         "pip install foolbox).") from None
    return foolbox


def carlini_wagner_l2(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                      bounds: tuple[float, float] = (0.0, 1.0),
                      target: torch.Tensor | None = None, steps: int = 100,
                      binary_search_steps: int = 5, stepsize: float = 0.01,
                      confidence: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Foolbox's L2 Carlini-Wagner attack (minimum norm): ``(adversarial, found)``;
    untargeted unless ``target``.

    Where the binary search finds no adversarial, foolbox returns an all-zero input (its
    initial value), which may happen to be misclassified; ``found`` is False there, and such
    rows are returned as ``x`` itself, so that no zero image is counted as an attack."""
    fb = _foolbox()
    fmodel = fb.PyTorchModel(model.eval(), bounds=bounds)
    criterion = (fb.criteria.Misclassification(y) if target is None
                 else fb.criteria.TargetedMisclassification(target))
    attack = fb.attacks.L2CarliniWagnerAttack(binary_search_steps=binary_search_steps,
                                              steps=steps, stepsize=stepsize,
                                              confidence=confidence)
    _, clipped, success = attack(fmodel, x, criterion, epsilons=None)
    untouched = (clipped.flatten(1) == 0).all(1) & ~(x.flatten(1) == 0).all(1)
    found = success & ~untouched
    adv = torch.where(found.view(-1, *([1] * (x.dim() - 1))), clipped, x)
    return adv.detach(), found.detach()


def foolbox_pgd_linf(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
                     bounds: tuple[float, float] = (0.0, 1.0), steps: int = 40,
                     step_size: float | None = None, random_start: bool = False) -> torch.Tensor:
    """Foolbox's L-inf PGD with cross-entropy, the same step rule as :func:`ibkit.robustness.pgd`
    (step 2.5 eps / steps by default)."""
    fb = _foolbox()
    fmodel = fb.PyTorchModel(model.eval(), bounds=bounds)
    step = 2.5 * eps / steps if step_size is None else step_size
    attack = fb.attacks.LinfPGD(abs_stepsize=step, steps=steps, random_start=random_start)
    _, clipped, _ = attack(fmodel, x, y, epsilons=[eps])
    return clipped[0].detach()
