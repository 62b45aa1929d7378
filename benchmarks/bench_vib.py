"""Training throughput of Deep VIB through ibkit's engine, measured side by side.

Rows (batch 100, MNIST shapes 784-1024-1024-2x256-10, Adam):
  (a) ibkit's VIB model through the engine (1 and 12 training samples of z, EMA on as
      in the vib-mnist presets),
  (b) the deterministic model with the same matrix multiplications (a 2K = 512 wide code
      layer, as VIB's mean-and-rho head) through the engine; the K = 256 baseline of the
      deterministic-mnist preset is shown too,
  (c) the step's matrix multiplications alone (forward + backward GEMMs), the bound
      for this machine,
  plus a plain PyTorch loop for reference.
Every round is printed (the targets must hold in each), then the medians.
Usage: python benchmarks/bench_vib.py [--samples 6000] [--repeats 3] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from _device import add_device, checked, sync  # benchmarks/ is on sys.path

from ibkit.data import Dataset, Split
from ibkit.engine import TrainConfig, Trainer
from ibkit.models import DeterministicClassifier, VIBClassifier
from ibkit.objectives import VIBObjective

SHAPES = [(784, 1024), (1024, 1024), (1024, 512), (256, 10)]


def _data(n: int) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    return Dataset("bench", Split(x, torch.randint(0, 10, (n,), generator=g)), None, None, 10)


def engine_rate(model_name: str, n: int, train_samples: int = 1, ema: float = 0.999,
                code: int = 256, device: str = "cpu") -> float:
    data = _data(n)
    torch.manual_seed(0)
    if model_name == "vib":
        model = VIBClassifier(784, (1024, 1024), 256, 10, train_samples=train_samples)
        objective = VIBObjective(1e-3, 3.32)
        trainer = Trainer(model, data, TrainConfig(epochs=1, batch_size=100, lr=1e-4,
                                                   ema_decay=ema, progress=False,
                                                   device=device), objective)
    else:
        model = DeterministicClassifier(784, (1024, 1024), code, 10)
        trainer = Trainer(model, data, TrainConfig(epochs=1, batch_size=100, lr=1e-4,
                                                   ema_decay=ema, progress=False,
                                                   device=device))
    t0 = time.perf_counter()
    trainer.fit()
    sync(device)
    return n / (time.perf_counter() - t0)


def matmul_rate(n: int, device: str = "cpu") -> float:
    """Forward (x W) and backward (dY W^T, X^T dY) GEMMs of every layer, nothing else."""
    ws = [torch.randn(i, o, device=device) for i, o in SHAPES]
    acts = [torch.randn(100, i, device=device) for i, _ in SHAPES]
    grads = [torch.randn(100, o, device=device) for _, o in SHAPES]
    sync(device)
    t0 = time.perf_counter()
    for _ in range(n // 100):
        for w, a, g in zip(ws, acts, grads, strict=True):
            a @ w
            g @ w.T
            a.T @ g
    sync(device)
    return n / (time.perf_counter() - t0)


def plain_rate(n: int, fused: bool, device: str = "cpu") -> float:
    data = _data(n)
    x, y = data.train.x.to(device), data.train.y.to(device)
    torch.manual_seed(0)
    model = DeterministicClassifier(784, (1024, 1024), 256, 10).to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-4, fused=fused)
    t0 = time.perf_counter()
    for idx in torch.randperm(n).split(100):
        idx = idx.to(device)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    sync(device)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=6000)
    ap.add_argument("--repeats", type=int, default=3)
    add_device(ap)
    args = ap.parse_args()
    n, dev = args.samples, checked(args.device)
    rows = {
        "(a) VIB, engine, 1 sample, EMA": lambda: engine_rate("vib", n, 1, device=dev),
        "(a) VIB, engine, 12 samples, EMA": lambda: engine_rate("vib", n, 12, device=dev),
        "(b) deterministic, engine, EMA": lambda: engine_rate("det", n, code=512, device=dev),
        "deterministic K=256 code, engine, EMA": lambda: engine_rate("det", n, device=dev),
        "deterministic K=256 code, no EMA": lambda: engine_rate("det", n, ema=0.0, device=dev),
        "plain PyTorch loop, Adam": lambda: plain_rate(n, False, dev),
        "plain PyTorch loop, Adam fused": lambda: plain_rate(n, True, dev),
        "(c) matrix multiplications alone": lambda: matmul_rate(n, dev),
    }
    results: dict[str, list[float]] = {}
    for _ in range(args.repeats):  # interleaved, so drift hits every row alike
        for name, fn in rows.items():
            results.setdefault(name, []).append(fn())
    print(f"torch {torch.__version__}, device {dev}, {torch.get_num_threads()} threads, "
          f"batch 100, {args.repeats} rounds")
    for r in range(args.repeats):
        _table(f"round {r + 1}", {k: v[r] for k, v in results.items()})
    _table(f"median of {args.repeats}", {k: statistics.median(v) for k, v in results.items()})


def _table(title: str, rates: dict[str, float]) -> None:
    bound = rates["(c) matrix multiplications alone"]
    det = rates["(b) deterministic, engine, EMA"]
    print(f"\n{title}\n{'row':<38}{'samples/s':>10}{'vs (c)':>8}{'vs (b)':>8}")
    for k, v in rates.items():
        print(f"{k:<38}{v:>10.0f}{v / bound:>8.2f}{v / det:>8.2f}")


if __name__ == "__main__":
    main()
