"""Data sets by name, the way presets and the CLI ask for them."""

from __future__ import annotations

import os

from ibkit._errors import param_error
from ibkit.data._types import Dataset
from ibkit.data.cifar import load_cifar10, load_cifar100
from ibkit.data.digits import load_digits
from ibkit.data.mnist import load_fashion_mnist, load_mnist
from ibkit.data.splits import binarized, subset, with_random_labels
from ibkit.data.synthetic import load_boolean_4bit, load_tishby_12bit

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "cifar100", "cifar100-coarse",
            "tishby-12bit", "boolean-4bit")


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    scale: str = "unit",
    seed: int = 0,
    random_labels: bool = False,
    binarize: bool = False,
    train_size: int = 0,
    eval_size: int = 0,
) -> Dataset:
    """Load data set ``name`` (one of :data:`DATASETS`) with its seeded splits.

    Args:
        name: the data set.
        data_dir: where to look first for files (``--data-dir``).
        scale: pixel scaling of image sets, ``"unit"`` or ``"symmetric"``.
        seed: seed of the splits (and of generated tasks).
        random_labels: replace labels by a seeded permutation (zero information).
        binarize: a static, seeded Bernoulli draw of the pixels (:func:`binarized`).
        train_size, eval_size: keep a seeded subset of the training / the validation and
            test splits (0 = all; :func:`subset`).
    """
    if name == "digits":
        data = load_digits(scale=scale, seed=seed)
    elif name == "mnist":
        data = load_mnist(data_dir, scale=scale, seed=seed)
    elif name == "fashion-mnist":
        data = load_fashion_mnist(data_dir, scale=scale, seed=seed)
    elif name == "cifar10":
        data = load_cifar10(data_dir, scale=scale, seed=seed)
    elif name in ("cifar100", "cifar100-coarse"):
        data = load_cifar100(data_dir, scale=scale, seed=seed,
                             labels="fine" if name == "cifar100" else "coarse")
    elif name == "tishby-12bit":
        data = load_tishby_12bit(data_dir, seed=seed)
    elif name == "boolean-4bit":
        data = load_boolean_4bit(seed=seed)
    else:
        raise param_error("data.name", "the data config", f"one of {DATASETS}", name)
    data = subset(data, train_size, eval_size, seed)
    data = binarized(data, seed) if binarize else data
    return with_random_labels(data, seed) if random_labels else data
