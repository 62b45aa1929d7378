"""Pruning gated units through ``torch.nn.utils.prune`` masks."""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torch.nn.utils import prune

from ibkit._errors import ConfigError
from ibkit.compress.gating import gates


def prune_gates(model: nn.Module, threshold: float | None = None) -> dict[str, tuple[int, int]]:
    """Mask every gate's units with ln alpha < ``threshold`` (each gate's own when None).

    The mask goes on the gate's ``mu`` by :func:`torch.nn.utils.prune.custom_from_mask`
    (``mu_orig`` and ``mu_mask`` in the state dict). A gate whose every unit falls below
    the threshold keeps its most informative unit, with a warning: an exported model never
    loses a whole layer.

    Returns:
        gate name -> (units kept, units).
    """
    out = {}
    found = gates(model)
    if not found:
        raise ConfigError("prune_gates: the model has no InformationGate to prune (add them "
                          "with add_gates and train with VIBNetObjective first).")
    for name, gate in found.items():
        t = gate.threshold if threshold is None else threshold
        with torch.no_grad():
            log_alpha = gate.log_alpha()
            keep = log_alpha >= t
            if not keep.any():
                best = int(log_alpha.argmax())
                warnings.warn(f"Every unit of gate {name!r} has ln alpha < {t}; keeping unit "
                              f"{best} (ln alpha {float(log_alpha[best]):.2f}) so the layer "
                              "survives.", RuntimeWarning, stacklevel=2)
                keep[best] = True
        if prune.is_pruned(gate):
            prune.remove(gate, "mu")
        prune.custom_from_mask(gate, "mu", keep.to(gate.mu.dtype))
        out[name] = (int(keep.sum()), gate.num_units)
    return out
