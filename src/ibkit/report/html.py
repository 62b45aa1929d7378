"""A run's or a sweep's report as one self-contained HTML page: summary with expected vs
measured, config, every figure (embedded as data URIs), the small tables, and the information
plane as an interactive scatter. It opens from disk in any browser, with no server and no
network (nothing is fetched)."""

from __future__ import annotations

import base64
import csv
from html import escape
from pathlib import Path
from typing import Any

from ibkit._errors import RunDirError
from ibkit._io import write_text
from ibkit._provenance import describe
from ibkit.report.html_plane import plane_section
from ibkit.report.summary import read_summary

REPORT_NAME = "report.html"
MAX_TABLE_ROWS = 200
"""Tables with more rows (metrics.csv of a long run) are left out of the page; they stay in
the run directory."""
_SKIP_TABLES = {"metrics.csv", "timing.csv", "plane.csv", "dynamics.csv"}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}th{background:#f0f0f0}
td.l,th.l{text-align:left}.met{background:#d9f2d9}.notmet{background:#f8d0d0}
.none{background:#eee}pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:.8em}
figure{display:inline-block;margin:.5em;vertical-align:top}figure img{max-width:100%;max-height:560px}
figcaption{font-size:.8em;color:#555;text-align:center}.planes svg{margin:.3em}
button.layer{margin:.1em;cursor:pointer}button.layer[aria-pressed=false]{opacity:.4}
#broken{display:none;background:#f8d0d0;padding:.5em}.scroll{overflow-x:auto;max-width:100%}
"""
_SCRIPT = """
function toggleLayer(b){var on=b.getAttribute('aria-pressed')!=='true';
b.setAttribute('aria-pressed',on);document.querySelectorAll('circle.pt').forEach(function(c){
if(c.getAttribute('data-layer')===b.getAttribute('data-layer')){c.style.display=on?'':'none';}});}
window.addEventListener('load',function(){var imgs=document.querySelectorAll('figure img');
var bad=0;imgs.forEach(function(i){if(!i.complete||i.naturalWidth===0){bad++;}});
document.body.setAttribute('data-figures-shown',imgs.length-bad);
document.body.setAttribute('data-figures-broken',bad);
if(bad){var e=document.getElementById('broken');e.textContent=bad+' figure(s) could not be '+
'shown: see the figures folder.';e.style.display='block';}});
"""


def _table(rows: list[dict[str, Any]], left: int = 1) -> str:
    if not rows:
        return "<p>(empty)</p>"
    cols = list(rows[0])
    head = "".join(f'<th class="{"l" if i < left else ""}">{escape(c)}</th>'
                   for i, c in enumerate(cols))
    body = "".join("<tr>" + "".join(
        f'<td class="{"l" if i < left else ""}">{escape(_fmt(r.get(c, "")))}</td>'
        for i, c in enumerate(cols)) + "</tr>" for r in rows)
    return f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return str(v) if f.is_integer() and "." not in str(v) else f"{f:.4g}"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _figures(paths: list[Path], root: Path) -> str:
    if not paths:
        return "<p>No figures.</p>"
    out = []
    for p in paths:
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        name = escape(str(p.relative_to(root)))
        out.append(f'<figure><img alt="{name}" src="data:image/png;base64,{data}">'
                   f'<figcaption>{name}</figcaption></figure>')
    return "".join(out)


def _expected(summary: dict[str, Any]) -> str:
    rows = summary.get("expected", [])
    if not rows:
        return "<p>This preset states no expected results.</p>"
    body = []
    for e in rows:
        cls = {True: "met", False: "notmet", None: "none"}[e["met"]]
        verdict = {True: "met", False: "NOT met", None: "not measured"}[e["met"]]
        tol = f" &plusmn; {e['tolerance']:g}" if e["op"] == "~" else ""
        measured = "-" if e["measured"] is None else f"{e['measured']:.4g}"
        body.append(f'<tr class="{cls}"><td class="l">{escape(e["metric"])}</td>'
                    f'<td>{escape(e["op"])} {e["value"]:g}{tol}</td><td>{measured}</td>'
                    f'<td class="l">{verdict}</td><td class="l">{escape(e["source"])}</td></tr>')
    return ('<table><tr><th class="l">metric</th><th>expected</th><th>measured</th>'
            f'<th class="l">verdict</th><th class="l">source</th></tr>{"".join(body)}</table>')


def _summary_section(summary: dict[str, Any] | None) -> str:
    if summary is None:
        return "<section id='summary'><h2>Summary</h2><p>No summary.json: the run has not " \
               "finished.</p></section>"
    head = (f"<p><b>{escape(str(summary.get('status')))}</b>, "
            f"{summary.get('epochs_completed')}/{summary.get('epochs_planned')} epochs, "
            f"{float(summary.get('train_seconds', 0.0)):.1f} s on "
            f"{escape(str(summary.get('device')))}; made by {escape(describe(summary.get('code')))}"
            "</p>")
    story = summary.get("story", [])
    if story:
        head += "<ul id='story'>" + "".join(f"<li>{escape(x)}</li>" for x in story) + "</ul>"
    final = [{"metric": k, "value": v} for k, v in summary.get("final", {}).items()]
    return (f"<section id='summary'><h2>Summary</h2>{head}<h3>Expected vs measured</h3>"
            f"{_expected(summary)}<details><summary>All final metrics ({len(final)})</summary>"
            f"{_table(final)}</details></section>")


def _tables(root: Path, skip: set[str]) -> str:
    parts = []
    for p in sorted(root.glob("*.csv")):
        if p.name in skip:
            continue
        rows = _read_csv(p)
        if len(rows) <= MAX_TABLE_ROWS:
            parts.append(f"<details open><summary>{escape(p.name)} ({len(rows)} rows)</summary>"
                         f"{_table(rows)}</details>")
    return f"<section id='tables'><h2>Tables</h2>{''.join(parts)}</section>" if parts else ""


KEY_MARKS = ("error_pct", "_bits", "r_W_pct", "r_N_pct")
MAX_KEY_METRICS = 10


def key_results(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The sweep summary's points with their headline metrics as ``mean ± std`` (validation
    and test errors, information in bits, compression ratios; at most
    :data:`MAX_KEY_METRICS`)."""
    if not rows:
        return []
    cols = list(rows[0])
    metrics = [c[:-5] for c in cols if c.endswith("_mean") and any(m in c for m in KEY_MARKS)
               and not c.startswith("train_")][:MAX_KEY_METRICS]
    axes = [c for c in cols if c != "count" and not c.endswith(("_mean", "_std"))]
    out = []
    for r in rows:
        row = {a: r[a] for a in axes} | {"seeds": r.get("count", "")}
        for m in metrics:
            mean, std = r.get(f"{m}_mean", ""), r.get(f"{m}_std", "")
            row[m] = _fmt(mean) + ("" if std in ("", "nan") else f" ± {_fmt(std)}")
        out.append(row)
    return out


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
            f'</title><style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>'
            f'<h1>{escape(title)}</h1><div id="broken"></div>{body}</body></html>')


def html_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the run's self-contained report page (default ``RUN_DIR/report.html``) and return
    its path: summary with each expected result against the measured one, the resolved
    config, every PNG under ``figures/``, the run's small tables and, when the run has a
    ``plane.csv``, the plane as an interactive scatter (information in bits); sub-folders
    with their own page (the demo's parts) are linked.

    Raises:
        RunDirError: ``run_dir`` holds no run (no ``metrics.csv``).
    """
    root = Path(run_dir)
    if not (root / "metrics.csv").is_file():
        raise RunDirError(f"The run directory '{root}' holds no run (no metrics.csv).")
    summary = read_summary(root) if (root / "summary.json").is_file() else None
    config = (root / "config.yaml").read_text() if (root / "config.yaml").is_file() else ""
    plane = _read_csv(root / "plane.csv") if (root / "plane.csv").is_file() else []
    figures = sorted((root / "figures").glob("*.png")) if (root / "figures").is_dir() else []
    preset = summary["preset"] if summary else root.name
    parts = sorted(p.relative_to(root).as_posix() for p in root.glob(f"*/{REPORT_NAME}"))
    links = "".join(f'<li><a href="{escape(p)}">{escape(p.split("/")[0])}</a></li>'
                    for p in parts)
    body = (_summary_section(summary) + plane_section(plane) +
            f"<section id='figures'><h2>Figures</h2>{_figures(figures, root)}</section>" +
            _tables(root, _SKIP_TABLES) +
            (f"<section id='parts'><h2>Parts</h2><ul>{links}</ul></section>" if parts else "") +
            f"<section id='config'><h2>Config</h2><pre>{escape(config)}</pre></section>")
    path = Path(out) if out is not None else root / REPORT_NAME
    write_text(path, _page(f"ibkit run {preset}: {root.name}", body))
    return path


def _current_page(run_dir: Path) -> Path:
    """The run's page, written again only when it is missing or older than the run's
    summary (every finished run writes its own page: a sweep need not redo them)."""
    page, summary = run_dir / REPORT_NAME, run_dir / "summary.json"
    if page.is_file() and (not summary.is_file()
                           or page.stat().st_mtime >= summary.stat().st_mtime):
        return page
    return html_report(run_dir)


def sweep_html_report(sweep_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write a sweep's self-contained page (default ``SWEEP_DIR/report.html``): the mean and
    spread per point (``sweep_summary.csv``), one row per run (``sweep.csv``), the sweep's
    figures, and a link to each run's own report page (written where missing or stale).

    Raises:
        RunDirError: ``sweep_dir`` holds no sweep (no ``sweep.csv``).
    """
    root = Path(sweep_dir)
    if not (root / "sweep.csv").is_file():
        raise RunDirError(f"The sweep directory '{root}' holds no sweep (no sweep.csv).")
    runs = []
    for d in sorted(p for p in root.iterdir() if (p / "metrics.csv").is_file()):
        page = _current_page(d)
        status = "completed" if (d / "summary.json").is_file() else "unfinished"
        runs.append(f'<li><a href="{escape(page.relative_to(root).as_posix())}">'
                    f'{escape(d.name)}</a> ({status})</li>')
    figures = sorted(root.glob("*.png"))
    summary = _read_csv(root / "sweep_summary.csv") if (root / "sweep_summary.csv").is_file() \
        else []
    key = key_results(summary)
    body = ((f"<section id='key'><h2>Key results (mean ± std over seeds)</h2>"
             f"{_table(key)}</section>" if key else "") +
            _tables(root, set()) +
            f"<section id='figures'><h2>Figures</h2>{_figures(figures, root)}</section>"
            f"<section id='runs'><h2>Runs ({len(runs)})</h2><ul>{''.join(runs)}</ul></section>")
    path = Path(out) if out is not None else root / REPORT_NAME
    write_text(path, _page(f"ibkit sweep: {root.resolve().name}", body))
    return path
