"""Cost of tracking the information plane, measured side by side in one run.

(a) 12-bit task, 12-10-7-5-4-3-2 tanh, batch 512, --epochs epochs through the engine:
    no tracking; the plane every epoch with binning on a background thread, in a worker
    process, inline; every epoch with binning + KDE. Tracking overhead = extra wall time over no
    tracking, including the wait for the last estimations (target: every epoch < 10 %). The
    rows without KDE run --repeats rounds, interleaved, and report the median (this machine's
    speed drifts by 20-30 % between runs a minute apart); the KDE row runs once.
(b) one plane of the 12-bit network (6 layers, 4,096 inputs): binning, KDE bounds.
(c) one plane of Saxe et al.'s MNIST network 784-1024-20-20-20-10 (5 layers): the layers
    recorded once on 10,000 images, binning on all of them (hashed rows), KDE bounds on the
    first 4,096 (blocked distances); target <= 0.5 s for the whole plane. Untrained on noise
    inputs, and (where MNIST is found) after one epoch of training, on the test images.
Usage: python benchmarks/bench_plane.py [--epochs 1000] [--repeats 3] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from _device import add_device, checked  # benchmarks/ is on sys.path

from ibkit._errors import IbkitError
from ibkit.data import Dataset, Split, all_bit_patterns, generated_12bit_labels, load_dataset
from ibkit.engine import TrainConfig, Trainer
from ibkit.estimators import BinningEstimator, KDEEstimator
from ibkit.models import MLP
from ibkit.plane import InformationPlane, record_activations
from ibkit.plane.estimation import layer_points

LAYERS = ["act1", "act2", "act3", "act4", "act5", "output"]


def twelve_bit() -> tuple[Dataset, torch.Tensor, torch.Tensor]:
    x = all_bit_patterns(12).float()
    y = generated_12bit_labels(x)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    tr, te = perm[:3277], perm[3277:]
    return Dataset("12bit", Split(x[tr], y[tr]), None, Split(x[te], y[te]), 2), x, y


def train(epochs: int, estimators: list | None, background: bool | str = True,
          batch: int | None = None, device: str = "cpu") -> float:
    data, x, y = twelve_bit()
    torch.manual_seed(0)
    model = MLP(12, (10, 7, 5, 4, 3), 2, "tanh")
    cbs = []
    if estimators:
        cbs = [InformationPlane(model, x, y, estimators, LAYERS, background=background,
                                batch=batch)]
    config = TrainConfig(epochs=epochs, batch_size=512, lr=4e-4, progress=False, threads=1,
                         eval_batch_size=4096, device=device)
    start = time.perf_counter()
    Trainer(model, data, config, callbacks=cbs).fit()
    return time.perf_counter() - start


def one_plane(model: torch.nn.Module, layers: list[str], x: torch.Tensor, y: torch.Tensor,
              estimator: object, n: int) -> float:
    start = time.perf_counter()
    acts = record_activations(model, layers, x[:n])
    for layer, t in acts.items():
        layer_points(estimator, 0, layer, t, y[:n])
    return time.perf_counter() - start


def mnist_plane(device: str, trained: bool = False) -> dict[str, float] | None:
    """Seconds of each part of one MNIST plane, as the plane does it: record once, then
    binning on all 10,000 rows and KDE on the first 4,096 (best of 3). ``trained``: the
    network after one epoch of saxe-mnist's SGD (lr 0.01, momentum 0.9, batch 128) on 10,000
    MNIST training images, recorded on the 10,000 test images (tanh units saturate, the
    distances grow: what a plane during training sees); None where MNIST is not found.
    Otherwise the untrained network on uniform noise."""
    torch.manual_seed(0)
    model = MLP(784, (1024, 20, 20, 20), 10, "tanh").to(device)
    if trained:
        try:
            data = load_dataset("mnist", train_size=10_000)
        except IbkitError:
            return None
        x, y = data.test.x.flatten(1).to(device), data.test.y
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        xt, yt = data.train.x.flatten(1).to(device), data.train.y.to(device)
        for idx in torch.randperm(len(yt), device=device).split(128):
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    else:
        x, y = torch.rand(10_000, 784, device=device), torch.randint(0, 10, (10_000,))
    layers = ["act1", "act2", "act3", "act4", "output"]
    parts: dict[str, list[float]] = {"record 5 layers, 10,000 images": [],
                                     "binning, 10,000 images": [], "KDE bounds, 4,096 images": []}
    for _ in range(3):
        start = time.perf_counter()
        acts = record_activations(model, layers, x)
        parts["record 5 layers, 10,000 images"].append(time.perf_counter() - start)
        for name, est, n in (("binning, 10,000 images", BinningEstimator(30), 10_000),
                             ("KDE bounds, 4,096 images", KDEEstimator(noise_var=0.1), 4096)):
            start = time.perf_counter()
            for layer, t in acts.items():
                layer_points(est, 0, layer, t[:n], y[:n])
            parts[name].append(time.perf_counter() - start)
    return {k: min(v) for k, v in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    add_device(parser)
    args = parser.parse_args()
    checked(args.device)
    torch.set_num_threads(2)
    binning, kde = BinningEstimator(30), KDEEstimator(noise_var=0.1)
    print(f"(a) 12-bit training, {args.epochs} epochs, plane every epoch")
    print(f"| tracking | seconds (median of {args.repeats}) | overhead |\n|---|---|---|")
    rows = (("none", None, False, None),
            ("binning, background thread, batch 1", [binning], "thread", 1),
            ("binning, background thread, batch 16", [binning], "thread", 16),
            ("binning, worker process, batch 1", [binning], "process", 1),
            ("binning, worker process, batch 16", [binning], "process", 16),
            ("binning, inline, batch 1", [binning], False, 1),
            ("binning, inline, batch 16", [binning], False, 16))
    times: dict[str, list[float]] = {label: [] for label, *_ in rows}
    for _ in range(args.repeats):  # interleaved, so a drift of the machine hits every row
        for label, ests, bg, batch in rows:
            times[label].append(train(args.epochs, ests, bg, batch, args.device))
    base = statistics.median(times["none"])
    for label, *_ in rows:
        t = statistics.median(times[label])
        print(f"| {label} | {t:.1f} | {'-' if label == 'none' else f'{100 * (t / base - 1):+.0f} %'} |")
    t = train(args.epochs, [binning, kde], "process", device=args.device)
    print(f"| binning + KDE, worker process (once) | {t:.1f} | {100 * (t / base - 1):+.0f} % |")
    _, x, y = twelve_bit()
    model = MLP(12, (10, 7, 5, 4, 3), 2, "tanh").to(args.device)
    x = x.to(args.device)
    print("\n(b) one plane, 12-bit network, 6 layers, 4,096 inputs\n| estimator | seconds |\n|---|---|")
    for name, est in (("binning", binning), ("KDE, both bounds", kde)):
        one_plane(model, LAYERS, x, y, est, 4096)
        print(f"| {name} | {min(one_plane(model, LAYERS, x, y, est, 4096) for _ in range(3)):.3f} |")
    untrained, trained = mnist_plane(args.device), mnist_plane(args.device, trained=True)
    print("\n(c) one plane, 784-1024-20-20-20-10, 5 layers (best of 3)\n"
          "| part | untrained, noise inputs | after 1 epoch on MNIST, test images |\n|---|---|---|")
    for name, seconds in untrained.items():
        other = "not found" if trained is None else f"{trained[name]:.3f}"
        print(f"| {name} | {seconds:.3f} | {other} |")
    total = "not found" if trained is None else f"{sum(trained.values()):.3f}"
    print(f"| whole plane (target <= 0.5 s) | {sum(untrained.values()):.3f} | {total} |")
    print(f"\ndevice {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads")

if __name__ == "__main__":
    main()
