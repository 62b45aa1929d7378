"""Exporting a pruned gated model as a genuinely smaller dense model.

Pruned units are cut out: a gated layer keeps only its kept output rows (and its batch
norm's entries), and the next layer keeps only the matching input columns with the gate's
multiplier ``mu`` folded into them, which is exact for the linear and convolutional layers
that consume a gate. A gated input becomes a :class:`Select` of the kept input units.
Where a gate's multiplier cannot pass the module after it (a negative mu before
max-pooling, any mu before tanh), a per-unit :class:`Scale` stays in the model.
The export checks in float64 that the new model's outputs equal the gated model's
evaluation outputs (max difference <= 1e-5) and refuses to return a model that does not.
"""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ibkit._errors import ConfigError
from ibkit._io import load_torch, save_torch, write_text
from ibkit.compress.gating import gates
from ibkit.compress.graph import export_pruned_graph, gate_hooks
from ibkit.compress.modules import Scale, Select
from ibkit.layers import InformationGate

TOLERANCE = 1e-5


_POSITIVE_COMMUTING = (nn.ReLU, nn.MaxPool2d, nn.AvgPool2d, nn.Dropout)


class _State:
    """The representation between layers: which original units remain, their pending scale."""

    def __init__(self) -> None:
        self.keep: torch.Tensor | None = None  # indices into the producer's original units
        self.scale: torch.Tensor | None = None  # per remaining unit, to fold into the consumer
        self.spatial = 1  # positions per channel once flattened
        self.producer: list[str] = []  # names of the last Linear/Conv and its batch norms


def _input_columns(state: _State, n_in: int) -> tuple[torch.Tensor, torch.Tensor]:
    s = state.spatial
    units = n_in // s
    keep = state.keep if state.keep is not None else torch.arange(units)
    scale = state.scale if state.scale is not None else torch.ones(len(keep))
    cols = (keep[:, None] * s + torch.arange(s)[None, :]).flatten()
    return cols, scale.repeat_interleave(s)


def _consume_linear(m: nn.Linear, state: _State) -> nn.Linear:
    cols, scale = _input_columns(state, m.in_features)
    new = nn.Linear(len(cols), m.out_features, bias=m.bias is not None)
    with torch.no_grad():
        new.weight.copy_(m.weight[:, cols] * scale[None, :].to(m.weight))
        if m.bias is not None:
            new.bias.copy_(m.bias)
    return new


def _consume_conv(m: nn.Conv2d, state: _State) -> nn.Conv2d:
    if m.groups != 1:
        raise ConfigError(f"Export supports Conv2d with groups=1. Got groups={m.groups}.")
    if state.spatial != 1:
        raise ConfigError("A Conv2d after a Flatten cannot be exported.")
    keep = state.keep if state.keep is not None else torch.arange(m.in_channels)
    scale = state.scale if state.scale is not None else torch.ones(len(keep))
    new = _conv_like(m, len(keep), m.out_channels)
    with torch.no_grad():
        new.weight.copy_(m.weight[:, keep] * scale.view(1, -1, 1, 1).to(m.weight))
        if m.bias is not None and new.bias is not None:
            new.bias.copy_(m.bias)
    return new


def _conv_like(m: nn.Conv2d, in_channels: int, out_channels: int) -> nn.Conv2d:
    """A new Conv2d with ``m``'s kernel, stride, padding, dilation and bias, other channels."""
    geometry: dict[str, Any] = {"kernel_size": m.kernel_size, "stride": m.stride,
                                "padding": m.padding, "dilation": m.dilation}
    return nn.Conv2d(in_channels, out_channels, **geometry, bias=m.bias is not None,
                     padding_mode=m.padding_mode)


def _cut_outputs(out: OrderedDict[str, nn.Module], names: list[str], kept: torch.Tensor) -> None:
    """Keep only output units ``kept`` of the producer ``names[0]`` and its batch norms."""
    for name in names:
        m = out[name]
        if isinstance(m, nn.Linear):
            new: nn.Module = nn.Linear(m.in_features, len(kept), bias=m.bias is not None)
        elif isinstance(m, nn.Conv2d):
            new = _conv_like(m, m.in_channels, len(kept))
        else:  # batch norm
            new = type(m)(len(kept), m.eps, m.momentum, m.affine, m.track_running_stats)
        state = {k: (v[kept] if v.dim() >= 1 and v.shape[0] == _units(m) else v)
                 for k, v in m.state_dict().items()}
        new.load_state_dict(state)
        out[name] = new


