"""The information plane as an interactive SVG scatter for the HTML report (no JavaScript
library: one ``<svg>`` per estimator, a tooltip on every point, layers shown or hidden by
clicking their name)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT, PAD = 430, 320, 52
MAX_POINTS = 3000
"""Points drawn per estimator; beyond this, epochs are thinned (log-spaced: early epochs move
the most)."""
# A perceptually ordered ramp (dark blue -> green -> yellow) for the epoch colour.
_RAMP = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


def epoch_colour(fraction: float) -> str:
    """The ``#rrggbb`` colour of a point at ``fraction`` in [0, 1] of the log-epoch range."""
    f = min(max(fraction, 0.0), 1.0) * (len(_RAMP) - 1)
    i = min(int(f), len(_RAMP) - 2)
    t = f - i
    rgb = (round(a + (b - a) * t) for a, b in zip(_RAMP[i], _RAMP[i + 1], strict=True))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _thin(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    epochs = sorted({int(r["epoch"]) for r in rows})
    if len(rows) <= MAX_POINTS or len(epochs) < 2:
        return rows
    per_epoch = len(rows) / len(epochs)
    wanted = _log_spaced(epochs, max(2, int(MAX_POINTS / per_epoch)))
    return [r for r in rows if int(r["epoch"]) in wanted]


def _log_spaced(epochs: list[int], n: int) -> set[int]:
    lo, hi = math.log(max(epochs[0], 1)), math.log(max(epochs[-1], 1))
    targets = [math.exp(lo + (hi - lo) * k / (n - 1)) for k in range(n)]
    picked = {epochs[-1]}
    for t in targets:  # the epoch nearest each target (epochs is sorted)
        i = bisect.bisect_left(epochs, t)
        near = epochs[max(i - 1, 0):i + 1]
        picked.add(min(near, key=lambda e: abs(e - t)))  # noqa: B023 (used at once)
    return picked


def tick(v: float) -> str:
    """An axis end's label: three significant digits, 0 for float noise below 1e-6."""
    return "0" if abs(v) < 1e-6 else f"{v:.3g}"


def _scale(values: Sequence[float], size: int, flip: bool) -> tuple[float, float, Any]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    span = size - 2 * PAD

    def at(v: float) -> float:
        f = (v - lo) / (hi - lo)
        return PAD + (1 - f) * span if flip else PAD + f * span

    return lo, hi, at


def _pm(row: dict[str, Any], coord: str) -> str:
    """`` +/- h`` (the 95 % half-width) where the row has a standard error, else ''."""
    se = row.get(f"{coord}_stderr_bits")
    return "" if se in (None, "", "None") else f" &plusmn; {1.96 * float(se):.3f}"


def plane_svg(rows: Sequence[dict[str, Any]], estimator: str) -> str:
    """One estimator's plane as an ``<svg>``: x = I(X;T) in bits, y = I(T;Y) in bits, a point
    per (layer, epoch) coloured by log epoch, each with a tooltip naming layer, epoch and both
    values; ``data-layer`` on every point lets the page hide a layer."""
    points = _thin([r for r in rows if r["estimator"] == estimator])
    if not points:
        return ""
    xs = [float(r["I_XT_bits"]) for r in points]
    ys = [float(r["I_TY_bits"]) for r in points]
    x_lo, x_hi, x_at = _scale(xs, WIDTH, flip=False)
    y_lo, y_hi, y_at = _scale(ys, HEIGHT, flip=True)
    epochs = [int(r["epoch"]) for r in points]
    e_lo, e_hi = math.log(max(min(epochs), 1)), math.log(max(max(epochs), 1))
    parts = [f'<svg class="plane" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" aria-label="information plane, {escape(estimator)}">',
             f'<rect x="{PAD}" y="{PAD}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - 2 * PAD}" '
             'fill="#fafafa" stroke="#999"/>',
             f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle">I(X;T) bits</text>',
             f'<text x="12" y="{HEIGHT / 2}" text-anchor="middle" '
             f'transform="rotate(-90 12 {HEIGHT / 2})">I(T;Y) bits</text>',
             f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">'
             f'{escape(estimator)}</text>']
    for v, anchor in ((x_lo, "start"), (x_hi, "end")):
        parts.append(f'<text x="{x_at(v):.1f}" y="{HEIGHT - PAD + 14}" text-anchor="{anchor}" '
                     f'font-size="11">{tick(v)}</text>')
    for v in (y_lo, y_hi):
        parts.append(f'<text x="{PAD - 4}" y="{y_at(v) + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{tick(v)}</text>')
    for r, x, y, e in zip(points, xs, ys, epochs, strict=True):
        frac = 0.0 if e_hi == e_lo else (math.log(max(e, 1)) - e_lo) / (e_hi - e_lo)
        layer = escape(str(r["layer"]))
        parts.append(f'<circle class="pt" data-layer="{layer}" cx="{x_at(x):.1f}" '
                     f'cy="{y_at(y):.1f}" r="3" fill="{epoch_colour(frac)}">'
                     f'<title>layer {layer}, epoch {e}: I(X;T) = {x:.3f}{_pm(r, "I_XT")} bits, '
                     f'I(T;Y) = {y:.3f}{_pm(r, "I_TY")} bits</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def plane_section(rows: Sequence[dict[str, Any]]) -> str:
    """The report's plane section: the layer toggles, an epoch colour key and one scatter per
    estimator ("" when there are no points)."""
    if not rows:
        return ""
    estimators = list(dict.fromkeys(str(r["estimator"]) for r in rows))
    layers = list(dict.fromkeys(str(r["layer"]) for r in rows))
    epochs = [int(r["epoch"]) for r in rows]
    buttons = "".join(f'<button type="button" class="layer" aria-pressed="true" '
                      f'onclick="toggleLayer(this)" data-layer="{escape(x)}">{escape(x)}</button>'
                      for x in layers)
    key = "".join(f'<span style="background:{epoch_colour(k / 4)}">&nbsp;&nbsp;&nbsp;</span>'
                  for k in range(5))
    svgs = "".join(plane_svg(rows, e) for e in estimators)
    return (f'<section id="plane"><h2>Information plane</h2><p>Layers (click to hide or show): '
            f'{buttons}</p><p>Colour: epoch {min(epochs)} {key} epoch {max(epochs)} (log '
            f'scale). Hover a point for its values.</p><div class="planes">{svgs}</div>'
            '</section>')
