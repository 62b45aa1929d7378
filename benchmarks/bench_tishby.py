"""The whole ``tishby-tanh`` preset with its plane against the same preset without it and a
plain-PyTorch floor, back to back in one run (issue: the plane within 1.3x of untracked).

Rows, each a fresh Python process timed from start to exit (imports, data, training, the
plane's last estimations, the optimal curve, figures, report):

- ``ibkit run tishby-tanh``: 274 planes (binning, both KDE bounds) and the optimal curve;
- the same with ``--set recipes=classification`` (no plane, no gradient statistics);
- a plain-PyTorch loop doing the training work of the engine: the same network, Adam at
  4e-4, batches of 512 from a seeded permutation, the training loss and accuracy summed
  over the batches, and an evaluation of the validation and test splits after every epoch;
  no checkpoints, figures or files.

The ratios are the result (these machines' speed drifts between runs); target: tracked /
untracked <= 1.3. Usage: python benchmarks/bench_tishby.py [--epochs 8000] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _device import add_device, checked  # benchmarks/ is on sys.path

FLOOR = r"""
import sys, torch
from ibkit.data import load_dataset
from ibkit.models import MLP
epochs, device = int(sys.argv[1]), sys.argv[2]
torch.set_num_threads(1)
torch.manual_seed(0)
data = load_dataset("tishby-12bit")
tr, splits = data.train, [s for s in (data.val, data.test) if s is not None]
x, y = tr.x.to(device), tr.y.to(device)
model = MLP(12, (10, 7, 5, 4, 3), 2, "tanh").to(device)
opt = torch.optim.Adam(model.parameters(), lr=4e-4)
loss_fn = torch.nn.CrossEntropyLoss()
g = torch.Generator().manual_seed(0)
for epoch in range(epochs):
    model.train()
    total, correct = 0.0, 0.0
    for idx in torch.randperm(len(y), generator=g).split(512):
        out = model(x[idx])
        loss = loss_fn(out, y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
        correct += float((out.argmax(1) == y[idx]).sum())
    model.eval()
    with torch.no_grad():
        for s in splits:
            out = model(s.x.to(device))
            float(loss_fn(out, s.y.to(device))), float((out.argmax(1) == s.y.to(device)).float().mean())
"""


def timed(cmd: list[str]) -> float:
    """Wall seconds of ``cmd`` in a fresh process with one thread per library."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=8000)
    add_device(parser)
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds of the three rows, interleaved; every round is printed")
    args = parser.parse_args()
    checked(args.device)
    ibkit = [sys.executable, "-m", "ibkit.cli", "run", "tishby-tanh", "--device", args.device,
             "--set", f"train.epochs={args.epochs}", "--set", "train.progress=false"]
    names = ("ibkit run tishby-tanh (plane: 274 points, binning + KDE, optimal curve)",
             "ibkit run tishby-tanh --set recipes=classification (no plane)",
             "plain PyTorch loop, same training and per-epoch evaluation (floor)")
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):  # interleaved: a drift of the machine hits every row
            rounds.append([
                timed([*ibkit, "--run-dir", str(Path(tmp) / f"on{r}")]),
                timed([*ibkit, "--set", "recipes=classification", "--run-dir",
                       str(Path(tmp) / f"off{r}")]),
                timed([sys.executable, "-c", FLOOR, str(args.epochs), args.device])])
    print(f"tishby-tanh, {args.epochs} epochs, device {args.device}, one thread per process\n")
    print("| run | round | wall s | / no plane |")
    print("|---|---:|---:|---:|")
    for r, times in enumerate(rounds):
        for name, seconds in zip(names, times, strict=True):
            print(f"| {name} | {r + 1} | {seconds:.1f} | {seconds / times[1]:.2f} |")

if __name__ == "__main__":
    main()
