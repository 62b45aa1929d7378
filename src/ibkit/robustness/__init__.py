"""Adversarial robustness of any classifier, evaluated so that gradient obfuscation cannot
fool it: the S-sample predictive distribution with the noise switched on explicitly,
FGSM, PGD (L-inf, L2; restarts; cross-entropy or margin; expectation over transformation),
a gradient-free Square attack, Carlini-Wagner L2 from foolbox, and the sanity checks."""

from ibkit.robustness.attacks import (
    LOSSES,
    NORMS,
    attack_loss,
    check_attack,
    fgsm,
    pgd,
    square_linf,
)
from ibkit.robustness.evaluate import (
    AttackConfig,
    RobustnessResult,
    evaluate_robustness,
    sanity_checks,
)
from ibkit.robustness.library import carlini_wagner_l2, foolbox_pgd_linf
from ibkit.robustness.predictive import MODES, Predictive

__all__ = [
    "LOSSES",
    "MODES",
    "NORMS",
    "AttackConfig",
    "Predictive",
    "RobustnessResult",
    "attack_loss",
    "carlini_wagner_l2",
    "check_attack",
    "evaluate_robustness",
    "fgsm",
    "foolbox_pgd_linf",
    "pgd",
    "sanity_checks",
    "square_linf",
]
