"""Variational bounds from a VIB model agree with the training objective's parts."""

from __future__ import annotations

import math

import pytest
import torch

from ibkit.estimators import VariationalBounds
from ibkit.models import VIBClassifier
from ibkit.objectives import label_entropy_bits


def test_bounds_match_the_model_terms():
    torch.manual_seed(0)
    model = VIBClassifier(5, (8,), 3, 4, std_offset=0.0)
    x, y = torch.randn(200, 5), torch.randint(0, 4, (200,))
    izx = VariationalBounds(model, "I(Z;X)").estimate(x, y)
    izy = VariationalBounds(model, "I(Z;Y)", n_samples=64).estimate(x, y)
    with torch.no_grad():
        out = model.bottleneck(model.encoder(x))
    assert izx.kind == "upper_bound" and izy.kind == "lower_bound"
    assert izx.value_bits == pytest.approx(float(out.kl_nats.mean() / math.log(2)), rel=1e-5)
    # an untrained decoder gives a lower bound near or below 0, never above H(Y)
    assert izy.value_bits <= label_entropy_bits(y)
    assert model.training  # the estimator restores the mode it found


def test_bad_quantity():
    model = VIBClassifier(5, (8,), 3, 4)
    with pytest.raises(ValueError, match="'quantity' parameter"):
        VariationalBounds(model, "I(X;Y)").estimate(torch.randn(10, 5), torch.zeros(10).long())
