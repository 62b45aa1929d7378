"""MI estimators on the benchmark suite of ibkit.estimators.task_families (24 tasks with
exact MI, 1-25 dimensions per side, 5,000 samples): per task and estimator the error in nats
and the time, then per estimator the median absolute error, the count within 0.05 nats
(0.07 bits), the worst excess over KSG's error, and (for those that give one) how often the
95 % interval covers the truth.
Usage: python benchmarks/bench_mi_tasks.py [--n 5000] [--estimators copula,gaussian,ksg]
    [--device cpu|cuda] (the samples are given as torch tensors on the device; estimators
    that work in NumPy copy them to the CPU, and that copy is timed)
(``ksg-copula`` is KSG on normal scores, ``KSGEstimator(copula=True)``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _device import add_device, checked  # benchmarks/ is on sys.path

from ibkit._units import LN2
from ibkit.estimators import make_estimator
from ibkit.estimators.task_families import benchmark_tasks

PARAMS = {"ksg": {"k": 3}, "copula": {"bootstrap": 50}, "neural": {}}
ALIASES = {"ksg-copula": ("ksg", {"k": 3, "copula": True})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--estimators", default="copula,gaussian,ksg")
    add_device(parser)
    args = parser.parse_args()
    dev = checked(args.device)
    names = args.estimators.split(",")
    tasks = benchmark_tasks(args.n)
    errors: dict[str, list[float]] = {m: [] for m in names}
    covered: dict[str, list[bool]] = {m: [] for m in names}
    print("| task | true (nats) | " + " | ".join(f"{m} err (nats) | s" for m in names) + " |")
    print("|---|---|" + "---|---|" * len(names))
    for task in tasks:
        cells = []
        for m in names:
            start = time.perf_counter()
            method, params = ALIASES.get(m, (m, PARAMS.get(m, {})))
            x, y = (torch.as_tensor(v, device=dev) for v in (task.x, task.y))
            est = make_estimator(method, **params).estimate(x, y)
            seconds = time.perf_counter() - start
            err = (est.value_bits - task.mi_bits) * LN2
            errors[m].append(err)
            if "ci95_bits" in est.details:
                lo, hi = est.details["ci95_bits"]
                covered[m].append(lo <= task.mi_bits <= hi)
            cells.append(f"{err:+.3f} | {seconds:.2f}")
        print(f"| {task.name} | {task.mi_bits * LN2:.3f} | " + " | ".join(cells) + " |")
    print()
    print("| estimator | median abs err (nats) | within 0.05 nats | worst excess over ksg (nats) "
          "| 95 % interval covers |")
    print("|---|---|---|---|---|")
    for m in names:
        abs_err = [abs(e) for e in errors[m]]
        within = sum(e <= 0.05 for e in abs_err)
        excess = (max(a - abs(k) for a, k in zip(abs_err, errors["ksg"], strict=True))
                  if "ksg" in errors else float("nan"))
        cover = f"{sum(covered[m])} of {len(covered[m])}" if covered[m] else "-"
        print(f"| {m} | {statistics.median(abs_err):.3f} | {within} of {len(tasks)} | "
              f"{excess:+.3f} | {cover} |")


if __name__ == "__main__":
    main()
