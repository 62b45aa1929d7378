"""The compression numbers papers report (Dai et al. 2018, Tables 1-3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ibkit._errors import ConfigError
from ibkit.compress.gating import gates
from ibkit.layers import InformationGate


@dataclass(frozen=True)
class CompressionReport:
    """What pruning kept.

    Attributes:
        r_W_pct: per cent of weights kept (weights of Linear and Conv2d only, biases excluded).
        r_N_pct: per cent of neurons kept: units at the gates (input units included where
            the input is gated), for LeNet-300-100 (97+71+33) / (784+300+100); a
            convolution's unit is a channel.
        r_N_positions_pct: the same with every output position of a channel counted as a
            neuron (a conv1 channel of LeNet5 is 24 x 24 of them); equal to r_N_pct without
            convolutions. Dai et al. do not say how they count for convolutions; this count
            puts a 3-10-16 LeNet5 at 15.66 %, next to their 15.55 %.
        flops_before, flops_after: multiply-accumulates of convolutions and fully
            connected layers for one example.
        architecture: units kept per gate, for example ``97-71-33``.
        units: gate name -> [kept, total].
    """

    r_W_pct: float
    r_N_pct: float
    r_N_positions_pct: float
    flops_before: int
    flops_after: int
    weights_before: int
    weights_after: int
    architecture: str
    units: dict[str, list[int]]

    def as_dict(self) -> dict:
        """Plain values, for the summary."""
        return asdict(self)


def count_weights(model: nn.Module) -> int:
    """Weights of Linear and Conv2d layers (no biases, no batch norm)."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))


@torch.no_grad()
def _forward_one(model: nn.Module, example: torch.Tensor,
                 hooks: list[tuple[nn.Module, Callable[..., None]]]) -> None:
    """One example through ``model`` in evaluation mode with forward ``hooks`` attached;
    the hooks are removed and the training flag restored afterwards."""
    handles = [m.register_forward_hook(h) for m, h in hooks]
    was = model.training
    model.eval()
    try:
        model(example[:1])
    finally:
        model.train(was)
        for h in handles:
            h.remove()


def count_flops(model: nn.Module, example: torch.Tensor) -> int:
    """Multiply-accumulates of Linear and Conv2d layers for one example of ``example``'s shape."""
    total = [0]

    def hook(m: nn.Module, _i: tuple, out: torch.Tensor) -> None:
        if isinstance(m, nn.Linear):
            total[0] += m.in_features * m.out_features
        elif isinstance(m, nn.Conv2d):
            k = m.weight[0].numel()  # in_channels / groups * kh * kw
            total[0] += k * out.shape[1] * out.shape[2] * out.shape[3]

    _forward_one(model, example, [(m, hook) for m in model.modules()
                                  if isinstance(m, (nn.Linear, nn.Conv2d))])
    return total[0]


def positions_per_unit(gated: nn.Module, example: torch.Tensor) -> dict[str, int]:
    """Gate name -> output positions per unit for one example (1 for a fully connected
    layer, height x width for a convolution's channel)."""
    found: dict[str, int] = {}

    def hook(m: nn.Module, _i: tuple, out: torch.Tensor) -> None:
        if isinstance(m, InformationGate):
            found[names[m]] = out[0].numel() // m.num_units

    names = {g: name for name, g in gates(gated).items()}
    _forward_one(gated, example, [(g, hook) for g in names])
    return found


def compression_report(original: nn.Module, gated: nn.Module, exported: nn.Module,
                       example: torch.Tensor) -> CompressionReport:
    """Compare the dense ``original`` with the ``exported`` model; unit counts from ``gated``
    (ConfigError if ``gated`` has no gates)."""
    units = {name: [len(g.kept()), g.num_units] for name, g in gates(gated).items()}
    if not units:
        raise ConfigError("compression_report needs the gated model (with InformationGate "
                          "modules) as 'gated'; this one has none.")
    w0, w1 = count_weights(original), count_weights(exported)
    device = next(original.parameters()).device
    pos = positions_per_unit(gated, example.to(next(gated.parameters()).device))
    return CompressionReport(
        r_W_pct=100.0 * w1 / w0,
        r_N_pct=100.0 * sum(k for k, _ in units.values()) / sum(n for _, n in units.values()),
        r_N_positions_pct=100.0 * sum(k * pos[g] for g, (k, _) in units.items())
        / sum(n * pos[g] for g, (_, n) in units.items()),
        flops_before=count_flops(original, example.to(device)),
        flops_after=count_flops(exported, example.cpu()),
        weights_before=w0, weights_after=w1,
        architecture="-".join(str(k) for k, _ in units.values()),
        units=units,
    )


def lenet300_ratios(architecture: tuple[int, int, int], n_classes: int = 10) -> tuple[float, float]:
    """r_W and r_N in per cent of LeNet-300-100 pruned to ``(inputs, hidden1, hidden2)``,
    as the paper counts them.

    Example:
        >>> [round(v, 2) for v in lenet300_ratios((97, 71, 33))]
        [3.59, 16.98]
    """
    a, b, c = architecture
    r_w = (a * b + b * c + c * n_classes) / (784 * 300 + 300 * 100 + 100 * n_classes)
    return 100.0 * r_w, 100.0 * (a + b + c) / (784 + 300 + 100)
