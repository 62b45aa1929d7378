"""MNIST and Fashion-MNIST from the official IDX ``.gz`` files.

The four files of each data set are verified against their official MD5s on
every load; a truncated or corrupted file raises ChecksumError naming the file.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch

from ibkit._errors import DataError
from ibkit.data._files import RemoteFile, locate, provenance
from ibkit.data._scaling import scale_pixels
from ibkit.data._types import Dataset, Split
from ibkit.data.splits import split_off

_MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)

_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
_FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}


def _files(md5: dict[str, str], mirrors: tuple[str, ...]) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(n, c, tuple(m + n for m in mirrors)) for n, c in md5.items())


MNIST_FILES = _files(_MNIST_MD5, _MNIST_URLS)
FASHION_MNIST_FILES = _files(_FASHION_MD5, _FASHION_URLS)


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (unsigned-byte data) into an array of its stated shape.

    Raises:
        DataError: bad magic number, or fewer/more bytes than the header states.
    """
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"'{path}' is not an unsigned-byte IDX file (bad magic number).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != int(np.prod(shape)):
        raise DataError(
            f"'{path}' holds {len(raw) - header} bytes of data, its header says shape {shape}."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _load_idx_set(
    name: str,
    files: tuple[RemoteFile, ...],
    data_dir: str | os.PathLike | None,
    scale: str,
    val_size: int,
    seed: int,
    download: bool,
) -> Dataset:
    root = locate(name, files, data_dir, download)

    def split(prefix: str) -> Split:
        x = read_idx(root / f"{prefix}-images-idx3-ubyte.gz")
        y = read_idx(root / f"{prefix}-labels-idx1-ubyte.gz")
        return Split(scale_pixels(torch.from_numpy(x.copy()), 255, scale).unsqueeze(1),
                     torch.from_numpy(y.astype(np.int64)))

    train, val = split_off(split("train"), val_size, seed)
    return Dataset(name, train, val, split("t10k"), 10, {**provenance(root, files), "scale": scale})


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    scale: str = "unit",
    val_size: int = 5000,
    seed: int = 0,
    download: bool = True,
) -> Dataset:
    """MNIST (LeCun et al.): 60,000 training and 10,000 test images, 28x28 grey.

    Args:
        data_dir: directory with the four official ``.gz`` files (or a parent of ``mnist/``).
        scale: ``"unit"`` for [0, 1] or ``"symmetric"`` for [-1, 1].
        val_size: images held out of the 60,000 for validation (seeded random split).
        seed: seed of the validation split.
        download: fetch the files into the cache when they are nowhere local.

    Returns:
        A Dataset with ``x`` of shape ``(n, 1, 28, 28)``.
    """
    return _load_idx_set("mnist", MNIST_FILES, data_dir, scale, val_size, seed, download)


def load_fashion_mnist(
    data_dir: str | os.PathLike | None = None,
    scale: str = "unit",
    val_size: int = 5000,
    seed: int = 0,
    download: bool = True,
) -> Dataset:
    """Fashion-MNIST (Xiao et al. 2017), same format and arguments as :func:`load_mnist`."""
    return _load_idx_set(
        "fashion-mnist", FASHION_MNIST_FILES, data_dir, scale, val_size, seed, download
    )