def _units(m: nn.Module) -> int:
    if isinstance(m, nn.Linear):
        return m.out_features
    if isinstance(m, nn.Conv2d):
        return m.out_channels
    return m.num_features  # type: ignore[return-value]


@torch.no_grad()
def export_pruned(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """The smaller dense model equal to ``model`` (gated, in evaluation mode) on its outputs.

    Args:
        model: a model gated by :func:`ibkit.compress.add_gates` (pruned or not: units a
            gate does not pass in evaluation are removed either way). A gated
            ``nn.Sequential`` becomes a new ``nn.Sequential`` (saved by
            :func:`save_exported`); any other gated model is cut in place of a copy through
            Torch-Pruning's dependency graph (:func:`ibkit.compress.graph.export_pruned_graph`).
        example: a batch of inputs, used for shapes and for the equality check.

    Raises:
        ConfigError: the model has no gates, or a layer cannot be cut.
    """
    for g in gates(model).values():
        if hasattr(g, "mu_mask"):
            vars(g)["mu"] = (g.get_parameter("mu_orig") * g.get_buffer("mu_mask")).detach()
    if gate_hooks(model):
        return export_pruned_graph(model, example)
    if not isinstance(model, nn.Sequential) or not gates(model):
        raise ConfigError("export_pruned needs an nn.Sequential with InformationGate modules; "
                          "this model has none (add them with ibkit.compress.add_gates).")
    for g in gates(model).values():
        if hasattr(g, "mu_mask"):  # prune's computed mu is not a leaf: deepcopy refuses it
            # (prune keeps mu as a plain attribute, beside mu_orig and mu_mask)
            vars(g)["mu"] = (g.get_parameter("mu_orig") * g.get_buffer("mu_mask")).detach()
    model = copy.deepcopy(model).cpu().eval()
    example = example.cpu()
    out: OrderedDict[str, nn.Module] = OrderedDict()
    state, h = _State(), example
    for name, m in model.named_children():
        h_in, h = h, m(h)
        if isinstance(m, InformationGate):
            kept = m.kept()
            scale = m.multiplier()[kept].detach().clone()
            if state.producer:
                _cut_outputs(out, state.producer, kept)
            elif state.scale is None and state.keep is None:
                out[f"{name}_select"] = Select(kept)
            else:
                raise ConfigError(f"Gate {name!r} follows another gate with no layer between.")
            state = _State()
            state.keep, state.scale = kept, scale  # the consumer's remaining input units
        elif isinstance(m, (nn.Linear, nn.Conv2d)):
            out[name] = _consume_linear(m, state) if isinstance(m, nn.Linear) else \
                _consume_conv(m, state)
            state = _State()
            state.producer = [name]
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if state.scale is not None:
                raise ConfigError(f"Cannot fold a gate into batch norm {name!r}; gate after it.")
            out[name] = copy.deepcopy(m)
            state.producer.append(name)
        elif isinstance(m, nn.Flatten):
            if h_in.dim() == 4:
                state.spatial = h_in.shape[2] * h_in.shape[3]
            out[name] = copy.deepcopy(m)
        else:  # activations and pooling act per unit or per channel
            if state.scale is not None and not (isinstance(m, _POSITIVE_COMMUTING)
                                                and bool((state.scale > 0).all())):
                out[f"{name}_scale"] = Scale(state.scale)  # cannot pass m: apply it here
                state.scale = torch.ones_like(state.scale)
            out[name] = copy.deepcopy(m)
    if state.scale is not None:
        raise ConfigError("A gate after the last layer cannot be exported.")
    exported = nn.Sequential(out).eval()
    diff = float((exported.double()(example.double()) - model.double()(example.double())).abs().max())
    exported.float()
    if not diff <= TOLERANCE:
        raise ConfigError(f"Export check failed: outputs differ by {diff:.3g} > {TOLERANCE}.")
    return exported


# ------------------------------------------------------------------ save / load
def _spec(m: nn.Module) -> dict[str, Any]:
    kind = type(m).__name__
    if isinstance(m, Select):
        return {"kind": kind, "n": int(m.get_buffer("indices").numel())}
    if isinstance(m, Scale):
        return {"kind": kind, "n": int(m.get_buffer("scale").numel())}
    if isinstance(m, nn.Linear):
        return {"kind": kind, "args": [m.in_features, m.out_features], "bias": m.bias is not None}
    if isinstance(m, nn.Conv2d):
        return {"kind": kind, "args": [m.in_channels, m.out_channels, list(m.kernel_size)],
                "stride": list(m.stride), "padding": list(m.padding),
                "dilation": list(m.dilation), "padding_mode": m.padding_mode,
                "bias": m.bias is not None}
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return {"kind": kind, "args": [m.num_features], "eps": m.eps}
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        return {"kind": kind, "args": [m.kernel_size], "stride": m.stride, "padding": m.padding,
                "ceil_mode": m.ceil_mode}
    return {"kind": kind}


def _build(spec: dict[str, Any]) -> nn.Module:
    kind, args = spec["kind"], spec.get("args", [])
    if kind == "Select":
        return Select(torch.zeros(spec["n"], dtype=torch.long))
    if kind == "Scale":
        return Scale(torch.ones(spec["n"]))
    if kind == "Linear":
        return nn.Linear(args[0], args[1], bias=spec["bias"])
    if kind == "Conv2d":
        return nn.Conv2d(args[0], args[1], tuple(args[2]), tuple(spec["stride"]),
                         tuple(spec["padding"]), tuple(spec.get("dilation", (1, 1))),
                         bias=spec["bias"], padding_mode=spec.get("padding_mode", "zeros"))
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        return getattr(nn, kind)(*args, eps=spec["eps"])
    if kind in ("MaxPool2d", "AvgPool2d"):
        return getattr(nn, kind)(*args, stride=spec["stride"], padding=spec.get("padding", 0),
                                 ceil_mode=spec.get("ceil_mode", False))
    if not hasattr(nn, kind):
        raise ConfigError(f"Unknown layer kind {kind!r} in an exported model's spec.")
    return getattr(nn, kind)()


def save_exported(model: nn.Module, directory: str | Path,
                  example: torch.Tensor | None = None) -> Path:
    """Write an exported model into ``directory`` and return the weights' path.

    An ``nn.Sequential`` goes to ``exported.json`` (layers) and ``exported.pt`` (state dict).
    Any other model (the result of exporting a gated ResNet, say: the user's own class with
    fewer channels) goes to ``exported.pt2`` through :func:`torch.export.export`, with the
    batch dimension left free; this needs ``example``, a batch of inputs.

    Raises:
        ConfigError: a model that is not an ``nn.Sequential`` and no ``example``.
    """
    directory = Path(directory)
    if not isinstance(model, nn.Sequential):
        if example is None:
            raise ConfigError(f"save_exported: a {type(model).__name__} is saved through "
                              "torch.export, which needs the 'example' parameter (a batch of "
                              "inputs).")
        directory.mkdir(parents=True, exist_ok=True)
        batch = torch.export.Dim("batch", min=1)
        program = torch.export.export(model.eval(), (example,), dynamic_shapes=({0: batch},))
        torch.export.save(program, directory / "exported.pt2")
        return directory / "exported.pt2"
    spec = [{"name": n, **_spec(m)} for n, m in model.named_children()]
    write_text(directory / "exported.json", json.dumps(spec, indent=1) + "\n")
    save_torch(model.state_dict(), directory / "exported.pt")
    return directory / "exported.pt"


def load_exported(directory: str | Path) -> nn.Module:
    """Rebuild a model written by :func:`save_exported`: an ``nn.Sequential`` from
    ``exported.json`` (weights read with ``weights_only``), or the module of the
    ``exported.pt2`` program."""
    directory = Path(directory)
    if (directory / "exported.pt2").is_file():
        return torch.export.load(directory / "exported.pt2").module()
    spec = json.loads((directory / "exported.json").read_text())
    model = nn.Sequential(OrderedDict((s["name"], _build(s)) for s in spec))
    model.load_state_dict(load_torch(directory / "exported.pt"))
    return model.eval()
