"""Gates on any ``nn.Module`` (residual blocks, concatenations, nested containers) and the
export of such a model once pruned, with Torch-Pruning's dependency graph doing the channel
bookkeeping (Fang et al., "DepGraph: Towards Any Structural Pruning", CVPR 2023; extra
``ibkit[compress]``).

A gate after module ``M`` is kept in the model's ``ibkit_gates`` container and applied by a
forward hook on ``M``; it is named ``<M>_gate`` by :func:`ibkit.compress.gates`. The model's
own ``forward`` is untouched and its parameters keep their names. At export the hooks and
gates are removed, and each gate's pruned channels are cut out of every layer that shares
them: the producing convolution or linear layer, its batch norm, the consumers' input
channels, the offsets of a concatenation (the dependency graph's pruning group). Each gate's
kept multiplier ``mu`` is folded into ``M`` when ``M`` is affine (Linear, Conv2d, batch
norm), or kept as a :class:`~ibkit.compress.Scale` after it otherwise. The result is checked
in float64 against the gated model's evaluation outputs (max difference <= 1e-5) and refused
otherwise, which is what happens when a gate's channels are shared by a residual addition
with a path that the gate does not see.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ibkit._errors import ConfigError, IbkitError
from ibkit.compress.modules import Scale
from ibkit.layers import InformationGate

TOLERANCE = 1e-5
STORE = "ibkit_gates"
"""The ``nn.ModuleDict`` attribute of a gated model that holds its hook-applied gates (keys:
the gated module's name with ``/`` for ``.``); they are not called by the model's forward."""


class GateHook:
    """The forward hook that applies ``gate`` to the output of module ``module_name``."""

    def __init__(self, gate: InformationGate, module_name: str) -> None:
        self.gate = gate
        self.module_name = module_name

    def __call__(self, _module: nn.Module, _args: tuple, output: torch.Tensor) -> torch.Tensor:
        return self.gate(output)


def gate_hooks(model: nn.Module) -> list[tuple[nn.Module, int, GateHook]]:
    """``(module, hook id, hook)`` of every gate placed by a hook in ``model``."""
    return [(m, k, h) for m in model.modules() for k, h in m._forward_hooks.items()
            if isinstance(h, GateHook)]


def _split(name: str) -> tuple[str, str]:
    parent, _, leaf = name.rpartition(".")
    return parent, leaf


def _calls_and_sizes(model: nn.Module, names: Sequence[str], example: torch.Tensor
                     ) -> dict[str, list[torch.Size]]:
    seen: dict[str, list[torch.Size]] = {n: [] for n in names}
    handles = []
    for n in names:
        def record(_m: nn.Module, _a: tuple, out: torch.Tensor, n: str = n) -> None:
            seen[n].append(out.shape if isinstance(out, torch.Tensor) else torch.Size())
        handles.append(model.get_submodule(n).register_forward_hook(record))
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example)
    finally:
        model.train(was)
        for h in handles:
            h.remove()
    return seen


def add_gates_anywhere(model: nn.Module, after: Sequence[str], example: torch.Tensor,
                       threshold: float = 0.0, gateable: tuple[type[nn.Module], ...] = ()
                       ) -> nn.Module:
    """A copy of ``model`` with an :class:`InformationGate` on the output of each module named
    (dotted, as in ``named_modules()``) in ``after``, named ``<module>_gate``, applied by a
    forward hook and kept in the model's ``ibkit_gates`` container.

    Raises:
        ConfigError: a name is not a module of ``model``, is of a type gates do not follow,
            is called other than once per forward pass (a shared ReLU), or its output is not
            ``(batch, units)`` or ``(batch, channels, height, width)``.
    """
    model = copy.deepcopy(model)
    store = _store(model)
    modules = dict(model.named_modules())
    unknown = [a for a in after if a not in modules or a == ""]
    if unknown or not after:
        raise ConfigError(f"The 'after' parameter of add_gates names {unknown or list(after)}; "
                          f"allowed: module names of the model, e.g. {list(modules)[1:8]}.")
    for name in after:
        if gateable and not isinstance(modules[name], gateable):
            raise ConfigError(f"Cannot gate module {name!r} of type "
                              f"{type(modules[name]).__name__}. Gates follow "
                              f"{', '.join(sorted({t.__name__ for t in gateable}))} modules.")
    for name, shapes in _calls_and_sizes(model, after, example).items():
        if len(shapes) != 1:
            raise ConfigError(f"Cannot gate module {name!r}: it runs {len(shapes)} times in one "
                              "forward pass (one module used at several places); give each use "
                              "its own module.")
        if len(shapes[0]) not in (2, 4):
            raise ConfigError(f"Cannot gate module {name!r}: its output has shape "
                              f"{tuple(shapes[0])}; gates need (batch, units) or (batch, "
                              "channels, height, width).")
        gate = InformationGate(int(shapes[0][1]), threshold)
        store.add_module(_key(name), gate)
        modules[name].register_forward_hook(GateHook(gate, name))
    return model.to(next(model.parameters()).device)


def _key(module_name: str) -> str:
    return module_name.replace(".", "/")


def _store(model: nn.Module) -> nn.ModuleDict:
    """The model's gate container (created on first use)."""
    if isinstance(model, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
        raise ConfigError(f"add_gates: a {type(model).__name__} runs or lists its children, so "
                          "gates cannot be kept in it; in an nn.Sequential gate its own "
                          "children, or wrap the model in your own nn.Module.")
    if not isinstance(getattr(model, STORE, None), nn.ModuleDict):
        model.add_module(STORE, nn.ModuleDict())
    return model.get_submodule(STORE)  # type: ignore[return-value]


def _tp() -> Any:
    try:
        import torch_pruning
    except ImportError:
        raise IbkitError("Exporting a gated model that is not an nn.Sequential needs "
                         "Torch-Pruning: pip install 'ibkit[compress]'.") from None
    return torch_pruning


def _strip_gates(model: nn.Module) -> list[tuple[str, InformationGate]]:
    """Remove every gate hook and gate module from ``model``; return (module name, gate)."""
    placed = []
    for module, key, hook in gate_hooks(model):
        del module._forward_hooks[key]
        placed.append((hook.module_name, hook.gate))
    delattr(model, STORE)
    return placed


def _fold(model: nn.Module, name: str, scale: torch.Tensor) -> None:
    """Multiply module ``name``'s output channels by ``scale``: into its weights when it is
    affine per channel, else by a :class:`Scale` after it."""
    m = model.get_submodule(name)
    with torch.no_grad():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            m.weight.mul_(scale.view((-1,) + (1,) * (m.weight.dim() - 1)).to(m.weight))
            if m.bias is not None:
                m.bias.mul_(scale.to(m.bias))
            return
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            m.weight.mul_(scale.to(m.weight))
            m.bias.mul_(scale.to(m.bias))
            return
    parent, leaf = _split(name)
    model.get_submodule(parent).add_module(leaf, nn.Sequential(m, Scale(scale)))


def _producers(model: nn.Module, names: Sequence[str], x: torch.Tensor,
               prunable: tuple[type[nn.Module], ...]) -> dict[str, nn.Module | None]:
    """For each module name, the nearest module at or before it whose output channels can be
    pruned, found by walking the autograd graph of one forward pass back from its output
    (through activations, pooling and additions: an addition's first operand)."""
    made: dict[object, nn.Module] = {}
    outputs: dict[str, torch.Tensor] = {}
    hooks = [m.register_forward_hook(lambda m, _a, o: made.__setitem__(o.grad_fn, m))
             for m in model.modules() if isinstance(m, prunable)]
    hooks += [model.get_submodule(n).register_forward_hook(
        lambda _m, _a, o, n=n: outputs.__setitem__(n, o)) for n in names]
    try:
        with torch.enable_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    found: dict[str, nn.Module | None] = {}
    for n in names:
        fn, root = outputs[n].grad_fn, None
        while fn is not None and root is None:
            root = made.get(fn)
            fn = next((f for f, _ in fn.next_functions
                       if f is not None and type(f).__name__ != "AccumulateGrad"), None)
        found[n] = root
    return found


def _out_pruner(tp: Any, m: nn.Module) -> Any:
    if isinstance(m, nn.Conv2d):
        return tp.prune_conv_out_channels
    if isinstance(m, nn.Linear):
        return tp.prune_linear_out_channels
    return tp.prune_batchnorm_out_channels


@torch.no_grad()
def export_pruned_graph(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """The smaller dense model equal (<= 1e-5, in float64) to the gated ``model`` in
    evaluation mode, for a model gated by hooks (:func:`add_gates_anywhere`).

    Raises:
        ConfigError: no gates, a gate whose units cannot be cut, or an export that would
            change the outputs (channels shared through a residual addition).
    """
    tp = _tp()
    model = copy.deepcopy(model).cpu().eval().double()
    x = example.cpu().double()
    if not gate_hooks(model):
        raise ConfigError("export_pruned: the model has no gates (add them with add_gates).")
    reference = model(x)
    plain = model
    placed = _strip_gates(plain)
    prunable = (nn.Conv2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d)
    with torch.enable_grad():  # the graph is traced through autograd
        graph = tp.DependencyGraph().build_dependency(plain, example_inputs=x)
    roots = _producers(plain, [n for n, _ in placed], x, prunable)
    cuts: list[tuple[str, nn.Module, torch.Tensor, torch.Tensor, int]] = []
    for name, gate in placed:
        kept = gate.kept()
        root = roots[name]
        if root is None:
            raise ConfigError(f"Cannot export gate '{name}_gate': no Linear, Conv2d or batch "
                              "norm produces its units.")
        twin = next((n for n, r, *_ in cuts if r is root), None)
        if twin is not None:
            raise ConfigError(f"Gates '{twin}_gate' and '{name}_gate' gate the same units "
                              f"(both produced by one layer); keep one of them.")
        cuts.append((name, root, kept, gate.multiplier()[kept].detach().clone(), gate.num_units))
    for _name, root, kept, _scale, units in cuts:
        pruned = sorted(set(range(units)) - set(kept.tolist()))
        if pruned:
            group = graph.get_pruning_group(root, _out_pruner(tp, root), idxs=pruned)
            group.prune()
    for name, _root, _kept, scale, _units in cuts:
        _fold(plain, name, scale)
    diff = float((plain(x) - reference).abs().max())
    if not diff <= TOLERANCE:
        raise ConfigError(f"Export changed the outputs by {diff:.3g} (> {TOLERANCE}): a gate's "
                          "channels are shared by a path it does not gate (a residual addition "
                          "or a second consumer). Gate modules whose channels only they carry, "
                          "such as the ReLU inside a residual block.")
    return plain.float()
