"""Exported (pruned) model against the original, measured side by side in one run.

For LeNet-300-100 pruned to the paper's 97-71-33 and LeNet5-Caffe pruned to the
vibnet-lenet5 preset's 3-9-17 (a gated model whose gates keep exactly those units; the
timings depend on the shapes only): parameters, file size of the state dict, and CPU inference throughput at
batch 1 and batch 256, with the ratio exported / original.
Usage: python benchmarks/bench_compress.py [--seconds 1.0] [--threads 1] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import io
import time

import torch
from _device import add_device, checked, sync  # benchmarks/ is on sys.path
from torch import nn

from ibkit.compress import add_gates, export_pruned, gates, prune_gates
from ibkit.models import MLP, lenet5_caffe


def keep_first(model: nn.Module, counts: tuple[int, ...]) -> None:
    """Make each gate keep its first ``counts[i]`` units (ln alpha 5 kept, -5 pruned)."""
    for g, k in zip(gates(model).values(), counts, strict=True):
        with torch.no_grad():
            g.mu.fill_(1.0)
            g.log_sigma2.fill_(-5.0)
            g.log_sigma2[k:] = 5.0


def throughput(model: nn.Module, x: torch.Tensor, seconds: float) -> float:
    model.eval()
    with torch.inference_mode():
        model(x)  # warm-up
        sync(x.device.type)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            model(x)
            n += len(x)
        sync(x.device.type)
    return n / (time.perf_counter() - start)


def size_bytes(model: nn.Module) -> int:
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.tell()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1)
    add_device(parser)
    args = parser.parse_args()
    dev = checked(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cases = [("LeNet-300-100 -> 97-71-33", MLP(784, (300, 100), 10), ["input", "act1", "act2"],
              (97, 71, 33)),
             ("LeNet5-Caffe -> 3-9-17 (preset)", lenet5_caffe(),
              ["relu1", "relu2", "relu3"], (3, 9, 17))]
    print("| model | measure | original | exported | ratio |\n|---|---|---|---|---|")
    for name, dense, after, keep in cases:
        x = torch.rand(256, 1, 28, 28)
        gated = add_gates(dense, after, x[:8])
        keep_first(gated, keep)
        prune_gates(gated)
        small = export_pruned(gated, x)
        rows = [("parameters", sum(p.numel() for p in dense.parameters()),
                 sum(p.numel() for p in small.parameters())),
                ("state dict bytes", size_bytes(dense), size_bytes(small))]
        for bs in (1, 256):
            xd = x[:bs].to(dev)
            rows.append((f"samples/s, batch {bs}, {dev}", throughput(dense.to(dev), xd,
                                                                     args.seconds),
                         throughput(small.to(dev), xd, args.seconds)))
        for measure, a, b in rows:
            print(f"| {name} | {measure} | {a:,.0f} | {b:,.0f} | {b / a:.3f} |")


if __name__ == "__main__":
    main()
