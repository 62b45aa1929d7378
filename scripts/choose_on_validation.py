"""Choose a VIBNet setting on the validation split by a rule fixed in advance, and print the
table with the test error of the chosen setting only (issue 24).

    python scripts/choose_on_validation.py NAME=RUN_DIR[:RUN_DIR...] ...

Each NAME (a gamma, say) has one or more finished run directories (one per seed), joined
by ``:`` (run directories' names may hold commas). The rule:
among the settings whose mean fine-tuned validation error is within ``--margin`` points (0.2:
one standard error of a 2 % rate on 5,000 images) of the best mean, take the one with the
smallest mean r_W. Test errors of the settings not chosen are never printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

KEYS = ("finetuned_val_error_pct", "r_W_pct", "r_N_pct", "r_N_positions_pct", "flops_after",
        "finetuned_test_error_pct")


def _final(run_dir: Path) -> dict:
    path = run_dir / "summary.json"
    if not path.is_file():
        raise SystemExit(f"{run_dir}: no summary.json (not a run directory, or not finished)")
    summary = json.loads(path.read_text())
    if summary.get("status") != "completed":
        raise SystemExit(f"{run_dir}: not finished (status {summary.get('status')!r})")
    return summary["final"] | {"source": summary["code"]["source_sha256"]}


def _fmt(values: list[float], digits: int) -> str:
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="+", help="NAME=RUN_DIR[:RUN_DIR...]")
    parser.add_argument("--margin", type=float, default=0.2, help="points of validation error")
    args = parser.parse_args(argv)
    rows = {}
    for item in args.settings:
        name, _, dirs = item.partition("=")
        if not dirs:
            parser.error(f"expected NAME=RUN_DIR[:RUN_DIR...], got {item!r}")
        finals = [_final(Path(d)) for d in dirs.split(":")]
        rows[name] = {k: [f[k] for f in finals if f.get(k) is not None] for k in KEYS}
        rows[name]["sources"] = sorted({f["source"] for f in finals})
    best = min(statistics.fmean(r["finetuned_val_error_pct"]) for r in rows.values())
    near = [n for n, r in rows.items()
            if statistics.fmean(r["finetuned_val_error_pct"]) <= best + args.margin + 1e-9]
    chosen = min(near, key=lambda n: statistics.fmean(rows[n]["r_W_pct"]))
    print("| setting | seeds | fine-tuned val error % | r_W % | r_N % | r_N positions % | MACs "
          "| fine-tuned test error % |")
    print("|---|---:|---|---|---|---|---|---|")
    for name, r in rows.items():
        test = _fmt(r["finetuned_test_error_pct"], 2) if name == chosen else "not looked at"
        cells = [_fmt(r[k], d) if r[k] else "-" for k, d in
                 (("finetuned_val_error_pct", 2), ("r_W_pct", 3), ("r_N_pct", 2),
                  ("r_N_positions_pct", 2), ("flops_after", 0))]
        label = f"{name} (**chosen**)" if name == chosen else name
        print(f"| {label} | {len(r['finetuned_val_error_pct'])} | " + " | ".join(cells)
              + f" | {test} |")
    sources = sorted({s for r in rows.values() for s in r["sources"]})
    print(f"\nRule: smallest mean r_W within {args.margin} points of the best mean fine-tuned "
          f"validation error ({best:.2f} %). Sources: {', '.join(sources)}.")


if __name__ == "__main__":
    main()
