"""Score per module from the output of ``mutmut run`` (its closing list: one line per mutant,
its fate then its name), and list the mutants that were not killed.

    mutmut run ... > mutants.log; python scripts/mutmut_log.py mutants.log [more.log ...]

A mutant named in several logs keeps its fate in the last one (a re-run of survivors after
new tests). Fates: killed, survived, no tests (no selected test covers it), timeout, other.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

FATES = {"🎉": "killed", "🙁": "survived", "🫥": "no tests", "⏰": "timeout"}
LINE = re.compile(r"^(\S+) (ibkit\.\S+)$", re.M)


def fates(paths: list[Path]) -> dict[str, str]:
    """Mutant name -> fate, later logs overriding earlier ones."""
    out: dict[str, str] = {}
    for path in paths:
        for mark, name in LINE.findall(path.read_text(encoding="utf-8", errors="replace")):
            out[name] = FATES.get(mark, "other")
    return out


SRC = Path(__file__).resolve().parents[1] / "src" / "ibkit"


def module_of(name: str) -> str:
    """``ibkit.estimators.kde.x_f__mutmut_3`` -> ``estimators/kde.py``; a package's own
    functions (``ibkit.estimators.x_g__mutmut_1``) -> ``estimators/__init__.py``."""
    parts = name.split(".")[1:-1]
    if SRC.joinpath(*parts).is_dir():
        return "/".join([*parts, "__init__.py"])
    return "/".join(parts) + ".py"


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    by_module: dict[str, Counter] = defaultdict(Counter)
    left: dict[str, list[str]] = defaultdict(list)
    for name, fate in sorted(fates([Path(a) for a in argv]).items()):
        by_module[module_of(name)][fate] += 1
        if fate != "killed":
            left[module_of(name)].append(f"{fate}: {name.split('.')[-1]}")
    print("| module | killed | survived | no tests | other | raw score |")
    print("|---|---:|---:|---:|---:|---:|")
    for module, c in sorted(by_module.items()):
        ran = c["killed"] + c["survived"] + c["timeout"] + c["other"]
        score = f"{100 * c['killed'] / ran:.1f} %" if ran else "-"
        print(f"| `{module}` | {c['killed']} | {c['survived']} | {c['no tests']} | "
              f"{c['timeout'] + c['other']} | {score} |")
    for module, names in sorted(left.items()):
        print(f"\n{module}:")
        print("\n".join(f"  {n}" for n in names))


if __name__ == "__main__":
    main(sys.argv[1:])
