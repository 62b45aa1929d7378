"""The neural estimators' parts exactly: the separable critic's scale and default width, and
SMILE's default clip (mutants of neural.py)."""

from __future__ import annotations

import math

import pytest
import torch

from ibkit.estimators.neural import ConcatCritic, SeparableCritic, _mlp, bound_nats


def test_the_separable_critic_scales_by_one_over_root_embed_and_embeds_32_by_default():
    torch.manual_seed(0)
    critic = SeparableCritic(3, 2, hidden=8, embed=16)
    x, y = torch.randn(5, 3), torch.randn(5, 2)
    expected = critic.g(x) @ critic.h(y).T / 4.0
    assert torch.allclose(critic(x, y), expected, atol=1e-6)
    assert critic.scale == 0.25
    assert SeparableCritic(3, 2, hidden=8).g[-1].out_features == 32


def test_smile_clips_the_off_diagonal_scores_at_5_by_default():
    scores = torch.tensor([[1.0, 5.5, -7.0], [6.0, 2.0, 0.5], [-5.5, 4.0, 0.0]])
    off = torch.tensor([5.0, -5.0, 5.0, 0.5, -5.0, 4.0])  # the off-diagonal, clipped to [-5, 5]
    expected = 1.0 - (torch.logsumexp(off, 0) - math.log(6))
    assert torch.allclose(bound_nats(scores, "smile"), expected)
    assert torch.equal(bound_nats(scores, "smile"), bound_nats(scores, "smile", tau=5.0))
    assert not torch.equal(bound_nats(scores, "smile"), bound_nats(scores, "smile", tau=6.0))


def test_the_concat_critic_scores_x_i_against_y_j_from_one_output_unit():
    torch.manual_seed(0)
    critic = ConcatCritic(3, 2, hidden=8)
    x, y = torch.randn(4, 3), torch.randn(4, 2)
    with torch.no_grad():
        scores = critic(x, y)
        assert scores.shape == (4, 4) and critic.f[-1].out_features == 1
        for i in range(4):
            for j in range(4):
                one = float(critic.f(torch.cat([x[i], y[j]])))
                assert float(scores[i, j]) == pytest.approx(one, abs=1e-6)


def test_the_critics_mlp_has_two_hidden_relu_layers():
    layers = list(_mlp(3, 8, 2))
    assert [type(m).__name__ for m in layers] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [(m.in_features, m.out_features) for m in layers if hasattr(m, "in_features")] == [
        (3, 8), (8, 8), (8, 2)]


def test_smile_clips_from_below_too():
    scores = torch.full((3, 3), -10.0).fill_diagonal_(1.0)
    assert float(bound_nats(scores, "smile")) == pytest.approx(1.0 + 5.0, abs=1e-6)
    assert float(bound_nats(scores, "mine")) == pytest.approx(1.0 + 10.0, abs=1e-6)
