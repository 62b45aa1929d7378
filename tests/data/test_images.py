"""MNIST and Fashion-MNIST (real files when present), CIFAR-10's binary format, digits."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tarfile

import numpy as np
import pytest
import torch
from tests.conftest import shared, tar_of_records

from ibkit._errors import ChecksumError, DataError
from ibkit.data import (
    cifar,
    load_cifar10,
    load_cifar100,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    read_idx,
)
from ibkit.data._files import cache_root


def _write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_read_idx_roundtrip_and_truncation(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.gz", a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)
    with gzip.open(tmp_path / "b.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"abc")
    with pytest.raises(DataError, match="holds 3 bytes"):
        read_idx(tmp_path / "b.gz")


def test_mnist_shapes_scaling_and_split(mnist_dir):
    d = load_mnist(mnist_dir.parent, scale="symmetric", val_size=5000, download=False)
    assert (len(d.train), len(d.val), len(d.test)) == (55000, 5000, 10000)
    assert d.train.x.shape[1:] == (1, 28, 28)
    assert d.train.x.min() == -1.0 and d.train.x.max() == 1.0
    assert torch.bincount(d.test.y).tolist()[:2] == [980, 1135]  # official test counts


def test_fashion_mnist_loads():
    root = shared("fashion-mnist")
    d = load_fashion_mnist(root, download=False)
    assert len(d.test) == 10000 and d.n_classes == 10


def test_corrupted_mnist_byte_is_caught(mnist_dir, tmp_path):
    bad = tmp_path / "mnist"
    shutil.copytree(mnist_dir, bad)
    f = bad / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(f.read_bytes())
    raw[100] ^= 0xFF
    f.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz"):
        load_mnist(bad, download=False)


def _cifar_archive(path, n_train: int, n_test: int) -> None:
    members = [(b, n_train) for b in cifar.TRAIN_BATCHES] + [("test_batch.bin", n_test)]
    tar_of_records(path, "cifar-10-batches-bin", members, cifar.RECORD_BYTES, {0: 10})


def test_cifar10_binary_reader_on_a_generated_archive(tmp_path, monkeypatch):
    archive = tmp_path / "cifar10" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    _cifar_archive(archive, n_train=4, n_test=3)
    train, test = cifar.read_cifar10_binary(archive)
    assert train.x.shape == (20, 3, 32, 32) and test.x.shape == (3, 3, 32, 32)
    # first pixel of the red plane is byte 1 of the first record
    with tarfile.open(archive) as tar:
        first = tar.extractfile("cifar-10-batches-bin/data_batch_1.bin").read()
    assert train.y[0] == first[0] and train.x[0, 0, 0, 0] == first[1]
    assert train.x[0, 1, 0, 0] == first[1 + 1024]  # green plane
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    spec = cifar.RemoteFile(archive.name, md5, ())
    monkeypatch.setattr(cifar, "CIFAR10_FILES", (spec,))
    d = load_cifar10(tmp_path, val_size=5, download=False)
    assert (len(d.train), len(d.val), len(d.test)) == (15, 5, 3)
    assert 0.0 <= d.train.x.min() and d.train.x.max() <= 1.0


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_with_the_official_checksum_rejects_a_generated_file(name, tmp_path):
    archive = tmp_path / name / f"cifar-{name[5:]}-binary.tar.gz"
    archive.parent.mkdir()
    (_cifar_archive if name == "cifar10" else _cifar100_archive)(archive, 2, 1)
    with pytest.raises(ChecksumError, match=archive.name):
        (load_cifar10 if name == "cifar10" else load_cifar100)(tmp_path, download=False)


def test_digits_are_embedded_and_split_by_seed():
    a, b, c = load_digits(seed=0), load_digits(seed=0), load_digits(seed=1)
    assert len(a.train) + len(a.val) + len(a.test) == 1797
    assert torch.equal(a.test.y, b.test.y) and not torch.equal(a.test.x, c.test.x)
    assert a.train.x.max() == 1.0


def test_digits_fast_reader_equals_scikit_learns_loader():
    from sklearn.datasets import load_digits as sk

    from ibkit.data.digits import _read_digits

    images, target = _read_digits()
    ref = sk()
    np.testing.assert_array_equal(images, ref.images)
    np.testing.assert_array_equal(target, ref.target)


def _cifar100_archive(path, n_train: int, n_test: int) -> None:
    tar_of_records(path, "cifar-100-binary", [("train.bin", n_train), ("test.bin", n_test)],
                    cifar.CIFAR100_RECORD_BYTES, {0: 20, 1: 100}, seed=1)


def test_cifar100_reads_fine_and_coarse_labels_from_a_generated_archive(tmp_path, monkeypatch):
    archive = tmp_path / "mirror" / "cifar-100-binary.tar.gz"
    archive.parent.mkdir()
    _cifar100_archive(archive, n_train=30, n_test=7)
    with tarfile.open(archive) as tar:
        first = tar.extractfile("cifar-100-binary/train.bin").read()
    fine_train, test = cifar.read_cifar100_binary(archive)
    coarse_train, _ = cifar.read_cifar100_binary(archive, "coarse")
    assert fine_train.x.shape == (30, 3, 32, 32) and test.x.shape == (7, 3, 32, 32)
    assert coarse_train.y[0] == first[0] and fine_train.y[0] == first[1]
    assert fine_train.x[0, 0, 0, 0] == first[2] and fine_train.x[0, 2, 0, 0] == first[2 + 2048]
    assert torch.equal(fine_train.x, coarse_train.x)
    with pytest.raises(DataError, match="'labels' parameter .* Got 'medium'"):
        cifar.read_cifar100_binary(archive, "medium")
    # downloaded into the cache and verified, as CIFAR-10 is
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setenv("IBKIT_OFFLINE", "0")
    monkeypatch.setattr(cifar, "CIFAR100_FILES",
                        (cifar.RemoteFile(archive.name, md5, (archive.as_uri(),)),))
    d = load_dataset("cifar100-coarse")
    assert d.name == "cifar100-coarse" and d.n_classes == 20 and len(d.test) == 7
    assert (len(d.train), len(d.val)) == (27, 3)
    assert (cache_root() / "cifar100" / "cifar-100-binary.tar.gz").is_file()
    fine = load_dataset("cifar100")
    assert fine.n_classes == 100 and int(fine.test.y.max()) < 100
    assert 0.0 <= float(fine.train.x.min()) and float(fine.train.x.max()) <= 1.0
