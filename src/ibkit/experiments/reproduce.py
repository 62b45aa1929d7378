"""Results that cannot go stale: run presets over seeds into one results folder, and write the
tables of ``docs/results.md`` from those run directories only (``ibkit reproduce``).

Each preset's runs live in ``OUT/<preset>/seed=<s>/`` (a sweep over seeds, so every sweep
backend applies). A finished run made by other code (another hash of ibkit's sources) is
moved to ``OUT/<preset>/stale/`` and run again. The generated tables sit between two marker
lines of the document; everything outside them is hand-written and kept as it is.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ibkit._errors import ConfigError, IbkitError
from ibkit._io import write_json, write_text
from ibkit._provenance import describe, recorded_code, same_code
from ibkit.experiments.registry import PRESETS, get_preset
from ibkit.experiments.sweep import SweepBackend, point_status, run_sweep

BEGIN = "<!-- BEGIN ibkit reproduce: generated from run directories by `ibkit reproduce`; " \
        "do not edit by hand -->"
END = "<!-- END ibkit reproduce -->"
SMALL_DATA = ("digits", "tishby-12bit", "boolean-4bit")
"""Presets on these data sets are the fast ones (minutes on 2 CPU cores): ``--fast``."""
ALWAYS_SHOWN = ("val_error_pct", "test_error_pct")
RECORD = "reproduce.json"


def fast_presets() -> list[str]:
    """The presets on the embedded or generated small data sets (not the demo, which runs
    other presets itself)."""
    from ibkit.experiments.runner import resolve_config

    return [n for n in PRESETS if n != "demo" and resolve_config(n).data.name in SMALL_DATA]


def retire_stale(preset_dir: Path) -> list[Path]:
    """Move finished runs made by other code into ``preset_dir/stale/``; return their new
    paths."""
    moved = []
    for run_dir in sorted(preset_dir.glob("seed=*")):
        if point_status(run_dir) == "completed" and not same_code(recorded_code(run_dir)):
            code = recorded_code(run_dir) or {}
            target = preset_dir / "stale" / f"{run_dir.name}@{code.get('source_sha256', 'old')}"
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(exist_ok=True)
            run_dir.rename(target)
            moved.append(target)
    return moved


def reproduce(presets: Sequence[str], out_dir: str | Path, seeds: int = 3,
              backend: SweepBackend | None = None, workers: int = 1, threads: int = 1,
              overrides: Sequence[str] = (), command: str = "") -> dict[str, list[dict]]:
    """Run each preset over ``seeds`` seeds (from the preset's own seed) into
    ``out_dir/<preset>/seed=<s>``, skipping runs finished by the current code.

    Returns:
        preset -> the sweep's rows (one per finished run).

    Raises:
        ConfigError: an unknown preset, or ``seeds`` < 1.
        IbkitError: after every preset has been tried, if any run failed.
    """
    if not presets:
        raise ConfigError("Name at least one preset to reproduce (or --fast, --all).")
    for name in presets:
        get_preset(name)
    if seeds < 1:
        raise ConfigError(f"The 'seeds' parameter must be >= 1. Got {seeds} instead.")
    out, rows, failed = Path(out_dir), {}, []
    for name in presets:
        preset_dir = out / name
        preset_dir.mkdir(parents=True, exist_ok=True)
        retire_stale(preset_dir)
        write_json(preset_dir / RECORD, {"preset": name, "seeds": seeds,
                                         "overrides": list(overrides), "command": command})
        try:
            rows[name] = run_sweep(name, [], preset_dir, overrides, workers, backend=backend,
                                   seeds=seeds, threads=threads)
        except IbkitError as e:
            failed.append(f"{name}: {e}")
    if failed:
        raise IbkitError(f"{len(failed)} preset(s) had failed runs: " + "; ".join(failed))
    return rows


@dataclass
class PresetResult:
    """The finished runs of one preset in a results folder."""

    preset: str
    runs: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)


def collect_results(out_dir: str | Path) -> list[PresetResult]:
    """Every preset folder of ``out_dir`` with at least one finished run, by preset name."""
    results = []
    for preset_dir in sorted(p for p in Path(out_dir).iterdir() if p.is_dir()):
        result = PresetResult(preset_dir.name)
        if (preset_dir / RECORD).is_file():
            result.record = json.loads((preset_dir / RECORD).read_text())
        for run_dir in sorted(preset_dir.glob("seed=*"), key=lambda p: _seed(p.name)):
            if point_status(run_dir) == "completed":
                result.runs.append((run_dir, json.loads((run_dir / "summary.json").read_text())))
        if result.runs:
            results.append(result)
    return results


def _seed(name: str) -> int:
    try:
        return int(name.split("=", 1)[1])
    except (IndexError, ValueError):
        return -1


def _fmt(v: float) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.4g}"


def _row(metric: str, values: list[float], expectation: dict | None) -> str:
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    per_seed = ", ".join(_fmt(v) for v in values)
    if expectation is None:
        return f"| {metric} | - | - | {_fmt(mean)} | {_fmt(std)} | {per_seed} | - | - |"
    from ibkit.experiments.registry import Expected

    e = Expected(expectation["metric"], expectation["value"], expectation["op"],
                 expectation["source"], expectation.get("tolerance", 0.0))
    tol = f" ± {e.tolerance:g}" if e.op == "~" else ""
    on_mean = "met" if e.met(mean) else "**NOT met**"
    meeting = sum(bool(e.met(v)) for v in values)
    return (f"| {metric} | {e.op} {e.value:g}{tol} | {e.source} | {_fmt(mean)} | {_fmt(std)} | "
            f"{per_seed} | {on_mean} | {meeting} of {len(values)} |")


def _named_from(path: Path, root: Path) -> str:
    """``path`` as the tables name it: relative to ``root`` (with ``..`` where it lies
    outside), in forward slashes; absolute where no relative path exists (another drive)."""
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(root).resolve())).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def preset_section(result: PresetResult, root: Path) -> str:
    """One preset's generated table: each expected result and the validation and test
    errors, as mean, standard deviation and per-seed values, with the code, date, machine and
    command that made the runs."""
    summaries = [s for _, s in result.runs]
    codes = sorted({describe(s.get("code")) for s in summaries})
    hosts = sorted({str(s.get("host", "unrecorded machine")) for s in summaries})
    dates = sorted({str(s.get("finished_utc", ""))[:10] or "undated" for s in summaries})
    expected = {e["metric"]: e for e in summaries[0].get("expected", [])}
    metrics = list(expected) + [m for m in ALWAYS_SHOWN if m not in expected]
    command = result.record.get("command") or f"ibkit reproduce {result.preset}"
    lines = [f"### {result.preset} ({len(summaries)} seed{'s' if len(summaries) > 1 else ''})",
             "",
             f"Code: {'; '.join(codes)}. Machine: {', '.join(hosts)}. Finished: "
             f"{', '.join(dates)}. Command: `{command}`.",
             "Runs: " + ", ".join(f"`{_named_from(p, root)}`" for p, _ in result.runs)
             + ".", "",
             "| metric | expected | source | mean | std | per seed | on the mean | seeds meeting |",
             "|---|---|---|---|---|---|---|---|"]
    for metric in metrics:
        values = [s["final"].get(metric) for s in summaries]
        if all(isinstance(v, (int, float)) for v in values):
            lines.append(_row(metric, [float(v) for v in values], expected.get(metric)))
        elif metric in expected:
            lines.append(f"| {metric} | {expected[metric]['op']} {expected[metric]['value']:g} | "
                         f"{expected[metric]['source']} | not measured | | | | |")
    return "\n".join(lines)


def sections(region: str) -> dict[str, str]:
    """The preset tables of a generated region, by preset name (the ``### NAME (`` headings)."""
    found: dict[str, str] = {}
    for chunk in ("\n" + region).split("\n### ")[1:]:
        name = chunk.split(" (", 1)[0]
        found[name] = "### " + chunk.strip()
    return found


def results_markdown(out_dir: str | Path, root: str | Path | None = None,
                     kept: dict[str, str] | None = None) -> str:
    """The generated region: every preset of ``out_dir``, run directories named relative to
    ``root`` (default: ``out_dir``'s parent), and the tables of ``kept`` (preset -> table, from
    the document) for presets with no finished run there, in name order."""
    out = Path(out_dir).resolve()
    base = Path(root).resolve() if root is not None else out.parent
    results = collect_results(out)
    if not results:
        raise IbkitError(f"The results folder '{out_dir}' holds no finished run "
                         "(run `ibkit reproduce PRESET` first).")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    tables = dict(kept or {})
    tables.update({r.preset: preset_section(r, base) for r in results})
    body = "\n\n".join(tables[name] for name in sorted(tables))
    return (f"{BEGIN}\n\n## Reproduced presets (generated {stamp} from `{_named_from(out, base)}`)"
            "\n\nMean and sample standard deviation over seeds; 'on the mean' is the expected "
            "result checked on the mean, 'seeds meeting' counts the seeds that meet it alone.\n\n"
            f"{body}\n\n{END}")


def _split_doc(text: str) -> tuple[str, str | None, str]:
    if BEGIN not in text:
        return text, None, ""
    before, rest = text.split(BEGIN, 1)
    if END not in rest:
        raise IbkitError(f"The document has the line '{BEGIN[:40]}...' but not its end marker "
                         f"'{END}'.")
    inside, after = rest.split(END, 1)
    return before, inside, after


def default_root(doc: str | Path) -> Path:
    """The folder the tables name run directories from: the project root for a document in
    a ``docs/`` folder (``docs/results.md``), else the document's own folder."""
    folder = Path(doc).resolve().parent
    return folder.parent if folder.name == "docs" else folder


def write_results(doc: str | Path, out_dir: str | Path, root: str | Path | None = None) -> Path:
    """Replace the generated region of ``doc`` (insert it before the first ``## `` heading
    when there is none) with the tables of ``out_dir``, run directories named from ``root``
    (default :func:`default_root`); hand-written text is kept, and so are the tables of
    presets that ``out_dir`` has no finished run of (results made elsewhere, or earlier:
    ``--check`` says when their run directories are missing here)."""
    path = Path(doc)
    text = path.read_text() if path.is_file() else "# Measured results\n"
    before, inside, after = _split_doc(text)
    generated = results_markdown(out_dir, root if root is not None else default_root(path),
                                 sections(inside or ""))
    if inside is None:
        head, sep, tail = text.partition("\n## ")
        text = f"{head}\n{generated}\n\n{sep.lstrip()}{tail}" if sep else f"{text}\n{generated}\n"
    else:
        text = f"{before}{generated}{after}"
    write_text(path, text)
    return path


def check_results(doc: str | Path, out_dir: str | Path, root: str | Path | None = None) -> None:
    """IbkitError unless every generated table of ``doc`` names run directories that exist
    and says what they hold (the tables rebuilt from ``out_dir`` match, date aside)."""
    path = Path(doc)
    _, inside, _ = _split_doc(path.read_text())
    if inside is None:
        raise IbkitError(f"'{doc}' has no generated tables (no '{BEGIN[:40]}...' line).")
    base = Path(root).resolve() if root is not None else default_root(path)
    missing = [name for line in inside.splitlines() if line.startswith("Runs: ")
               for name in line[len("Runs: "):].rstrip(".").replace("`", "").split(", ")
               if not (base / name / "summary.json").is_file()]
    if missing:
        raise IbkitError(f"The results in '{doc}' name run directories that do not exist: "
                         f"{missing}. Rerun `ibkit reproduce` or delete those rows.")

    def undated(text: str) -> str:
        return "\n".join(x for x in text.strip().splitlines() if not x.startswith("## Reproduced"))

    fresh = results_markdown(out_dir, base, sections(inside)).split(BEGIN, 1)[1].split(END, 1)[0]
    if undated(fresh) != undated(inside):
        raise IbkitError(f"The results in '{doc}' differ from what the run directories in "
                         f"'{out_dir}' hold: run `ibkit reproduce --tables-only` again.")
