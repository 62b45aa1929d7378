"""Training throughput of Deep VIB through ibkit's engine, measured side by side.

Rows (batch 100, MNIST shapes 784-1024-1024-2x256-10, Adam):
  (a) ibkit's VIB model through the engine (1 and 12 training samples of z, EMA on as
      in the vib-mnist presets),
  (b) the deterministic model with the same matrix multiplications (a 2K = 512 wide code
      layer, as VIB's mean-and-rho head) through the engine; the K = 256 baseline of the
      deterministic-mnist preset is shown too,
  (c) the step's matrix multiplications alone, the bound for this machine: per layer the
      forward GEMM and the weight-gradient GEMM, and the input-gradient GEMM for every layer
      but the first (autograd computes no gradient for the data, so no training step does
      that one),
  plus a plain PyTorch loop for reference.

How it is timed: every row is built once; then, round after round, each row trains one block
of ``--block`` samples in turn (interleaved, so that the machine's drift hits every row
alike), and every single step is timed (for the engine rows between consecutive
``on_batch_end`` calls: the whole step, data indexing to callbacks). A row's rate in a round
is 100 / the median step time of its block; the table of each round and the median over
rounds are printed (the targets must hold in each round).
Usage: python benchmarks/bench_vib.py [--block 2000] [--repeats 3] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from _device import add_device, checked, sync  # benchmarks/ is on sys.path

from ibkit.callbacks import Callback
from ibkit.data import Dataset, Split
from ibkit.engine import TrainConfig, Trainer
from ibkit.models import DeterministicClassifier, VIBClassifier
from ibkit.objectives import VIBObjective

BATCH = 100
SHAPES = [(784, 1024), (1024, 1024), (1024, 512), (256, 10)]
BOUND = "(c) matrix multiplications alone"
DET = "(b) deterministic, engine, EMA"


def _data(n: int) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    return Dataset("bench", Split(x, torch.randint(0, 10, (n,), generator=g)), None, None, 10)


class StepTimes(Callback):
    """Seconds between consecutive ``on_batch_end`` calls of one epoch: one whole step each."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.times: list[float] = []
        self._last: float | None = None

    def on_batch_end(self, trainer: object, batch: int, out: object) -> None:
        sync(self.device)
        now = time.perf_counter()
        if self._last is not None:
            self.times.append(now - self._last)
        self._last = now

    def on_epoch_end(self, trainer: object, epoch: int, row: dict[str, float]) -> None:
        self._last = None


def engine_block(model_name: str, n: int, train_samples: int = 1, ema: float = 0.999,
                 code: int = 256, device: str = "cpu") -> Callable[[], list[float]]:
    """A trainer built once; each call trains one epoch of ``n`` samples and returns its
    step times."""
    torch.manual_seed(0)
    timer = StepTimes(device)
    config = TrainConfig(epochs=1, batch_size=BATCH, lr=1e-4, ema_decay=ema, progress=False,
                         device=device)
    if model_name == "vib":
        model = VIBClassifier(784, (1024, 1024), 256, 10, train_samples=train_samples)
        trainer = Trainer(model, _data(n), config, VIBObjective(1e-3, 3.32), callbacks=[timer])
    else:
        model = DeterministicClassifier(784, (1024, 1024), code, 10)
        trainer = Trainer(model, _data(n), config, callbacks=[timer])

    def block() -> list[float]:
        timer.times = []
        trainer.fit()
        return timer.times

    return block


def matmul_block(n: int, device: str = "cpu") -> Callable[[], list[float]]:
    """The GEMMs of a training step (module docstring), nothing else, ``n / 100`` times."""
    ws = [torch.randn(i, o, device=device) for i, o in SHAPES]
    acts = [torch.randn(BATCH, i, device=device) for i, _ in SHAPES]
    grads = [torch.randn(BATCH, o, device=device) for _, o in SHAPES]

    def step() -> None:
        for k, (w, a, g) in enumerate(zip(ws, acts, grads, strict=True)):
            a @ w
            if k > 0:  # no gradient for the data
                g @ w.T
            a.T @ g

    return lambda: _timed(step, n // BATCH, device)


def plain_block(n: int, fused: bool, device: str = "cpu") -> Callable[[], list[float]]:
    """A plain PyTorch loop (the deterministic K = 256 network, Adam, no EMA)."""
    data = _data(n)
    x, y = data.train.x.to(device), data.train.y.to(device)
    torch.manual_seed(0)
    model = DeterministicClassifier(784, (1024, 1024), 256, 10).to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-4, fused=fused)
    batches = itertools.cycle([idx.to(device) for idx in torch.randperm(n).split(BATCH)])

    def step() -> None:
        idx = next(batches)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()

    return lambda: _timed(step, n // BATCH, device)


def _timed(step: Callable[[], None], steps: int, device: str) -> list[float]:
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        sync(device)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--block", type=int, default=2000,
                    help="samples each row trains per round (steps of 100)")
    ap.add_argument("--repeats", type=int, default=3, help="rounds")
    ap.add_argument("--rounds-per-repeat", type=int, default=5,
                    help="interleaved blocks pooled into one printed round")
    add_device(ap)
    args = ap.parse_args()
    n, dev = args.block, checked(args.device)
    rows = {
        "(a) VIB, engine, 1 sample, EMA": engine_block("vib", n, 1, device=dev),
        "(a) VIB, engine, 12 samples, EMA": engine_block("vib", n, 12, device=dev),
        DET: engine_block("det", n, code=512, device=dev),
        "deterministic K=256 code, engine, EMA": engine_block("det", n, device=dev),
        "deterministic K=256 code, no EMA": engine_block("det", n, ema=0.0, device=dev),
        "plain PyTorch loop, Adam": plain_block(n, False, dev),
        "plain PyTorch loop, Adam fused": plain_block(n, True, dev),
        BOUND: matmul_block(n, dev),
    }
    for block in rows.values():  # warm-up: allocator, thread pool, first-call costs
        block()
    rounds: list[dict[str, float]] = []
    for _ in range(args.repeats):
        times: dict[str, list[float]] = {k: [] for k in rows}
        for _ in range(args.rounds_per_repeat):  # interleaved blocks
            for name, block in rows.items():
                times[name] += block()
        rounds.append({k: BATCH / statistics.median(v) for k, v in times.items()})
    print(f"torch {torch.__version__}, device {dev}, {torch.get_num_threads()} threads, "
          f"batch {BATCH}, {args.repeats} rounds of {args.rounds_per_repeat} interleaved "
          f"blocks of {n} samples; rate = {BATCH} / median step time")
    for r, rates in enumerate(rounds):
        _table(f"round {r + 1}", rates)
    _table(f"median of {args.repeats} rounds",
           {k: statistics.median(r[k] for r in rounds) for k in rows})


def _table(title: str, rates: dict[str, float]) -> None:
    bound, det = rates[BOUND], rates[DET]
    print(f"\n{title}\n{'row':<38}{'samples/s':>10}{'vs (c)':>8}{'vs (b)':>8}")
    for k, v in rates.items():
        print(f"{k:<38}{v:>10.0f}{v / bound:>8.2f}{v / det:>8.2f}")
    vib = rates["(a) VIB, engine, 1 sample, EMA"]
    print(f"targets: VIB / (c) = {vib / bound:.2f} (>= 0.85), VIB / (b) = {vib / det:.2f} "
          "(>= 0.95)")


if __name__ == "__main__":
    main()
