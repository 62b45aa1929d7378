"""KSG's neighbour search: scipy's k-d trees against ibkit's blocked brute force in torch
(max-norm ``torch.cdist``), side by side in one run, at N samples over joint dimensions;
the two must give the same terms (max difference printed). The crossover sets
``ibkit.estimators.knn.BRUTE_FORCE_DIM``.
Usage: python benchmarks/bench_ksg_speed.py [--n 5000] [--threads 2] [--dims 2,4,8,16,50]
    [--device cpu|cuda] (the brute force runs on the device; the trees are scipy's, on the CPU)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _device import add_device, checked, sync  # benchmarks/ is on sys.path

from ibkit.estimators.knn import ksg_terms, ksg_terms_brute


def timed(fn, *args) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dims", default="2,4,8,16,50")
    add_device(parser)
    args = parser.parse_args()
    dev = checked(args.device)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print("| joint dim | trees (s) | brute force (s) | trees / brute | max term difference |")
    print("|---|---|---|---|---|")
    for d in (int(v) for v in args.dims.split(",")):
        x = rng.standard_normal((args.n, d // 2))
        y = x + rng.standard_normal((args.n, d - d // 2))[:, : d // 2] \
            if d // 2 == d - d // 2 else rng.standard_normal((args.n, d - d // 2))
        t_tree, a = timed(ksg_terms, x, y, 3)
        xd, yd = torch.as_tensor(x, device=dev), torch.as_tensor(y, device=dev)
        sync(dev)
        t_brute, b = timed(ksg_terms_brute, xd, yd, 3)
        print(f"| {d} | {t_tree:.3f} | {t_brute:.3f} | {t_tree / t_brute:.2f} | "
              f"{np.abs(a - b).max():.1e} |")


if __name__ == "__main__":
    main()
