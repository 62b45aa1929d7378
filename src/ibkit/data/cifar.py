"""CIFAR-10 from the binary version (``cifar-10-binary.tar.gz``), never from pickles.

Each record of a batch file is one label byte followed by 3,072 pixel bytes
(1,024 red, 1,024 green, 1,024 blue, row-major 32x32). The archive is read
in place, without extracting it.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np
import torch

from ibkit._errors import DataError
from ibkit.data._files import RemoteFile, locate, provenance
from ibkit.data._scaling import scale_pixels
from ibkit.data._types import Dataset, Split
from ibkit.data.splits import split_off

RECORD_BYTES = 1 + 3 * 32 * 32
CIFAR10_FILES = (
    RemoteFile(
        "cifar-10-binary.tar.gz",
        "c32a1d4ab5d03f1284b67883e8d87530",
        ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
    ),
)
TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCHES = ("test_batch.bin",)


def read_cifar10_binary(archive: Path) -> tuple[Split, Split]:
    """Read the train and test splits (uint8 images, int64 labels) from the binary archive.

    Returns:
        ``(train, test)`` with ``x`` of shape ``(n, 3, 32, 32)`` still as raw uint8 values.

    Raises:
        DataError: a batch file is missing or its size is not a whole number of records.
    """
    def read(tar: tarfile.TarFile, names: tuple[str, ...]) -> Split:
        parts = []
        for name in names:
            member = next((m for m in tar.getmembers() if m.name.endswith("/" + name)), None)
            if member is None:
                raise DataError(f"'{archive}' has no member '{name}'.")
            raw = tar.extractfile(member).read()  # type: ignore[union-attr]
            if len(raw) % RECORD_BYTES:
                raise DataError(f"'{name}' in '{archive}' is not a whole number of records.")
            parts.append(np.frombuffer(raw, np.uint8).reshape(-1, RECORD_BYTES))
        rec = np.concatenate(parts)  # (n, 3073)
        x = torch.from_numpy(rec[:, 1:].reshape(-1, 3, 32, 32).copy())
        return Split(x, torch.from_numpy(rec[:, 0].astype(np.int64)))

    with tarfile.open(archive, "r:gz") as tar:
        return read(tar, TRAIN_BATCHES), read(tar, TEST_BATCHES)


def load_cifar10(
    data_dir: str | os.PathLike | None = None,
    scale: str = "unit",
    val_size: int | None = None,
    seed: int = 0,
    download: bool = True,
) -> Dataset:
    """CIFAR-10 (Krizhevsky 2009): 50,000 training and 10,000 test 32x32 colour images.

    Arguments as :func:`ibkit.data.load_mnist`; ``x`` has shape ``(n, 3, 32, 32)``.
    ``val_size=None`` holds out 5,000 training images (a tenth of a smaller archive).
    """
    root = locate("cifar10", CIFAR10_FILES, data_dir, download)
    train, test = read_cifar10_binary(root / CIFAR10_FILES[0].filename)

    def scaled(s: Split) -> Split:
        return Split(scale_pixels(s.x, 255, scale), s.y)

    if val_size is None:
        val_size = min(5000, len(train) // 10)
    train, val = split_off(scaled(train), val_size, seed)
    return Dataset("cifar10", train, val, scaled(test), 10,
                   {**provenance(root, CIFAR10_FILES), "scale": scale})
