"""The grid of a sweep: ``--param`` values, their Cartesian product, seeds, point names.

``--param beta=1e-6,1e-5`` or ``--param beta=logspace(-9,0,10)`` (also ``linspace``);
a key without a dot names the unique config field of that name (``beta`` is
``objective.beta``). Several parameters give their Cartesian product; ``seeds`` adds
``train.seed`` as the last axis.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ibkit._config import keys
from ibkit._errors import ConfigError
from ibkit.experiments.registry import SWEEP_PRESETS
from ibkit.experiments.runner import resolve_config

_RANGE = re.compile(r"^(logspace|linspace)\(([^,]+),([^,]+),([^,]+)\)$")
SEED_KEY = "train.seed"


def parse_values(text: str, key: str = "") -> list[str]:
    """Values of one ``--param``: a comma list, ``logspace(a,b,n)`` (10^a..10^b) or ``linspace``.

    ConfigError (naming ``key``) for a malformed range, a count < 1, no values, or a value
    given twice (``1e-3,0.001``).

    Example:
        >>> parse_values("logspace(-2,0,3)")
        ['0.01', '0.1', '1']
    """
    name = f"--param {key}=" if key else "--param "
    compact = text.replace(" ", "")
    m = _RANGE.match(compact)
    if m:
        kind, a, b, n = m.groups()
        try:
            count = int(n)
            grid = getattr(np, kind)(float(a), float(b), count)
        except ValueError:
            raise ConfigError(f"Bad range {name}{text!r}: expected {kind}(start,stop,count) "
                              "with numbers and an integer count.") from None
        if count < 1:
            raise ConfigError(f"Bad range {name}{text!r}: the count must be >= 1. Got {count}.")
        values = [f"{v:.6g}" for v in grid]
    elif compact.startswith(("logspace(", "linspace(")):
        kind = compact.split("(", 1)[0]
        raise ConfigError(f"Bad range {name}{text!r}: expected {kind}(start,stop,count), three "
                          "numbers.")
    else:
        values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise ConfigError(f"The {name}{text!r} lists no values.")
    seen: dict[float | str, str] = {}
    for v in values:
        try:
            k: float | str = float(v)
        except ValueError:
            k = v
        if k in seen:
            raise ConfigError(f"The {name}{text!r} gives the same value twice "
                              f"({seen[k]!r} and {v!r}).")
        seen[k] = v
    return values


def resolve_key(name: str, config: Any) -> str:
    """The dotted config key that ``name`` names (itself, or the unique field of that name)."""
    all_keys = keys(config)
    if name in all_keys:
        return name
    matches = [k for k in all_keys if k.rsplit(".", 1)[-1] == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError(f"The --param key {name!r} names {len(matches)} config keys "
                          f"({', '.join(matches)}); use one of them.")
    close = difflib.get_close_matches(name, all_keys + [k.rsplit(".", 1)[-1] for k in all_keys],
                                      n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(f"The --param key {name!r} is no config key.{hint} The keys are those "
                      "of config.yaml, e.g. objective.beta, train.lr, model.hidden.")


def base_preset(name: str) -> str:
    """The preset a sweep named ``name`` runs: the named sweep's (``SweepPreset``), else
    ``name`` itself."""
    return SWEEP_PRESETS[name].preset if name in SWEEP_PRESETS else name


def sweep_points(preset: str, params: Sequence[str], seeds: int | None = None,
                 overrides: Sequence[str] = ()) -> list[dict[str, str]]:
    """The Cartesian product of ``KEY=VALUES`` params, as dicts of dotted key to value text.

    ``preset`` may name a sweep preset: its points come first, then the product with any
    ``params`` and seeds.

    Args:
        seeds: when given, each point is run with this many seeds: ``train.seed`` takes the
            values s0, s0 + 1, ..., where s0 is the preset's seed (after ``overrides``), so
            that the first seed's run is the single-seed run.
    """
    named = SWEEP_PRESETS.get(preset)
    config = resolve_config(base_preset(preset), list(overrides))
    axes: list[list[dict[str, str]]] = []  # each axis: the values it sets, one dict per value
    if named is not None:
        axes.append([{resolve_key(k, config): v for k, v in p.items()} for p in named.points])
    for p in params:
        if "=" not in p:
            raise ConfigError(f"A --param must look like key=values. Got {p!r} instead.")
        name, text = p.split("=", 1)
        if not name.strip():
            raise ConfigError(f"A --param must look like key=values. Got {p!r} instead.")
        key = resolve_key(name.strip(), config)
        axes.append([{key: v} for v in parse_values(text, name.strip())])
    if seeds is not None:
        if seeds < 1:
            raise ConfigError(f"The 'seeds' parameter must be >= 1. Got {seeds} instead.")
        if any(SEED_KEY in entry for axis in axes for entry in axis):
            raise ConfigError("Give the seeds either as --seeds or as --param train.seed=..., "
                              "not both.")
        s0 = config.train.seed
        axes.append([{SEED_KEY: str(s)} for s in range(s0, s0 + seeds)])
    if not axes:
        raise ConfigError("A sweep needs at least one --param or --seeds.")
    return [{k: v for entry in combo for k, v in entry.items()}
            for combo in itertools.product(*axes)]


def point_name(point: dict[str, str]) -> str:
    """Run directory name of a point, for example ``beta=0.001`` or ``beta=0.001,seed=1``."""
    return ",".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in point.items())
