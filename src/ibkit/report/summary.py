"""The run summary as text, for the terminal."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path


def format_summary(summary: dict) -> str:
    """A few lines: status, final test/validation metrics, each expectation and whether it held,
    then the run's ``story`` (what a multi-part run such as the demo showed, where to look)."""
    final = summary.get("final", {})
    lines = [
        f"preset {summary['preset']}: {summary['status']}, "
        f"{summary['epochs_completed']}/{summary['epochs_planned']} epochs, "
        f"{summary['train_seconds']:.1f} s on {summary['device']}",
    ]
    shown = [k for k in ("val_error_pct", "test_error_pct", "test_loss") if k in final]
    lines += [f"  {k} = {final[k]:.4g}" for k in shown]
    for e in summary.get("expected", []):
        tol = f" +/- {e['tolerance']:g}" if e["op"] == "~" else ""
        verdict = {True: "met", False: "NOT met", None: "not measured"}[e["met"]]
        measured = "-" if e["measured"] is None else f"{e['measured']:.4g}"
        lines.append(f"  expected {e['metric']} {e['op']} {e['value']:g}{tol} ({e['source']}): "
                     f"measured {measured}, {verdict}")
    lines += [textwrap.fill(line, 100, initial_indent="  ", subsequent_indent="     ",
                            break_on_hyphens=False, break_long_words=False)
              for line in summary.get("story", [])]
    return "\n".join(lines)


def read_summary(run_dir: str | Path) -> dict:
    """Load ``summary.json`` of a run directory; RunDirError if it is not valid JSON."""
    from ibkit._errors import RunDirError

    path = Path(run_dir) / "summary.json"
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise RunDirError(f"Cannot read '{path}': {e}.") from None
