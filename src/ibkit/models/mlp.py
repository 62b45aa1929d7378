"""Fully connected classifiers."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
                                          "elu": nn.ELU}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name (one of :data:`ACTIVATIONS`)."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"The 'activation' parameter must be one of {tuple(ACTIVATIONS)}. Got {name!r} instead."
        )
    return ACTIVATIONS[name]()


class MLP(nn.Sequential):
    """Flatten, then ``Linear -> activation`` per hidden width, then a linear classifier.

    Modules are named ``fc1, act1, fc2, act2, ..., out`` so that layers can be chosen
    by name (for example ``act2`` for the second hidden activation).

    Args:
        input_dim: number of input features once flattened.
        hidden: widths of the hidden layers, for example ``(1024, 1024)``.
        n_classes: number of outputs (logits).
        activation: ``"relu"``, ``"tanh"`` or ``"sigmoid"``.

    Example:
        >>> [name for name, _ in MLP(12, (10, 7), 2, "tanh").named_children()]
        ['flatten', 'fc1', 'act1', 'fc2', 'act2', 'out']
    """

    def __init__(
        self, input_dim: int, hidden: Sequence[int], n_classes: int, activation: str = "relu"
    ) -> None:
        if input_dim < 1 or n_classes < 1 or any(h < 1 for h in hidden):
            raise ValueError(
                "MLP widths must be positive. "
                f"Got input_dim={input_dim}, hidden={tuple(hidden)}, n_classes={n_classes}."
            )
        layers: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())
        width = input_dim
        for i, h in enumerate(hidden, start=1):
            layers[f"fc{i}"] = nn.Linear(width, h)
            layers[f"act{i}"] = make_activation(activation)
            width = h
        layers["out"] = nn.Linear(width, n_classes)
        super().__init__(layers)
