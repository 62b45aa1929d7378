"""Variational bounds from a trained Deep VIB model (Alemi et al. 2017).

- I(Z;X) <= E_x KL[p(z|x) || r(z)] (upper bound; r the model's prior);
- I(Z;Y) >= H(Y) - E[-log2 q(y|z)] (lower bound; q the model's decoder, H(Y) from the
  label frequencies of the evaluated sample).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ibkit._errors import param_error
from ibkit._units import LN2
from ibkit.estimators.base import Estimate, MIEstimator
from ibkit.objectives import label_entropy_bits

QUANTITIES = ("I(Z;X)", "I(Z;Y)")


class VariationalBounds(MIEstimator):
    """The VIB bounds of a trained :class:`ibkit.models.VIBClassifier`, evaluated on (x, y).

    Args:
        model: the trained model (put in evaluation mode while estimating).
        quantity: ``"I(Z;X)"`` (upper bound, y unused but checked) or ``"I(Z;Y)"`` (lower bound).
        n_samples: samples of z per example for the class-loss expectation.
        batch_size: evaluation batch size.
    """

    name = "variational"
    y_kind = "discrete"

    def __init__(self, model: torch.nn.Module, quantity: str = "I(Z;X)", n_samples: int = 12,
                 batch_size: int = 1000) -> None:
        self.model = model
        self.quantity = quantity
        self.n_samples = n_samples
        self.batch_size = batch_size

    def check_params(self) -> None:
        """``quantity`` one of :data:`QUANTITIES`."""
        if self.quantity not in QUANTITIES:
            raise param_error("quantity", type(self).__name__, f"one of {QUANTITIES}", self.quantity)

    def works_in_plane(self) -> bool:
        """False: the bounds come from a VIB model's inputs, not from a layer's values (the
        VIB recipe records them per epoch as its plane)."""
        return False

    @torch.no_grad()
    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        model: Any = self.model  # a VIBClassifier: encoder, bottleneck, decoder
        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        dtype = next(model.parameters()).dtype
        kl, ce = [], []
        try:
            for i in range(0, len(x), self.batch_size):
                xb = x[i : i + self.batch_size].to(device, dtype)
                yb = y[i : i + self.batch_size].to(device)
                out = model.bottleneck(model.encoder(xb), n_samples=self.n_samples)
                logits = model.decoder(out.z)  # (S, B, C)
                s, b, c = logits.shape
                ce.append(F.cross_entropy(logits.reshape(s * b, c), yb.repeat(s), reduction="none")
                          .reshape(s, b).mean(0))
                kl.append(out.kl_nats)
        finally:
            model.train(was_training)
        kl_bits, ce_bits = torch.cat(kl) / LN2, torch.cat(ce) / LN2  # (N,)
        n = math.sqrt(len(kl_bits))
        if self.quantity == "I(Z;X)":
            return Estimate(float(kl_bits.mean()), "upper_bound", "variational-izx",
                            float(kl_bits.std() / n), {"n_samples": self.n_samples})
        h_y = label_entropy_bits(y.cpu())
        return Estimate(h_y - float(ce_bits.mean()), "lower_bound", "variational-izy",
                        float(ce_bits.std() / n), {"n_samples": self.n_samples, "H_Y_bits": h_y})
