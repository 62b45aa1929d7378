"""Recording a model's layers on a probe set through forward hooks that cannot leak."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from ibkit._errors import ConfigError

ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Softplus,
    nn.Hardtanh, nn.ReLU6, nn.Mish,
)
OUTPUT = "output"
"""The pseudo-layer name of the model's output, recorded as softmax probabilities."""


def default_layers(model: nn.Module) -> list[str]:
    """Names of every activation module of ``model`` (its hidden activations), in order.

    Example:
        >>> from ibkit.models import MLP
        >>> default_layers(MLP(12, (10, 7), 2, "tanh"))
        ['act1', 'act2']
    """
    return [name for name, m in model.named_modules() if isinstance(m, ACTIVATION_TYPES)]


def check_layers(model: nn.Module, layers: Sequence[str] | None) -> list[str]:
    """``layers`` checked against ``model``'s module names (default: :func:`default_layers`)."""
    names = dict(model.named_modules())
    chosen = default_layers(model) if layers is None else list(layers)
    if not chosen:
        raise ConfigError(
            "The 'layers' parameter of InformationPlane is empty and the model has no activation "
            f"modules to default to. Name modules among: {', '.join(n for n in names if n)}."
        )
    unknown = [n for n in chosen if n != OUTPUT and n not in names]
    if unknown:
        raise ConfigError(
            f"The 'layers' parameter of InformationPlane names {unknown}, which the model does not "
            f"have. Allowed: {OUTPUT!r} or one of {[n for n in names if n]}."
        )
    if len(set(chosen)) != len(chosen):
        raise ConfigError(f"The 'layers' parameter of InformationPlane repeats a name: {chosen}.")
    return chosen


@contextmanager
def capture(model: nn.Module, layers: Sequence[str]) -> Iterator[dict[str, list[torch.Tensor]]]:
    """Forward hooks that append each named module's output, flattened to ``(batch, -1)``.

    The hooks are removed when the block ends, an exception included.
    """
    modules = dict(model.named_modules())
    store: dict[str, list[torch.Tensor]] = {n: [] for n in layers if n != OUTPUT}
    handles = []
    try:
        for name in store:
            def hook(_m: nn.Module, _i: tuple, out: torch.Tensor, name: str = name) -> None:
                store[name].append(out.detach().flatten(1).float().cpu())

            handles.append(modules[name].register_forward_hook(hook))
        yield store
    finally:
        for h in handles:
            h.remove()


@torch.no_grad()
def record_activations(
    model: nn.Module, layers: Sequence[str], x: torch.Tensor, batch_size: int = 4096
) -> dict[str, torch.Tensor]:
    """Values of ``layers`` on inputs ``x`` in evaluation mode, as CPU float32 ``(n, units)``.

    The pseudo-layer ``"output"`` is the softmax of the model's output. The model's
    training flag is restored afterwards.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    outputs: list[torch.Tensor] = []
    try:
        with capture(model, layers) as store:
            for i in range(0, len(x), batch_size):
                out = model(x[i : i + batch_size].to(device))
                if OUTPUT in layers:
                    outputs.append(torch.softmax(out.flatten(1).float(), 1).cpu())
    finally:
        model.train(was_training)
    result = {name: torch.cat(values) for name, values in store.items()}
    if OUTPUT in layers:
        result[OUTPUT] = torch.cat(outputs)
    return {name: result[name] for name in layers}
