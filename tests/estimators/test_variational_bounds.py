"""Variational bounds from a VIB model agree with the training objective's parts."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

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


def test_bad_quantity_and_the_defaults():
    model = VIBClassifier(5, (8,), 3, 4)
    with pytest.raises(ValueError, match=r"^The 'quantity' parameter of VariationalBounds must be "
                                         r"one of \('I\(Z;X\)', 'I\(Z;Y\)'\)\. "
                                         r"Got 'I\(X;Y\)' instead\.$"):
        VariationalBounds(model, "I(X;Y)").estimate(torch.randn(10, 5), torch.zeros(10).long())
    default = VariationalBounds(model)
    assert default.get_params() == {"model": model, "quantity": "I(Z;X)", "n_samples": 12,
                                    "batch_size": 1000}
    est = default.estimate(torch.randn(10, 5), torch.zeros(10).long())
    assert est.kind == "upper_bound" and est.method == "variational-izx"
    assert est.details == {"n_samples": 12}
    assert default.works_in_plane() is False  # it needs the VIB model, not a layer's values


def test_izy_bound_is_label_entropy_minus_mean_cross_entropy_in_bits_exactly():
    torch.manual_seed(0)
    model = VIBClassifier(5, (8,), 3, 4, std_offset=0.0)
    x, y = torch.randn(200, 5), torch.randint(0, 4, (200,))
    torch.manual_seed(7)
    izy = VariationalBounds(model, "I(Z;Y)", n_samples=5).estimate(x, y)
    torch.manual_seed(7)  # the same draws of z, by hand
    model.eval()
    with torch.no_grad():
        logits = model.decoder(model.bottleneck(model.encoder(x), n_samples=5).z)  # (5, 200, 4)
        ce_nats = F.cross_entropy(logits.reshape(1000, 4), y.repeat(5))
    h_y = label_entropy_bits(y)
    assert izy.value_bits == pytest.approx(h_y - float(ce_nats) / math.log(2), abs=1e-6)
    assert izy.details["H_Y_bits"] == pytest.approx(h_y)
