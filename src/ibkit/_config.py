"""Typed configs: dataclasses whose fields carry their own limits.

A field's ``metadata`` may hold ``min``, ``max`` (inclusive), ``gt`` (exclusive
lower bound) and ``choices``. :func:`validate` checks a config against them and
:func:`apply_override` sets a dotted key from a ``--set key=value`` string.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from typing import Any

from ibkit._errors import ConfigError


def _owner(cfg: Any) -> str:
    return type(cfg).__name__


def _check_field(cfg: Any, f: dataclasses.Field, value: Any) -> None:
    meta, name = f.metadata, f.name
    if value is None:
        return
    items = value if isinstance(value, tuple) else (value,)
    if "choices" in meta and not all(v in meta["choices"] for v in items):
        raise ConfigError(
            f"The '{name}' parameter of {_owner(cfg)} must be one of "
            f"{tuple(meta['choices'])}. Got {value!r} instead."
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(
            f"The '{name}' parameter of {_owner(cfg)} must be finite. Got {value!r} instead."
        )
    for key, ok, word in (("min", lambda v, b: v >= b, ">="), ("max", lambda v, b: v <= b, "<="),
                          ("gt", lambda v, b: v > b, ">"), ("lt", lambda v, b: v < b, "<")):
        if key in meta:
            items = value if isinstance(value, tuple) else (value,)
            if not all(ok(v, meta[key]) for v in items):
                raise ConfigError(
                    f"The '{name}' parameter of {_owner(cfg)} must be {word} {meta[key]}. "
                    f"Got {value!r} instead."
                )


def validate(cfg: Any) -> None:
    """Check every field of a (nested) config dataclass against its metadata limits."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            validate(value)
        else:
            _check_field(cfg, f, value)


def to_dict(cfg: Any) -> dict[str, Any]:
    """A config as plain nested dicts, lists and scalars (for YAML)."""
    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(i) for i in v]
        return v

    return {
        f.name: to_dict(getattr(cfg, f.name)) if dataclasses.is_dataclass(getattr(cfg, f.name))
        else plain(getattr(cfg, f.name))
        for f in dataclasses.fields(cfg)
    }


def keys(cfg: Any, prefix: str = "") -> list[str]:
    """Every settable dotted key of a nested config."""
    out: list[str] = []
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        out += keys(v, f"{prefix}{f.name}.") if dataclasses.is_dataclass(v) else [prefix + f.name]
    return out


def _parse(text: str, tp: Any, key: str) -> Any:
    """Parse ``text`` as type ``tp`` (bool, int, float, str, tuples, Optional)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null", "") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _parse(text, inner[0], key)
    if origin is tuple:
        items = [t for t in text.strip("()[] ").split(",") if t.strip()]
        return tuple(_parse(t.strip(), args[0], key) for t in items)
    if tp is bool:
        low = text.lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"The value of '{key}' must be true or false. Got {text!r} instead.")
    if tp in (int, float):
        try:
            return tp(float(text)) if tp is int and float(text).is_integer() else tp(text)
        except ValueError:
            raise ConfigError(
                f"The value of '{key}' must be {'an int' if tp is int else 'a float'}. "
                f"Got {text!r} instead."
            ) from None
    return text


def apply_override(cfg: Any, assignment: str) -> Any:
    """Return a copy of ``cfg`` with one ``key=value`` applied (dotted keys for nesting).

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class C:
        ...     lr: float = 0.1
        >>> apply_override(C(), "lr=3e-4").lr
        0.0003
    """
    if "=" not in assignment:
        raise ConfigError(f"A --set option must look like key=value. Got {assignment!r} instead.")
    key, text = (s.strip() for s in assignment.split("=", 1))
    allowed = keys(cfg)
    if key not in allowed:
        raise ConfigError(f"Unknown config key {key!r}.{suggest_keys(key, allowed)} "
                          f"Allowed keys: {', '.join(allowed)}.")
    return _set(cfg, key.split("."), text, key)


def suggest_keys(key: str, allowed: list[str]) -> str:
    """' Did you mean ...?' for an unknown dotted ``key``: the keys whose last part is
    ``key``'s last part, else up to three close spellings; '' when none is close.

    Example:
        >>> suggest_keys("seed", ["train.seed", "train.lr"])
        " Did you mean 'train.seed'?"
    """
    last = key.rsplit(".", 1)[-1]
    close = [k for k in allowed if k.rsplit(".", 1)[-1] == last]
    if not close:
        close = difflib.get_close_matches(key, allowed, n=3, cutoff=0.6)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _set(cfg: Any, path: list[str], text: str, key: str) -> Any:
    current = getattr(cfg, path[0])
    if len(path) > 1:
        return dataclasses.replace(cfg, **{path[0]: _set(current, path[1:], text, key)})
    hint = typing.get_type_hints(type(cfg))[path[0]]
    return dataclasses.replace(cfg, **{path[0]: _parse(text, hint, key)})


def from_dict(cls: type, d: dict[str, Any]) -> Any:
    """Build config dataclass ``cls`` from nested dicts (the inverse of :func:`to_dict`).

    Unknown keys raise ConfigError; lists become tuples where the field is a tuple.
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ConfigError(f"Unknown config keys {sorted(unknown)} for {cls.__name__}.")
    kwargs = {}
    for name, value in d.items():
        tp = hints[name]
        if dataclasses.is_dataclass(tp) and isinstance(value, dict):
            kwargs[name] = from_dict(tp, value)  # type: ignore[arg-type]
        elif isinstance(value, list):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)
