"""Speed and accuracy of ibkit's MI estimators, measured side by side in one run.

(a) binning, 6 tanh layers (widths 10-7-5-4-3-2) of N = 4096 inputs (the 12-bit task):
    I(X;T) and I(T;Y) for all layers, against a straightforward NumPy version
    (np.unique over rows); target <= 10 ms per epoch.
(b) both KDE bounds (I(X;T) and I(T;Y)) for the same 6 layers, against a NumPy port of
    the pairwise formula in float64; target <= 0.5 s.
(c) KSG at N = 5000 for dimensions 1, 5, 25; scikit-learn's mutual_info_regression in 1-D.
(d) absolute error (bits) of each estimator on a grid of Gaussian tasks.
Medians of --repeats runs. Usage: python benchmarks/bench_estimators.py [--repeats 5] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from _device import add_device, checked, sync  # benchmarks/ is on sys.path
from scipy.special import logsumexp

from ibkit.data import all_bit_patterns, generated_12bit_labels
from ibkit.estimators import (
    BinningEstimator,
    GaussianEstimator,
    KSGEstimator,
    NeuralEstimator,
    kde_bounds_nats,
)
from ibkit.estimators.tasks import correlated_gaussian

WIDTHS = (10, 7, 5, 4, 3, 2)


def layers() -> tuple[list[np.ndarray], np.ndarray]:
    torch.manual_seed(0)
    x = all_bit_patterns(12)
    y = generated_12bit_labels(x).numpy()
    acts, h = [], x
    for w in WIDTHS:
        h = torch.tanh(h @ torch.randn(h.shape[1], w) * 1.5)
        acts.append(h.numpy().astype(np.float64))
    return acts, y


def timed(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def binning_numpy(acts: list[np.ndarray], y: np.ndarray) -> None:
    edges = np.linspace(-1, 1, 30)
    for t in acts:
        d = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, 29)
        _, inv, counts = np.unique(d, axis=0, return_inverse=True, return_counts=True)
        p = counts / counts.sum()
        h_t = -(p * np.log2(p)).sum()
        joint = inv.ravel() * 2 + y
        _, c2 = np.unique(joint, return_counts=True)
        q = c2 / c2.sum()
        _ = h_t, -(q * np.log2(q)).sum()


def kde_numpy(acts: list[np.ndarray], y: np.ndarray, s2: float) -> None:
    for t in acts:
        d = ((t[:, None, :] - t[None, :, :]) ** 2).sum(-1)
        for c in (2.0, 8.0):
            h = -np.mean(logsumexp(-d / (c * s2), axis=1) - np.log(len(t)))
            for k in (0, 1):
                m = y == k
                _ = h, -np.mean(logsumexp(-d[m][:, m] / (c * s2), axis=1) - np.log(m.sum()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    add_device(ap)
    args = ap.parse_args()
    r, dev = args.repeats, checked(args.device)
    print(f"device {dev} for (b) and the estimators' torch inputs; binning (a) and the "
          "references are NumPy / scikit-learn on the CPU")
    acts, y = layers()
    ids = np.arange(len(y))
    est = BinningEstimator()
    ours = timed(lambda: [est.layer_information(t, y) for t in acts], r)
    two = timed(lambda: [(est.estimate(t, ids), est.estimate(t, y)) for t in acts], r)
    ref = timed(lambda: binning_numpy(acts, y), r)
    print(f"(a) binning, 6 layers, N=4096: ibkit layer_information {ours * 1e3:.1f} ms "
          f"(two estimate() calls per layer {two * 1e3:.1f} ms), NumPy np.unique "
          f"{ref * 1e3:.1f} ms, ratio {ref / ours:.1f}x (target <= 10 ms)")
    ta = [torch.from_numpy(a).float().to(dev) for a in acts]
    ty = torch.from_numpy(y).to(dev)
    ours = timed(lambda: ([kde_bounds_nats(t, ty, 0.1) for t in ta], sync(dev)), r)
    ref = timed(lambda: kde_numpy(acts, y, 0.1), max(1, r // 3))
    print(f"(b) KDE upper+lower, I(X;T)+I(T;Y), 6 layers: ibkit {ours:.3f} s, NumPy port "
          f"{ref:.2f} s, ratio {ref / ours:.1f}x (target <= 0.5 s)")
    from sklearn.feature_selection import mutual_info_regression

    for d in (1, 5, 25):
        task = correlated_gaussian(5000, d, d, 1.0, random_state=0)
        t_ours = timed(lambda task=task: KSGEstimator().estimate(task.x, task.y), r)
        v = KSGEstimator().estimate(task.x, task.y).value_bits
        line = f"(c) KSG N=5000 d={d}: {t_ours:.3f} s, {v:.3f} bits (truth 1.000)"
        if d == 1:
            t_sk = timed(lambda task=task: mutual_info_regression(task.x, task.y.ravel(),
                                                                  random_state=0), r)
            v_sk = mutual_info_regression(task.x, task.y.ravel(), random_state=0)[0] / np.log(2)
            line += f"; scikit-learn {t_sk:.3f} s, {v_sk:.3f} bits, time ratio {t_sk / t_ours:.1f}x"
        print(line)
    print("(d) absolute error in bits, N=2000, seed 0")
    methods = {"gaussian": GaussianEstimator(), "ksg": KSGEstimator(),
               "infonce": NeuralEstimator("infonce"), "nwj": NeuralEstimator("nwj"),
               "mine": NeuralEstimator("mine")}
    print(f"{'task':<22}" + "".join(f"{m:>10}" for m in methods))
    for d, bits in ((1, 0.5), (1, 2.0), (5, 1.0), (10, 3.0)):
        task = correlated_gaussian(2000, d, d, bits, random_state=0)
        errs = [abs(m.estimate(task.x, task.y).value_bits - bits) for m in methods.values()]
        print(f"{f'd={d} I={bits:g}':<22}" + "".join(f"{e:>10.3f}" for e in errs))


if __name__ == "__main__":
    main()
