"""NeuralEstimator exactly: its defaults and messages, the whole fit recomputed by a slow
reference written from the module's formulas, MINE's moving average and its gradient, the
early stop, the ceiling rule and the thread count (mutants of neural.py)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ibkit._errors import ConfigError
from ibkit.estimators import NeuralEstimator
from ibkit.estimators.neural import ConcatCritic, SeparableCritic

LN2 = math.log(2.0)


def test_the_defaults_are_the_documented_ones():
    assert NeuralEstimator().get_params() == {
        "bound": "infonce", "critic": "separable", "hidden": 64, "batch_size": 128, "lr": 1e-3,
        "max_steps": 3000, "eval_every": 100, "patience": 5, "holdout": 0.3, "ma_rate": 0.01,
        "random_state": 0, "tau": 5.0}


@pytest.mark.parametrize(("param", "value", "allowed"), [
    ("bound", "dv", "one of ('infonce', 'nwj', 'mine', 'smile')"),
    ("critic", "bilinear", "one of ('separable', 'concat')"),
    ("holdout", 0.0, "a float in (0, 1)"),
    ("holdout", 1.0, "a float in (0, 1)"),
    ("batch_size", 1, "an int >= 2"),
    ("tau", 0.0, "a float > 0"),
])
def test_each_bad_parameter_is_named_with_what_is_allowed(param, value, allowed):
    message = (f"The '{param}' parameter of NeuralEstimator must be {allowed}. "
               f"Got {value!r} instead.")
    with pytest.raises(ConfigError, match=re.escape(message)):
        NeuralEstimator(**{param: value}).check_params()


def test_the_edges_just_inside_are_allowed():
    NeuralEstimator(holdout=0.01, batch_size=2, tau=1e-6).check_params()
    NeuralEstimator(holdout=0.99).check_params()


# -- the slow reference ---------------------------------------------------------------------

def _off(scores: torch.Tensor) -> torch.Tensor:
    k = len(scores)
    return torch.stack([scores[i, j] for i in range(k) for j in range(k) if i != j])


def _value(scores: torch.Tensor, bound: str, tau: float) -> torch.Tensor:
    k, joint, off = len(scores), scores.diagonal(), _off(scores)
    if bound == "infonce":
        return (joint - torch.logsumexp(scores, 1) + math.log(k)).mean()
    if bound == "nwj":
        return joint.mean() - torch.exp(off - 1.0).mean()
    if bound == "smile":
        off = off.clamp(-tau, tau)
    return joint.mean() - torch.log(torch.exp(off).mean())


def _loss(scores: torch.Tensor, p: dict, state: dict) -> torch.Tensor:
    joint, off = scores.diagonal(), _off(scores)
    if p["bound"] == "smile":  # the Jensen-Shannon objective, negated
        return F.softplus(-joint).mean() + F.softplus(off).mean()
    if p["bound"] != "mine":
        return -_value(scores, p["bound"], p["tau"])
    denom = off.exp().mean()
    d = denom.detach()
    state["ma"] = d if "ma" not in state else (1 - p["ma_rate"]) * state["ma"] + p["ma_rate"] * d
    return -(joint.mean() - denom / state["ma"])


def _by_hand(x: torch.Tensor, y: torch.Tensor, **params) -> tuple[float, float | None, int, int]:
    p = {**NeuralEstimator().get_params(), **params}
    if y.dim() == 1:
        y = F.one_hot(y - y.min()).double()
    g = torch.Generator().manual_seed(p["random_state"])
    x, y = x.float(), y.float()
    x = (x - x.mean(0)) / x.std(0).clamp_min(1e-8)
    y = (y - y.mean(0)) / y.std(0).clamp_min(1e-8)
    perm = torch.randperm(len(x), generator=g)
    n_test = max(2, int(p["holdout"] * len(x)))
    test, train = perm[:n_test], perm[n_test:]
    with torch.random.fork_rng():
        torch.manual_seed(p["random_state"])
        kind = SeparableCritic if p["critic"] == "separable" else ConcatCritic
        critic = kind(x.shape[1], y.shape[1], p["hidden"])
    opt = torch.optim.Adam(critic.parameters(), lr=p["lr"])
    k, k_eval, state = min(p["batch_size"], len(train)), min(p["batch_size"], len(test)), {}
    best, best_vals, stale, step = -math.inf, [0.0], 0, 0
    for step in range(1, p["max_steps"] + 1):
        idx = train[torch.randint(len(train), (k,), generator=g)]
        loss = _loss(critic(x[idx], y[idx]), p, state)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % p["eval_every"]:
            continue
        xt, yt = x[test], y[test]
        with torch.no_grad():
            vals = [float(_value(critic(xt[i:i + k_eval], yt[i:i + k_eval]), p["bound"], p["tau"]))
                    for i in range(0, n_test - k_eval + 1, k_eval)]
        if sum(vals) / len(vals) > best:
            best, best_vals, stale = sum(vals) / len(vals), vals, 0
        else:
            stale += 1
            if stale == p["patience"]:
                break
    n = len(best_vals)
    se = float(np.std(best_vals)) / math.sqrt(n) / LN2 if n > 1 else None
    value = best if p["bound"] in ("mine", "smile") else max(best, 0.0)
    return value / LN2, se, step, n


def _pairs(n: int = 160, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    # one column of std 3, one of std 0.4: the standardisation is seen on both sides of 1
    x = torch.randn(n, 2, generator=g, dtype=torch.float64) * torch.tensor([3.0, 0.4]) + 1.0
    y = x[:, :1] * 0.8 + 0.5 * torch.randn(n, 1, generator=g, dtype=torch.float64)
    return x, y


@pytest.mark.parametrize("params", [
    {"bound": "infonce"},
    {"bound": "nwj", "critic": "concat"},
    {"bound": "mine", "ma_rate": 0.2},
    {"bound": "smile", "tau": 0.7, "holdout": 0.45},
    {"bound": "infonce", "patience": 1, "lr": 3e-2},
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_the_whole_fit_equals_the_reference(params):
    x, y = _pairs()
    settings = {"hidden": 12, "batch_size": 16, "max_steps": 48, "eval_every": 6,
                "random_state": 3, **params}
    est = NeuralEstimator(**settings).estimate(x, y)
    value, se, steps, batches = _by_hand(x, y, **settings)
    assert est.value_bits == pytest.approx(value, rel=1e-5, abs=1e-6)
    assert est.stderr_bits == pytest.approx(se, rel=1e-4, abs=1e-7)
    assert (est.details["steps"], est.details["held_out_batches"]) == (steps, batches)
    assert est.kind == "lower_bound" and est.method == f"neural-{settings['bound']}"
    assert {k: est.details[k] for k in settings} == settings
    assert est.details["caveat"] == (
        "a lower bound in expectation only: the best of several held-out evaluations, it can "
        "exceed the true MI by a few standard errors (selection and sampling error)")


def test_a_small_sample_holds_out_two_rows_at_least():
    x, y = _pairs(20)
    settings = {"hidden": 6, "batch_size": 8, "max_steps": 12, "eval_every": 4, "holdout": 0.05}
    est = NeuralEstimator(**settings).estimate(x, y)
    assert est.value_bits == pytest.approx(_by_hand(x, y, **settings)[0], rel=1e-5, abs=1e-6)
    assert est.details["held_out_batches"] == 1


def test_labels_are_one_hot_from_their_smallest_value():
    x, _ = _pairs(120)
    labels = (x[:, 0] > 1.0).long() + 3  # labels 3 and 4
    settings = {"hidden": 8, "batch_size": 12, "max_steps": 24, "eval_every": 6}
    shifted = NeuralEstimator(**settings).estimate(x, labels)
    assert shifted.value_bits == NeuralEstimator(**settings).estimate(x, labels - 3).value_bits
    assert shifted.value_bits == pytest.approx(_by_hand(x, labels, **settings)[0], rel=1e-5,
                                               abs=1e-6)


def test_mine_keeps_a_moving_average_of_the_denominator_and_divides_its_gradient_by_it():
    est = NeuralEstimator(bound="mine", ma_rate=0.25)
    first = torch.tensor([[1.0, 0.0], [2.0, 3.0]])
    state: dict = {}
    loss = est._loss(first, state)
    denom1 = (math.exp(0.0) + math.exp(2.0)) / 2
    assert float(state["ma"]) == pytest.approx(denom1)
    assert float(loss) == pytest.approx(-(2.0 - 1.0))  # denom / ma is 1 on the first step
    second = torch.tensor([[0.5, 1.0], [-1.0, 1.5]], requires_grad=True)
    loss = est._loss(second, state)
    denom2 = (math.exp(1.0) + math.exp(-1.0)) / 2
    ma = 0.75 * denom1 + 0.25 * denom2
    assert float(state["ma"]) == pytest.approx(ma)
    assert float(loss.detach()) == pytest.approx(-(1.0 - denom2 / ma))
    loss.backward()
    expected = torch.tensor([[-0.5, math.exp(1.0) / 2 / ma], [math.exp(-1.0) / 2 / ma, -0.5]])
    assert torch.allclose(second.grad, expected)


def _with_held_out(monkeypatch, values: list[list[float]]) -> list[int]:
    """Make the held-out evaluations return ``values`` in turn; return the steps they ran at."""
    calls: list[int] = []
    it = iter(values)

    def fake(self, critic, x, y):
        calls.append(len(calls) + 1)
        return next(it)

    monkeypatch.setattr(NeuralEstimator, "_held_out", fake)
    return calls


def test_training_stops_after_patience_evaluations_without_improvement(monkeypatch):
    x, y = _pairs(60)
    calls = _with_held_out(monkeypatch, [[1.0], [2.0], [2.0], [1.5], [9.0]])
    est = NeuralEstimator(bound="nwj", hidden=4, batch_size=8, max_steps=1000, eval_every=3,
                          patience=2).estimate(x, y)
    assert len(calls) == 4 and est.details["steps"] == 12
    assert est.value_bits == 2.0 / LN2 and est.stderr_bits is None
    calls = _with_held_out(monkeypatch, [[1.0], [0.5], [3.0, 1.0], [0.0], [0.0]])
    est = NeuralEstimator(bound="mine", hidden=4, batch_size=8, max_steps=1000, eval_every=1,
                          patience=2).estimate(x, y)
    assert len(calls) == 5 and est.details["steps"] == 5
    assert est.value_bits == 2.0 / LN2 and est.details["held_out_batches"] == 2
    assert est.stderr_bits == pytest.approx(1.0 / math.sqrt(2) / LN2)


def test_a_negative_best_is_clipped_for_infonce_and_nwj_but_kept_for_mine_and_smile(monkeypatch):
    x, y = _pairs(60)
    for bound, expected in [("infonce", 0.0), ("nwj", 0.0), ("mine", -0.5), ("smile", -0.5)]:
        _with_held_out(monkeypatch, [[-0.5]] * 3)
        est = NeuralEstimator(bound=bound, hidden=4, batch_size=8, max_steps=3,
                              eval_every=1).estimate(x, y)
        assert est.value_bits == expected / LN2, bound


def test_infonce_is_at_its_ceiling_from_nine_tenths_of_ln_k(monkeypatch):
    x, y = _pairs(100)  # 30 held out; K = min(batch_size, 30)
    settings = {"hidden": 4, "batch_size": 20, "max_steps": 1, "eval_every": 1}
    ceiling = math.log(20)
    _with_held_out(monkeypatch, [[0.9 * ceiling]])
    with pytest.warns(RuntimeWarning, match=re.escape(
            f"NeuralEstimator: InfoNCE reads {0.9 * ceiling:.3f} nats, at its ceiling ln K = "
            f"{ceiling:.3f} (K = 20 pairs per batch): the true MI may be much larger. Use a "
            "larger batch_size or bound='smile'.")):
        est = NeuralEstimator(**settings).estimate(x, y)
    assert est.details["at_ceiling"] is True
    _with_held_out(monkeypatch, [[0.9 * ceiling - 1e-9]])
    assert NeuralEstimator(**settings).estimate(x, y).details["at_ceiling"] is False
    _with_held_out(monkeypatch, [[0.9 * math.log(30)]])  # K is capped by the 30 held out
    with pytest.warns(RuntimeWarning, match=re.escape("(K = 30 pairs per batch)")):
        est = NeuralEstimator(**{**settings, "batch_size": 64}).estimate(x, y)
    assert est.details["at_ceiling"] is True
    _with_held_out(monkeypatch, [[5.0]])
    assert "at_ceiling" not in NeuralEstimator(**{**settings, "bound": "nwj"}).estimate(
        x, y).details


def test_the_held_out_batches_are_consecutive_blocks_of_k(monkeypatch):
    seen: list[int] = []
    est = NeuralEstimator(bound="nwj", batch_size=7)
    torch.manual_seed(0)
    critic = SeparableCritic(2, 1, 4)

    def scores(c, x, y):
        seen.append(len(x))
        return c(x, y)

    monkeypatch.setattr("ibkit.estimators.neural._scores", scores)
    x, y = torch.randn(30, 2), torch.randn(30, 1)
    vals = est._held_out(critic, x, y)
    assert seen == [7, 7, 7, 7] and len(vals) == 4
    with torch.no_grad():
        assert vals[3] == pytest.approx(float(_value(critic(x[21:28], y[21:28]), "nwj", 5.0)))


def test_the_fit_runs_on_one_thread_and_restores_the_count(monkeypatch):
    seen: list[int] = []
    original = NeuralEstimator._fit_and_evaluate

    def spy(self, x, y):
        seen.append(torch.get_num_threads())
        return original(self, x, y)

    monkeypatch.setattr(NeuralEstimator, "_fit_and_evaluate", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x, y = _pairs(60)
        NeuralEstimator(hidden=4, batch_size=8, max_steps=2, eval_every=1).estimate(x, y)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_ceiling_warning_points_at_the_callers_line(monkeypatch):
    x, y = _pairs(100)
    _with_held_out(monkeypatch, [[0.95 * math.log(20)]])
    est = NeuralEstimator(hidden=4, batch_size=20, max_steps=1, eval_every=1)
    with pytest.warns(RuntimeWarning, match="at its ceiling") as caught:
        est.estimate(x, y)  # the line the warning must name
    assert caught[0].filename == __file__


@pytest.mark.parametrize(("max_steps", "eval_every", "name"), [
    (50, 100, "max_steps"), (0, 1, "max_steps"), (10, 0, "eval_every"), (10, True, "eval_every"),
    (10.0, 5, "max_steps")])
def test_too_few_steps_for_one_evaluation_are_refused_not_minus_infinity(max_steps, eval_every,
                                                                          name):
    """Before: max_steps < eval_every evaluated nothing, and MINE returned -inf bits silently."""
    x, y = _pairs(60)
    est = NeuralEstimator(bound="mine", hidden=4, max_steps=max_steps, eval_every=eval_every)
    with pytest.raises(ConfigError, match=f"The '{name}' parameter of NeuralEstimator must be"):
        est.estimate(x, y)
    assert math.isfinite(NeuralEstimator(bound="mine", hidden=4, batch_size=8, max_steps=5,
                                         eval_every=5).estimate(x, y).value_bits)
