"""``--device`` for every benchmark: the argument, a clear refusal where CUDA is missing, and
the synchronisation that makes a CUDA timing honest (kernels run asynchronously)."""

from __future__ import annotations

import argparse

import torch


def add_device(parser: argparse.ArgumentParser) -> None:
    """``--device cpu|cuda`` (default cpu)."""
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="where the torch tensors and models of the benchmark live")


def checked(device: str) -> str:
    """``device``, or SystemExit with a message when it is ``cuda`` and CUDA is missing."""
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: this PyTorch build sees no CUDA device "
                         f"(torch {torch.__version__}); run with --device cpu.")
    return device


def sync(device: str) -> None:
    """Wait for the device's queued kernels (a no-op on the CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()
