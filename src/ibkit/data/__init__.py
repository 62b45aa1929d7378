"""Data sets: official files with checksums and a cache, the embedded digits, generated tasks.

Image sets return ``x`` as ``(n, channels, height, width)`` float32 and ``y`` as int64.
"""

from ibkit.data._files import RemoteFile, cache_root, candidate_dirs, locate, verify
from ibkit.data._scaling import scale_pixels
from ibkit.data._types import Dataset, Split
from ibkit.data.augment import random_shift
from ibkit.data.cifar import load_cifar10, load_cifar100, read_cifar10_binary, read_cifar100_binary
from ibkit.data.digits import load_digits
from ibkit.data.mnist import load_fashion_mnist, load_mnist, read_idx
from ibkit.data.registry import DATASETS, load_dataset
from ibkit.data.splits import binarized, split_off, subset, train_val_test, with_random_labels
from ibkit.data.synthetic import (
    BOOLEAN_RULES,
    all_bit_patterns,
    boolean_patterns_and_rule,
    generated_12bit_labels,
    load_boolean_4bit,
    load_tishby_12bit,
    twelve_bit_task,
)
from ibkit.data.teacher import fit_latent_labeller, teacher_dataset

__all__ = [
    "binarized",
    "fit_latent_labeller",
    "teacher_dataset",
    "BOOLEAN_RULES",
    "DATASETS",
    "Dataset",
    "RemoteFile",
    "Split",
    "all_bit_patterns",
    "boolean_patterns_and_rule",
    "cache_root",
    "candidate_dirs",
    "generated_12bit_labels",
    "load_boolean_4bit",
    "load_cifar10",
    "load_cifar100",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_tishby_12bit",
    "locate",
    "random_shift",
    "read_cifar10_binary",
    "read_cifar100_binary",
    "read_idx",
    "scale_pixels",
    "split_off",
    "subset",
    "train_val_test",
    "twelve_bit_task",
    "verify",
    "with_random_labels",
]
