"""The robustness evaluator: the predictive distribution with its noise switched on
explicitly, the attacks (FGSM, PGD, EOT, Square, Carlini-Wagner), the cross-check of our PGD
against foolbox's, and the sanity checks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from ibkit._errors import ConfigError
from ibkit.experiments import resolve_config, run
from ibkit.experiments.runner import load_run
from ibkit.robustness import (
    AttackConfig,
    Predictive,
    attack_loss,
    carlini_wagner_l2,
    evaluate_robustness,
    fgsm,
    foolbox_pgd_linf,
    pgd,
    sanity_checks,
    square_linf,
)

BOUNDS = (-1.0, 1.0)
QUICK = AttackConfig(eps_linf=(0.1, 0.3), eps_l2=(1.0,), steps=10, eot=2, square_queries=60,
                     cw_steps=40, cw_binary_steps=6)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, tuple[nn.Module, torch.Tensor, torch.Tensor]]:
    out = {}
    for preset in ("deterministic-digits", "vib-digits"):
        run_dir = tmp_path_factory.mktemp(preset) / "run"
        run(resolve_config(preset, ["train.epochs=12", "train.progress=false"]), run_dir)
        _, model, data = load_run(run_dir)
        out[preset] = (model, data.test.x[:80], data.test.y[:80])
    return out


def _acc(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((Predictive(model)(x).argmax(1) == y).float().mean())


def test_the_predictive_averages_probabilities_over_fresh_draws_whatever_the_mode(trained):
    vib, x, _ = trained["vib-digits"]
    p = Predictive(vib, n_samples=12)
    torch.manual_seed(3)
    got = p(x[:4])
    torch.manual_seed(3)
    logits = vib.sample_logits(x[:4], 12)
    expected = torch.log(torch.softmax(logits, -1).mean(0))
    assert torch.allclose(got, expected, atol=1e-5)
    p.train()
    assert not vib.training  # the wrapped model stays in evaluation mode
    assert p.stochastic and not torch.equal(p(x[:4]), p(x[:4]))  # the noise stays on
    mean = Predictive(vib, mode="mean")
    assert not mean.stochastic and torch.equal(mean(x[:4]), mean(x[:4]))
    assert torch.allclose(mean(x[:4]), torch.log_softmax(vib.mean_logits(x[:4]), -1))


def test_the_predictive_refuses_models_without_logits_and_bad_arguments():
    class Reconstructs(nn.Module):
        def forward(self, x):
            return {"reconstruction": x}

    with pytest.raises(TypeError, match="not class logits"):
        Predictive(Reconstructs())(torch.zeros(2, 3))
    with pytest.raises(ConfigError, match="'mode'"):
        Predictive(nn.Linear(3, 2), mode="median")
    with pytest.raises(ConfigError, match="'n_samples'"):
        Predictive(nn.Linear(3, 2), n_samples=0)
    with pytest.raises(ConfigError, match="'model'"):
        Predictive(lambda x: x)  # type: ignore[arg-type]


def test_the_attack_losses():
    lp = torch.log(torch.tensor([[0.7, 0.2, 0.1]]))
    y, t = torch.tensor([0]), torch.tensor([2])
    assert attack_loss(lp, y, "ce").item() == pytest.approx(-math.log(0.7))
    assert attack_loss(lp, y, "margin").item() == pytest.approx(math.log(0.2 / 0.7))
    assert attack_loss(lp, y, "ce", t).item() == pytest.approx(math.log(0.1))
    assert attack_loss(lp, y, "margin", t).item() == pytest.approx(math.log(0.1 / 0.7))


def test_fgsm_moves_every_input_by_eps_along_the_sign_of_the_loss_gradient():
    torch.manual_seed(0)
    model = nn.Linear(5, 2)
    x, y = torch.zeros(3, 5), torch.tensor([0, 1, 0])
    adv = fgsm(Predictive(model), x, y, 0.2, BOUNDS)
    w = model.weight.detach()
    for i in range(3):  # d(-log p_y)/dx has the sign of w_other - w_y
        direction = (w[1 - y[i]] - w[y[i]]).sign()
        assert torch.allclose(adv[i], 0.2 * direction)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_stays_in_its_ball_and_the_bounds_and_beats_fgsm(trained, norm):
    model, x, y = trained["deterministic-digits"]
    eps = 0.2 if norm == "linf" else 1.0
    adv = pgd(Predictive(model, 1), x, y, eps, norm, BOUNDS, steps=20)
    delta = (adv - x).flatten(1)
    size = delta.abs().amax(1) if norm == "linf" else delta.norm(dim=1)
    assert (size <= eps + 1e-5).all() and adv.min() >= -1 and adv.max() <= 1
    if norm == "linf":
        assert _acc(model, adv, y) <= _acc(model, fgsm(Predictive(model, 1), x, y, eps, BOUNDS),
                                           y)
        assert _acc(model, adv, y) < _acc(model, x, y) - 0.3


def test_our_pgd_and_foolboxs_agree_on_the_same_images(trained):
    model, x, y = trained["deterministic-digits"]
    p = Predictive(model, 1)
    ours = pgd(p, x, y, 0.1, "linf", BOUNDS, steps=20, random_start=False)
    theirs = foolbox_pgd_linf(p, x, y, 0.1, BOUNDS, steps=20)
    with torch.no_grad():
        fooled_ours, fooled_theirs = p(ours).argmax(1) != y, p(theirs).argmax(1) != y
    assert (fooled_ours == fooled_theirs).float().mean() >= 0.97
    assert fooled_ours.any()
    assert (ours - theirs).abs().max() <= 0.1 * 2 + 1e-6


def test_eot_averages_the_gradient_over_fresh_draws(trained):
    from ibkit.robustness.attacks import _gradient

    vib, x, y = trained["vib-digits"]
    single = Predictive(vib, 1)
    g1, g2 = (_gradient(single, x[:20], y[:20], "ce", None, 1) for _ in range(2))
    e1, e2 = (_gradient(single, x[:20], y[:20], "ce", None, 16) for _ in range(2))
    assert (e1 - e2).norm() < (g1 - g2).norm()


def test_the_square_attack_uses_scores_only_and_stays_in_the_ball(trained):
    model, x, y = trained["deterministic-digits"]
    adv = square_linf(Predictive(model, 1), x, y, 0.3, BOUNDS, queries=150)
    assert ((adv - x).abs().amax(dim=(1, 2, 3)) <= 0.3 + 1e-6).all()
    assert _acc(model, adv, y) < _acc(model, x, y) - 0.2
    assert torch.equal(adv, square_linf(Predictive(model, 1), x, y, 0.3, BOUNDS, queries=150))


def test_carlini_wagner_breaks_the_deterministic_model_and_never_counts_a_zero_image(trained):
    model, x, y = trained["deterministic-digits"]
    adv, found = carlini_wagner_l2(Predictive(model, 1), x[:30], y[:30], BOUNDS, steps=30,
                                   binary_search_steps=5, stepsize=0.3)
    assert found.float().mean() >= 0.9

    class Constant(nn.Module):  # never fooled: predicts class 0 whatever the input
        def forward(self, x):
            return torch.zeros(len(x), 10).index_fill(1, torch.tensor([0]), 5.0) + 0 * x.flatten(1)[:, :10]

    zeros = torch.zeros(4, dtype=torch.long)
    adv, found = carlini_wagner_l2(Constant(), x[:4], zeros, BOUNDS, steps=5,
                                   binary_search_steps=2)
    assert not found.any() and torch.equal(adv, x[:4])


def test_bad_attack_arguments_name_the_argument(trained):
    model, x, y = trained["deterministic-digits"]
    with pytest.raises(ConfigError, match="'eps'"):
        fgsm(Predictive(model), x, y, -0.1)
    with pytest.raises(ConfigError, match="'norm'"):
        pgd(Predictive(model), x, y, 0.1, "l1")
    with pytest.raises(ConfigError, match="'loss'"):
        pgd(Predictive(model), x, y, 0.1, loss="hinge")
    with pytest.raises(ConfigError, match="eps_linf"):
        AttackConfig(eps_linf=(-0.1,))


def test_the_evaluation_of_a_deterministic_and_a_stochastic_model(trained):
    det = evaluate_robustness(*trained["deterministic-digits"], BOUNDS, QUICK)
    ways = {r["gradient"] for r in det.rows if r["attack"] == "pgd"}
    assert ways == {"exact"} and "eot_beats_single_draw" not in det.checks
    clean = det.rows[0]["robust_acc"]
    for eps in (0.1, 0.3):
        attacked = [r["robust_acc"] for r in det.rows if r["eps"] == eps and r["norm"] == "linf"
                    and r["attack"] != "worst-case"]
        worst = [r["robust_acc"] for r in det.rows if r["attack"] == "worst-case"
                 and r["eps"] == eps][0]
        assert worst <= min(attacked) <= clean
    cw = [r for r in det.rows if r["attack"] == "cw-l2"][0]
    assert cw["robust_acc"] <= 0.1  # the paper: 0 % for the deterministic model
    assert det.norms[0]["l2_median"] > 0
    vib = evaluate_robustness(*trained["vib-digits"], BOUNDS, QUICK)
    ways = {r["gradient"] for r in vib.rows if r["attack"] == "pgd" and r["norm"] == "linf"}
    assert ways == {"single-draw", "eot", "transfer-mean"}
    assert {"eot_beats_single_draw", "white_box_beats_transfer",
            "cw_white_box_beats_transfer"} <= set(vib.checks)
    assert set(vib.seconds) >= {"square", "cw-l2 (predictive)"}


def _rows(pgd_acc, fgsm_acc, square_acc, eot_acc=None, single_acc=None):
    rows = [{"attack": "clean", "gradient": "none", "norm": "", "eps": 0.0, "robust_acc": 1.0}]
    for i, eps in enumerate((0.1, 0.3)):
        way = "eot" if eot_acc is not None else "exact"
        rows += [{"attack": "pgd", "gradient": way, "norm": "linf", "eps": eps,
                  "robust_acc": (eot_acc or pgd_acc)[i]},
                 {"attack": "fgsm", "gradient": way, "norm": "linf", "eps": eps,
                  "robust_acc": fgsm_acc[i]},
                 {"attack": "square", "gradient": "none", "norm": "linf", "eps": eps,
                  "robust_acc": square_acc[i]}]
        if single_acc is not None:
            rows.append({"attack": "pgd", "gradient": "single-draw", "norm": "linf", "eps": eps,
                         "robust_acc": single_acc[i]})
    return rows


def test_the_sanity_checks_flag_what_they_should():
    good = sanity_checks(_rows([0.5, 0.0], [0.6, 0.2], [0.55, 0.1]), 1000)
    assert all(c["passed"] for c in good.values())
    assert not sanity_checks(_rows([0.5, 0.3], [0.6, 0.4], [0.6, 0.4]), 1000)[
        "accuracy_falls_to_zero"]["passed"]
    obf = sanity_checks(_rows([0.5, 0.0], [0.6, 0.2], [0.2, 0.0]), 1000)
    assert not obf["gradient_free_not_better"]["passed"]
    assert "obfuscation" in obf["gradient_free_not_better"]["detail"]
    assert not sanity_checks(_rows([0.5, 0.0], [0.4, 0.0], [0.6, 0.1]), 1000)[
        "iterative_beats_single_step"]["passed"]
    eot_worse = sanity_checks(_rows(None, [0.6, 0.1], [0.6, 0.1], eot_acc=[0.5, 0.0],
                                    single_acc=[0.3, 0.0]), 1000)
    assert not eot_worse["eot_beats_single_draw"]["passed"]


def test_the_ceb_backward_kl_is_the_expectation_of_the_log_ratio():
    from ibkit.models import CEBClassifier

    torch.manual_seed(0)
    model = CEBClassifier(6, (8,), 3, 4, std_offset=0.0)
    x, y = torch.randn(5, 6), torch.tensor([0, 1, 2, 3, 1])
    mean, std = model.bottleneck.encode(model.encoder(x))
    kl = model.backward_kl_nats(mean, std, y)
    q = torch.distributions.Normal(mean, std)
    b = torch.distributions.Normal(model.backward_means[y], model.backward_log_stds[y].exp())
    z = q.sample((20000,))
    mc = (q.log_prob(z) - b.log_prob(z)).sum(-1).mean(0)
    assert torch.allclose(kl, mc, rtol=0.05, atol=0.02)


def test_the_ceb_objective_is_ce_plus_beta_times_the_residual_bits():
    from ibkit.models import CEBClassifier
    from ibkit.objectives import CEBObjective

    torch.manual_seed(0)
    model = CEBClassifier(6, (8,), 3, 4).train()
    x, y = torch.randn(5, 6), torch.tensor([0, 1, 2, 3, 1])
    step = CEBObjective(0.3, 2.0)(model, x, y)
    m = step.metrics
    assert step.loss.item() == pytest.approx((m["class_loss_bits"] + 0.3 * m["residual_bits"]).item(),
                                             rel=1e-5)
    assert m["izy_lower_bits"].item() == pytest.approx(2.0 - m["class_loss_bits"].item(), rel=1e-5)
    step.loss.backward()
    assert model.backward_means.grad is not None and model.backward_means.grad.abs().sum() > 0


def test_load_run_refuses_a_folder_without_a_finished_run(tmp_path: Path):
    with pytest.raises(ConfigError, match="no finished run"):
        load_run(tmp_path)
