"""Putting information gates into a sequential model, and VIBNet's training objective (*)."""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ibkit._errors import ConfigError
from ibkit._units import LN2
from ibkit.compress.graph import add_gates_anywhere, gate_hooks
from ibkit.layers import InformationGate
from ibkit.objectives import Objective, StepOutput
from ibkit.plane.hooks import ACTIVATION_TYPES

INPUT = "input"
"""Gate name for the model's input (after a leading Flatten, if any): pixels for an MLP."""
GATEABLE: tuple[type[nn.Module], ...] = (
    nn.Linear, nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.BatchNorm1d, nn.BatchNorm2d,
    nn.Flatten, *ACTIVATION_TYPES,
)


def gate_name(after: str) -> str:
    """The name of the gate placed after module ``after``."""
    return f"{after}_gate"


def add_gates(model: nn.Module, after: Sequence[str], example: torch.Tensor,
              threshold: float = 0.0) -> nn.Module:
    """A copy of ``model`` with an :class:`InformationGate` after each module named in ``after``.

    In an ``nn.Sequential`` naming its own children, each gate is inserted into the sequence
    as ``<module>_gate``, and ``"input"`` gates the model's input (after a leading
    ``Flatten``). In any other model (residual blocks, concatenations, nested containers),
    names are dotted module names as in ``named_modules()`` (``"layer1.0.relu1"``); the
    gate ``<module>_gate`` is registered beside the module and applied by a forward hook on
    it (see :mod:`ibkit.compress.graph`). The gate's size is read from the module's output
    on ``example``: features of ``(B, n)`` outputs, channels of ``(B, C, H, W)`` outputs.

    Raises:
        ConfigError: a name is unknown, the module is of a type gates do not support (see
            :data:`GATEABLE`), or (in a sequence) no layer after it could lose its units.
    """
    children_names = [n for n, _ in model.named_children()]
    nested = [a for a in after if a not in children_names and a in dict(model.named_modules())]
    if not isinstance(model, nn.Sequential) or nested:
        if INPUT in after:
            raise ConfigError(f"The {INPUT!r} gate needs an nn.Sequential model; in a "
                              f"{type(model).__name__}, gate the first module after the input.")
        return add_gates_anywhere(model, after, example, threshold, GATEABLE)
    model = copy.deepcopy(model)  # the gated model shares no module with the dense one
    children = OrderedDict(model.named_children())
    unknown = [a for a in after if a != INPUT and a not in children]
    if unknown or not after:
        raise ConfigError(f"The 'gates' parameter names {unknown or list(after)}; allowed: "
                          f"{INPUT!r} or module names {list(children)}.")
    for name in after:
        if name != INPUT and not isinstance(children[name], GATEABLE):
            raise ConfigError(
                f"Cannot gate module {name!r} of type {type(children[name]).__name__}. Gates "
                f"follow {', '.join(sorted({t.__name__ for t in GATEABLE}))} modules."
            )
    _check_exportable(children, after)
    sizes = _output_sizes(model, example)
    first = next(iter(children))
    input_after = first if isinstance(children[first], nn.Flatten) else None
    new: OrderedDict[str, nn.Module] = OrderedDict()
    if INPUT in after and input_after is None:
        new[gate_name(INPUT)] = InformationGate(example.shape[1], threshold)
    for name, module in children.items():
        new[name] = module
        if name in after or (INPUT in after and name == input_after):
            gname = gate_name(INPUT if name == input_after and INPUT in after else name)
            new[gname] = InformationGate(sizes[name], threshold)
            if name in after and name == input_after and INPUT in after:
                raise ConfigError(f"Gate either {INPUT!r} or {name!r}, not both: the same units.")
    return nn.Sequential(new).to(next(model.parameters()).device)


def _check_exportable(children: OrderedDict[str, nn.Module], after: Sequence[str]) -> None:
    """Refuse now the positions that :func:`ibkit.compress.export_pruned` would refuse after
    training: a gate with no Linear or Conv2d after it (its units could not be cut from a
    consumer), and a gate between a layer and its batch norm (it cannot be folded in)."""
    names = list(children)
    for name in after:
        if name == INPUT:
            continue
        rest = [children[n] for n in names[names.index(name) + 1:]]
        consumer = next((i for i, m in enumerate(rest) if isinstance(m, (nn.Linear, nn.Conv2d))),
                        None)
        if consumer is None:
            raise ConfigError(f"Cannot gate module {name!r}: no Linear or Conv2d follows it, so "
                              "its pruned units could not be removed (gate a hidden layer, not "
                              "the output).")
        norm = next((n for n, m in zip(names[names.index(name) + 1:], rest[:consumer],
                                       strict=False)
                     if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))), None)
        if norm is not None:
            raise ConfigError(f"Cannot gate module {name!r}: batch norm {norm!r} follows it, "
                              f"and a gate cannot be folded into it; gate {norm!r} instead.")


@torch.no_grad()
def _output_sizes(model: nn.Sequential, example: torch.Tensor) -> dict[str, int]:
    sizes, h = {}, example
    was = model.training
    model.eval()
    for name, module in model.named_children():
        h = module(h)
        sizes[name] = int(h.shape[1]) if h.dim() in (2, 4) else -1
    model.train(was)
    return sizes


