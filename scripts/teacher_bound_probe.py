"""How tight can the teacher-student bound get on a finished student? Trains fresh inference
networks for longer than the per-epoch budget of a run and prints the bound beside the direct
VIB bound, all in bits.

    python scripts/teacher_bound_probe.py RUN_DIR [--steps 3000] [--lr 1e-3] [--m 1 8]

RUN_DIR is a finished teacher-student run (``herwana-*`` preset).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ibkit._io import load_torch
from ibkit.data import load_dataset
from ibkit.estimators import TeacherStudentBound
from ibkit.experiments.families.teacher_student import (
    MeanTeacher,
    _remade,
    load_teacher,
    vib_student,
)
from ibkit.experiments.registry import RunContext, build_model
from ibkit.experiments.rundir import RunDirectory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--m", type=int, nargs="+", default=[1])
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    config = RunDirectory(args.run_dir).read_config()
    t = config.teacher
    teacher = load_teacher(Path(t.run_dir) if t.run_dir else args.run_dir / "teacher")
    d = config.data
    source = load_dataset(d.name, d.data_dir, d.scale, d.split_seed, d.random_labels)
    data = _remade(RunContext(config, source, args.run_dir, False), teacher)
    model = build_model(config, data)
    model.load_state_dict(load_torch(args.run_dir / "checkpoints" / "model.pt"))
    model.eval()
    split = data.val if data.val is not None else data.train
    x = split.x[: args.samples]
    sampler = MeanTeacher(teacher) if t.mode == "reconstruct" else teacher
    print("M, steps, lr, teacher-student bits (se), direct bits, seconds")
    for m in args.m:
        start = time.perf_counter()
        est = TeacherStudentBound(sampler, vib_student(model), m=m, steps=args.steps, lr=args.lr,
                                  batch_size=256, full_covariance=t.full_covariance)
        e = est.estimate(x, split.y[: args.samples])
        print(f"{m}, {args.steps}, {args.lr:g}, {e.value_bits:.2f} ({e.stderr_bits:.2f}), "
              f"{e.details['direct_bits']:.2f}, {time.perf_counter() - start:.0f}")


if __name__ == "__main__":
    main()
