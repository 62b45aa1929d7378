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
        rec = np.concatenate([_records(tar, archive, n, RECORD_BYTES) for n in names])
        return _split(rec, labels_at=0, pixels_at=1)

    with tarfile.open(archive, "r:gz") as tar:
        return read(tar, TRAIN_BATCHES), read(tar, TEST_BATCHES)


def _records(tar: tarfile.TarFile, archive: Path, name: str, record_bytes: int) -> np.ndarray:
    """The fixed-size records of member ``.../name`` of ``tar``, as ``(n, record_bytes)``."""
    member = next((m for m in tar.getmembers() if m.name.endswith("/" + name)), None)
    if member is None:
        raise DataError(f"'{archive}' has no member '{name}'.")
    raw = tar.extractfile(member).read()  # type: ignore[union-attr]
    if len(raw) % record_bytes:
        raise DataError(f"'{name}' in '{archive}' is not a whole number of records.")
    return np.frombuffer(raw, np.uint8).reshape(-1, record_bytes)


def _split(rec: np.ndarray, labels_at: int, pixels_at: int) -> Split:
    x = torch.from_numpy(rec[:, pixels_at:].reshape(-1, 3, 32, 32).copy())
    return Split(x, torch.from_numpy(rec[:, labels_at].astype(np.int64)))


def _dataset(name: str, root: Path, files: tuple[RemoteFile, ...], train: Split, test: Split,
             n_classes: int, scale: str, val_size: int | None, seed: int,
             notes: dict[str, str]) -> Dataset:
    """Scale the pixels, hold out the validation split (default: 5,000 images, or a tenth of
    a smaller archive) and name the files' provenance."""
    def scaled(s: Split) -> Split:
        return Split(scale_pixels(s.x, 255, scale), s.y)

    if val_size is None:
        val_size = min(5000, len(train) // 10)
    train, val = split_off(scaled(train), val_size, seed)
    return Dataset(name, train, val, scaled(test), n_classes,
                   {**provenance(root, files), "scale": scale, **notes})


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
    return _dataset("cifar10", root, CIFAR10_FILES, train, test, 10, scale, val_size, seed, {})

CIFAR100_RECORD_BYTES = 2 + 3 * 32 * 32
CIFAR100_FILES = (
    RemoteFile(
        "cifar-100-binary.tar.gz",
        "03b5dce01913d631647c71ecec9e9cb8",
        ("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",),
    ),
)
CIFAR100_LABELS = ("fine", "coarse")


def read_cifar100_binary(archive: Path, labels: str = "fine") -> tuple[Split, Split]:
    """Read the train and test splits of ``cifar-100-binary.tar.gz`` (``train.bin``,
    ``test.bin``), in place. Each record is the coarse label byte (20 superclasses), the fine
    label byte (100 classes), then 3,072 pixel bytes as in CIFAR-10.

    Returns:
        ``(train, test)``: ``x`` raw uint8 ``(n, 3, 32, 32)``, ``y`` the ``labels`` ones.

    Raises:
        DataError: ``labels`` is neither ``"fine"`` nor ``"coarse"``, a file is missing, or
            its size is not a whole number of records.
    """
    if labels not in CIFAR100_LABELS:
        raise DataError(f"The 'labels' parameter of read_cifar100_binary must be one of "
                        f"{CIFAR100_LABELS}. Got {labels!r} instead.")
    column = 0 if labels == "coarse" else 1

    with tarfile.open(archive, "r:gz") as tar:
        return tuple(_split(_records(tar, archive, name, CIFAR100_RECORD_BYTES), column, 2)
                     for name in ("train.bin", "test.bin"))  # type: ignore[return-value]


def load_cifar100(
    data_dir: str | os.PathLike | None = None,
    scale: str = "unit",
    val_size: int | None = None,
    seed: int = 0,
    download: bool = True,
    labels: str = "fine",
) -> Dataset:
    """CIFAR-100 (Krizhevsky 2009): 50,000 training and 10,000 test 32x32 colour images with
    100 fine classes (``labels="fine"``) or 20 coarse superclasses (``"coarse"``).

    Read from the official binary archive (MD5 checked on every load, never extracted);
    arguments otherwise as :func:`load_cifar10`. The data set is called ``cifar100``, or
    ``cifar100-coarse`` for the superclasses.
    """
    root = locate("cifar100", CIFAR100_FILES, data_dir, download)
    train, test = read_cifar100_binary(root / CIFAR100_FILES[0].filename, labels)
    fine = labels == "fine"
    return _dataset("cifar100" if fine else "cifar100-coarse", root, CIFAR100_FILES, train, test,
                    100 if fine else 20, scale, val_size, seed, {"labels": labels})