def gates(model: nn.Module) -> dict[str, InformationGate]:
    """The gates of ``model`` by name, in order: ``<module>_gate`` for the gate after
    ``<module>`` (in a sequence, the gate's own name in it)."""
    hooked = {id(h.gate): gate_name(h.module_name) for _, _, h in gate_hooks(model)}
    return {hooked.get(id(m), n): m for n, m in model.named_modules()
            if isinstance(m, InformationGate)}


class VIBNetObjective(Objective):
    """VIBNet's objective (*) per example, in nats:

        CE(y, f(x)) + (1 / N) * sum_i gamma_i * sum_j ln(1 + alpha_ij)

    the paper's sum over the data set divided by its size N (gamma_i: compression strength
    of gate i, like VIB's beta: larger prunes more). Reports ``ce_bits``, ``kl_bits``
    (1/2 sum log2(1 + alpha), all gates) and ``units_kept``.

    Args:
        gamma: one gamma for every gate, or gate name -> gamma.
        n_train: N, the number of training examples.
        warmup_epochs: ramp every gamma linearly from 0 over this many epochs (the network
            first learns the task, as VIBNet starts from a trained network).
        gate_lr: learning rate of the gates' mu and log sigma^2 (None: the trainer's
            rate). The gates start at log sigma^2 = -9, so at a rate of 1e-3 a unit needs
            thousands of steps before it can be pruned; a larger gate rate prunes sooner.
    """

    def __init__(self, gamma: float | Mapping[str, float], n_train: int,
                 warmup_epochs: int = 0, gate_lr: float | None = None) -> None:
        values = gamma.values() if isinstance(gamma, Mapping) else [gamma]
        if not all(isinstance(g, (int, float)) and math.isfinite(g) and g >= 0 for g in values):
            raise ConfigError(f"The 'gamma' parameter of VIBNetObjective must be finite and "
                              f">= 0. Got {gamma!r} instead.")
        if not isinstance(n_train, int) or n_train < 1:
            raise ConfigError(f"The 'n_train' parameter of VIBNetObjective must be an int >= 1. "
                              f"Got {n_train!r} instead.")
        if gate_lr is not None and not (isinstance(gate_lr, (int, float)) and gate_lr > 0):
            raise ConfigError(f"The 'gate_lr' parameter of VIBNetObjective must be > 0 or None. "
                              f"Got {gate_lr!r} instead.")
        self.gamma = gamma
        self.gate_lr = gate_lr
        self.n_train = n_train
        self.warmup_epochs = warmup_epochs
        self.factor = 1.0 if warmup_epochs == 0 else 1.0 / warmup_epochs

    def on_epoch_start(self, epoch: int) -> None:
        """Set the warm-up factor for 0-based ``epoch``."""
        w = self.warmup_epochs
        self.factor = 1.0 if w == 0 else min(1.0, (epoch + 1) / w)

    def param_groups(self, model: nn.Module) -> list[dict]:
        """Optimizer groups: the network's weights, then the gates' parameters (at
        ``gate_lr`` when set, and never weight-decayed: their regularizer is the KL term);
        the engine's trainer builds its optimizer from these."""
        self.check_model(model)
        gate_ids = {id(p) for g in gates(model).values() for p in g.parameters()}
        params = [p for p in model.parameters() if p.requires_grad]
        weights = [p for p in params if id(p) not in gate_ids]
        gate_params = [p for p in params if id(p) in gate_ids]
        extra: dict = {"weight_decay": 0.0}
        if self.gate_lr is not None:
            extra["lr"] = float(self.gate_lr)
        return [{"params": weights}, {"params": gate_params, **extra}]

    def check_model(self, model: nn.Module) -> None:
        """ConfigError unless ``model`` has gates and every gate named in ``gamma`` is one of
        them (a typo such as ``"2"`` for ``"2_gate"`` would silently leave a gate at 0)."""
        names = list(gates(model))
        if not names:
            raise ConfigError("VIBNetObjective needs a model with InformationGate modules (see "
                              "add_gates); this one has none, so it would be plain cross-entropy.")
        if isinstance(self.gamma, Mapping):
            unknown = [k for k in self.gamma if k not in names]
            if unknown:
                raise ConfigError(f"The 'gamma' parameter of VIBNetObjective names {unknown}, "
                                  f"which are not gates of the model; its gates: {names}.")
        self._checked = id(model)

    def _gamma(self, name: str) -> float:
        return float(self.gamma.get(name, 0.0) if isinstance(self.gamma, Mapping) else self.gamma)

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
        if getattr(self, "_checked", None) != id(model):
            self.check_model(model)
        logits = model(x)
        ce = F.cross_entropy(logits, y)
        gs = gates(model)
        penalty = sum((self._gamma(n) * g.penalty_nats() for n, g in gs.items()),
                      torch.zeros((), device=x.device))
        with torch.no_grad():
            kl = sum((g.kl_bits() for g in gs.values()), torch.zeros((), device=x.device))
            kept = sum((g.mask().sum() for g in gs.values()), torch.zeros((), device=x.device))
        metrics = {"ce_bits": ce.detach() / LN2, "kl_bits": kl, "units_kept": kept}
        return StepOutput(ce + self.factor * penalty / self.n_train, logits, metrics)
