"""What a full VIBNet VGG16 run costs: seconds per gated training epoch of the modified VGG16
(a gate after every ReLU, objective (*), Adam, batch 128) on CIFAR-10 and CIFAR-100 shapes,
timed over a few steps on random images and scaled to the 45,000 training images the loaders
keep (50,000 minus 5,000 for validation); and the presets' whole runs (gated epochs plus
fine-tuning) in hours.
Usage: python benchmarks/bench_vgg_epoch.py [--steps 5] [--threads 1] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import time

import torch
from _device import add_device, checked, sync  # benchmarks/ is on sys.path

from ibkit.compress import VIBNetObjective, add_gates
from ibkit.experiments import resolve_config
from ibkit.experiments.families.compression import VGG_GATES, VGG_POINTS
from ibkit.models import vgg16_cifar

TRAIN_IMAGES = 45_000


def seconds_per_step(n_classes: int, steps: int, device: str, batch: int = 128) -> float:
    torch.manual_seed(0)
    x = torch.rand(batch, 3, 32, 32, device=device)
    y = torch.randint(0, n_classes, (batch,), device=device)
    model = add_gates(vgg16_cifar(n_classes).to(device), VGG_GATES, x[:8])
    objective = VIBNetObjective(10.0, TRAIN_IMAGES)
    optimizer = torch.optim.Adam(objective.param_groups(model), 1e-3)
    model.train()

    def step() -> None:
        optimizer.zero_grad()
        objective(model, x, y).loss.backward()
        optimizer.step()

    step()  # warm-up
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    add_device(parser)
    args = parser.parse_args()
    checked(args.device)
    torch.set_num_threads(args.threads)
    per_epoch = {}
    print(f"| data | s / step (batch 128) | s / epoch ({TRAIN_IMAGES:,} images) | "
          f"device, threads |")
    print("|---|---|---|---|")
    for data, n_classes in (("cifar10", 10), ("cifar100", 100)):
        s = seconds_per_step(n_classes, args.steps, args.device)
        per_epoch[data] = s * -(-TRAIN_IMAGES // 128)
        print(f"| {data} | {s:.2f} | {per_epoch[data]:.0f} | {args.device}, {args.threads} |")
    print()
    print("| preset | epochs (gated + fine-tuning) | hours, at most (fine-tuning runs the smaller model) |")
    print("|---|---|---|")
    for name, data, *_ in VGG_POINTS:
        c = resolve_config(name)
        epochs = c.train.epochs + c.compress.finetune_epochs
        print(f"| {name} | {epochs} | {epochs * per_epoch[data] / 3600:.1f} |")


if __name__ == "__main__":
    main()
