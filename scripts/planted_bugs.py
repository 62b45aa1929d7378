"""Plant, one at a time, each bug that once slipped through every test (issue 15), run the
tests that guard it and restore the file; print CAUGHT or SURVIVED per bug.

Run from the repository root: ``python scripts/planted_bugs.py [NUMBER ...]``.
It edits ``src/`` for the length of each test run: while other jobs import ibkit from this
tree, run it in an exported copy instead (``git archive HEAD | tar -x -C COPY``, then
``cd COPY && PYTHONPATH=COPY/src python scripts/planted_bugs.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIAS_SUM = ("sum(m.bias.numel() for m in original.modules() "
            "if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)))")

# (name, file, text, planted text, guarding tests)
BUGS = [
    ("1 VariationalBounds I(Z;Y) in nats", "src/ibkit/estimators/variational.py",
     "kl_bits, ce_bits = torch.cat(kl) / LN2, torch.cat(ce) / LN2",
     "kl_bits, ce_bits = torch.cat(kl) / LN2, torch.cat(ce)",
     "tests/estimators/test_variational_bounds.py"),
    ("2 KDE plane I(T;Y) in nats", "src/ibkit/estimators/kde.py",
     'nats[f"I_TY_{b}"] / LN2', 'nats[f"I_TY_{b}"]', "tests/plane/test_tracker.py"),
    ("3 metrics with raw weights", "src/ibkit/engine/trainer.py",
     "        model = self.eval_model\n        for name in",
     "        model = self.model\n        for name in", "tests/test_engine.py"),
    ("4 hooks kept on normal exit", "src/ibkit/plane/hooks.py",
     "        yield store\n    finally:\n        for h in handles:\n            h.remove()",
     "        yield store\n    except BaseException:\n        for h in handles:\n"
     "            h.remove()\n        raise", "tests/plane/test_tracker.py"),
    ("5 download unverified", "src/ibkit/data/_files.py",
     "            verify(tmp, spec)\n            os.replace", "            os.replace",
     "tests/data/test_files.py"),
    ("6 observed one edge too many", "src/ibkit/estimators/binning.py",
     "edges = np.linspace(lo, hi if hi > lo else lo + 1.0, self.n_bins)",
     "edges = np.linspace(lo, hi if hi > lo else lo + 1.0, self.n_bins + 1)",
     "tests/estimators/test_discrete_and_binning.py"),
    ("7 r_W counts biases of original", "src/ibkit/compress/report.py",
     "w0, w1 = count_weights(original), count_weights(exported)",
     f"w0, w1 = count_weights(original) + {BIAS_SUM}, count_weights(exported)",
     "tests/compress/test_gates_and_export.py"),
    ("8 resume without RNG", "src/ibkit/engine/trainer.py",
     '        torch.set_rng_state(s["rng"]["torch"])\n', "", "tests/test_engine.py"),
]


def plant(name: str, path: str, old: str, new: str, test: str) -> bool:
    """Apply one bug, run ``test``; True when a test failed. The file is always restored."""
    file = Path(path)
    source = file.read_text()
    if source.count(old) != 1:
        raise SystemExit(f"{name}: the text to replace is not in {path} exactly once; update "
                         "this script with the code.")
    file.write_text(source.replace(old, new))
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                               test], capture_output=True, text=True)
    finally:
        file.write_text(source)
    last = (done.stdout.strip().splitlines() or ["no output"])[-1]
    print(f"{name:40s} {'CAUGHT' if done.returncode else 'SURVIVED'}: {last}", flush=True)
    return done.returncode != 0


def main(only: list[str]) -> int:
    caught = [plant(*bug) for bug in BUGS if not only or bug[0].split()[0] in only]
    return 0 if all(caught) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
