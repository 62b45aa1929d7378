"""Containers for data sets: a split is a pair of tensors, a data set three splits."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True, repr=False)
class Split:
    """One split of a data set.

    Attributes:
        x: inputs, float32, shape ``(n_samples, *input_shape)``.
        y: integer class labels, int64, shape ``(n_samples,)``.
    """

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(f"x has {len(self.x)} samples but y has {len(self.y)}.")

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        """Shapes and dtypes, not the tensors: ``Split(x=(1000, 1, 28, 28) float32, y=(1000,) int64)``."""
        return (f"Split(x={tuple(self.x.shape)} {_dtype(self.x)}, "
                f"y={tuple(self.y.shape)} {_dtype(self.y)})")


@dataclass(frozen=True, repr=False)
class Dataset:
    """A classification data set with train, validation and (optional) test splits.

    Attributes:
        name: short name, for example ``"mnist"``.
        train, val, test: the splits; ``test`` is None where the task has none.
        n_classes: number of classes.
        notes: provenance worth recording in a run directory (for example "labels
            generated, not the original var_u.mat").
    """

    name: str
    train: Split
    val: Split | None
    test: Split | None
    n_classes: int
    notes: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        """One line: name, split sizes, input shape, classes (not the tensors)."""
        sizes = ", ".join(f"{k}={len(v) if v is not None else None}"
                          for k, v in (("train", self.train), ("val", self.val),
                                       ("test", self.test)))
        return (f"Dataset({self.name!r}, {sizes}, input_shape={self.input_shape}, "
                f"n_classes={self.n_classes})")

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, without the sample dimension."""
        return tuple(self.train.x.shape[1:])

    @property
    def input_dim(self) -> int:
        """Number of input features once flattened."""
        return int(torch.tensor(self.input_shape).prod().item())


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")
