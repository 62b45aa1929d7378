"""Adversarial robustness of bottleneck models (Deep VIB section 4.2; the CEB of Fischer 2020),
evaluated as :mod:`ibkit.robustness` does: an evaluation of trained runs, not a training run.

A robustness preset names groups of models (a preset and the betas it is trained at), the
number of test images and the attacks. :func:`run_robustness` trains what is missing with
:func:`ibkit.experiments.sweep.run_sweep` (finished run directories are reused, not retrained),
attacks every model (one cached evaluation per run, so an interrupted evaluation resumes) and
writes the tables, the summary with its sanity checks, and the figures.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ibkit._errors import ConfigError
from ibkit._io import write_json, write_rows_csv
from ibkit.robustness import AttackConfig, Predictive, evaluate_robustness

EVALS = "evals"


@dataclass(frozen=True)
class ModelGroup:
    """Models of one kind: ``preset`` trained at each of ``betas`` (``objective.beta``; none:
    the preset as it is, e.g. the deterministic baseline)."""

    label: str
    preset: str
    betas: tuple[str, ...] = ()


@dataclass(frozen=True)
class RobustnessPreset:
    """A named robustness evaluation (``ibkit robustness NAME``)."""

    name: str
    description: str
    groups: tuple[ModelGroup, ...]
    images: int = 1000
    seeds: int = 1
    attacks: AttackConfig = field(default_factory=AttackConfig)


ROBUSTNESS_PRESETS: dict[str, RobustnessPreset] = {}


def register_robustness_presets(*presets: RobustnessPreset) -> None:
    """Add robustness presets (their names must be new)."""
    for p in presets:
        if p.name in ROBUSTNESS_PRESETS:
            raise ValueError(f"Robustness preset {p.name!r} is registered twice.")
        ROBUSTNESS_PRESETS[p.name] = p


def get_robustness_preset(name: str) -> RobustnessPreset:
    """The robustness preset ``name``; ConfigError listing them otherwise."""
    if name not in ROBUSTNESS_PRESETS:
        raise ConfigError(f"Unknown robustness preset {name!r}. Allowed: "
                          f"{', '.join(sorted(ROBUSTNESS_PRESETS))}.")
    return ROBUSTNESS_PRESETS[name]


def bounds_of(scale: str) -> tuple[float, float]:
    """The input range of a data scaling: ``unit`` [0, 1], ``symmetric`` [-1, 1]."""
    return (-1.0, 1.0) if scale == "symmetric" else (0.0, 1.0)


def load_classifier(run_dir: Path) -> tuple[Any, torch.nn.Module, Any]:
    """``(config, model, data)`` of a finished classification run; ConfigError naming the run
    directory when it is not one (no run, no classes, or a model that returns no logits)."""
    from ibkit.experiments.runner import load_run

    config, model, data = load_run(run_dir)
    if data.test is None or data.n_classes < 2:
        raise ConfigError(f"The run directory '{run_dir}' is not a classifier's run "
                          f"(data set {data.name!r} without classes or test split).")
    try:
        with torch.no_grad():
            Predictive(model, 1)(data.test.x[:1])
    except TypeError as err:
        raise ConfigError(f"The run directory '{run_dir}' is not a classifier's run: {err}") \
            from None
    return config, model, data


def evaluate_run(run_dir: Path, images: int, attacks: AttackConfig | None, cache: Path) -> dict:
    """Attack the model of ``run_dir`` on its first ``images`` test images with ``attacks``
    (default :class:`~ibkit.robustness.AttackConfig`), cached in ``cache``: a second call
    reads the file."""
    attacks = attacks or AttackConfig()
    if cache.is_file():
        return json.loads(cache.read_text())
    config, model, data = load_classifier(run_dir)
    x, y = data.test.x[:images], data.test.y[:images]
    torch.manual_seed(attacks.seed)
    t = time.perf_counter()
    result = evaluate_robustness(model, x, y, bounds_of(config.data.scale), attacks)
    out = {"run_dir": str(run_dir), "seconds": time.perf_counter() - t, "rows": result.rows,
           "norms": result.norms, "checks": result.checks, "attack_seconds": result.seconds,
           "test_error_pct": _summary_error(run_dir)}
    write_json(cache, out)
    return out


def _summary_error(run_dir: Path) -> float:
    summary = json.loads((run_dir / "summary.json").read_text())
    return float(summary["final"].get("test_error_pct", math.nan))


def _train(group: ModelGroup, out: Path, seeds: int, overrides: Sequence[str],
           workers: int) -> list[tuple[dict[str, Any], Path]]:
    from ibkit.experiments.sweep import run_sweep

    sweep_dir = out / "models" / group.label
    params = [f"objective.beta={','.join(group.betas)}"] if group.betas else []
    rows = run_sweep(group.preset, params, sweep_dir, overrides, workers, seeds=seeds)
    return [(r, sweep_dir / r["run"]) for r in rows]


def run_robustness(name: str, out_dir: str | Path, seeds: int | None = None,
                   images: int | None = None, overrides: Sequence[str] = (),
                   workers: int = 1, betas: Sequence[str] | None = None) -> dict:
    """Train what is missing, attack every model, write ``OUT/robustness.csv`` (tidy: group,
    beta, seed, attack, gradient, norm, eps, robust_acc), ``norms.csv``, ``checks.csv``,
    ``summary.json`` and the figures; return the summary.

    Args:
        name: a robustness preset.
        out_dir: the evaluation's folder (models go to ``OUT/models/<group>``).
        seeds, images: override the preset's seeds per beta and test images.
        overrides: ``KEY=VALUE`` applied to every trained model (e.g. fewer epochs).
        workers: models trained at once.
        betas: replace the betas of every group that has some (a smaller evaluation).
    """
    preset = get_robustness_preset(name)
    seeds, images = seeds or preset.seeds, images or preset.images
    if images < 1:
        raise ConfigError(f"The 'images' parameter must be >= 1. Got {images} instead.")
    out = Path(out_dir)
    rows, norms, checks, timing = [], [], [], []
    for group in preset.groups:
        if betas and group.betas:
            group = ModelGroup(group.label, group.preset, tuple(betas))
        for point, run_dir in _train(group, out, seeds, overrides, workers):
            beta = float(point.get("objective.beta", math.nan))
            seed = int(point.get("train.seed", 0))
            key = {"group": group.label, "beta": beta, "seed": seed, "run": str(run_dir)}
            cache = out / EVALS / group.label / f"{run_dir.name}.json"
            result = evaluate_run(run_dir, images, preset.attacks, cache)
            rows += [{**key, **r} for r in result["rows"]]
            norms += [{**key, **n} for n in result["norms"]]
            checks += [{**key, "check": c, **v} for c, v in result["checks"].items()]
            timing.append({**key, "seconds": result["seconds"],
                           "test_error_pct": result["test_error_pct"]})
    write_rows_csv(out / "robustness.csv", rows)
    write_rows_csv(out / "norms.csv", norms)
    write_rows_csv(out / "checks.csv", checks)
    summary = _summary(preset, images, seeds, rows, norms, checks, timing)
    write_json(out / "summary.json", summary)
    from ibkit.report.robustness_figures import render_robustness_figures

    render_robustness_figures(out)
    return summary


def headline(rows: list[dict], norms: list[dict], eps: float = 0.1) -> list[dict]:
    """One line per model: clean accuracy; at the L-inf eps closest to ``eps``, PGD by gradient,
    Square and the worst case; Carlini-Wagner (untargeted) on the predictive and transferred
    from the mean mode, with the median L2 of its successes (pixel-range units)."""
    linf = sorted({float(r["eps"]) for r in rows if r["norm"] == "linf"})
    at = min(linf, key=lambda e: abs(e - eps)) if linf else math.nan
    lines: dict[str, dict] = {}
    for r in rows:
        line = lines.setdefault(r["run"], {"group": r["group"], "beta": r["beta"],
                                           "seed": r["seed"], "eps": at})
        if r["attack"] == "clean":
            line["clean"] = r["robust_acc"]
        elif r["norm"] == "linf" and float(r["eps"]) == at and r["attack"] in (
                "pgd", "square", "worst-case"):
            name = r["attack"] if r["attack"] != "pgd" else f"pgd {r['gradient']}"
            line[name] = r["robust_acc"]
        elif r["attack"] == "cw-l2":
            line[f"cw-l2 {r['gradient']}"] = r["robust_acc"]
    for n in norms:
        if n["attack"] == "cw-l2":
            lines[n["run"]][f"cw-l2 {n['gradient']} l2_median"] = n["l2_median"]
    return list(lines.values())


def _summary(preset: RobustnessPreset, images: int, seeds: int, rows: list[dict],
             norms: list[dict], checks: list[dict], timing: list[dict]) -> dict:
    failed = [f"{c['group']} beta={c['beta']:g} seed={c['seed']}: {c['check']} ({c['detail']})"
              for c in checks if not c["passed"]]
    det = [n for n in norms if n["group"] == "deterministic" and n["attack"] == "cw-l2"]
    det_l2 = sum(n["l2_median"] for n in det) / len(det) if det else math.nan
    relative = [{"group": n["group"], "beta": n["beta"], "seed": n["seed"],
                 "attack": n["attack"], "gradient": n["gradient"],
                 "l2_median_relative_to_deterministic": n["l2_median"] / det_l2}
                for n in norms if det_l2 == det_l2 and det_l2 > 0]
    return {"preset": preset.name, "images": images, "seeds": seeds,
            "headline": headline(rows, norms),
            "attacks": asdict(preset.attacks),
            "models": timing,
            "attack_seconds_total": sum(t["seconds"] for t in timing),
            "failed_checks": failed,
            "deterministic_cw_l2_robust_acc": [r["robust_acc"] for r in rows
                                               if r["group"] == "deterministic"
                                               and r["attack"] == "cw-l2"],
            "cw_l2_median_relative": relative}


_BETAS = ("1e-05", "0.0001", "0.001", "0.01", "0.1")
register_robustness_presets(
    RobustnessPreset(
        "robustness-digits",
        "VIB and CEB at five betas and the deterministic baseline on the embedded digits, "
        "200 test images, every attack at a small budget: minutes on a CPU",
        (ModelGroup("vib", "vib-digits", _BETAS), ModelGroup("ceb", "ceb-digits", _BETAS),
         ModelGroup("deterministic", "deterministic-digits")),
        images=200,
        attacks=AttackConfig(steps=20, eot=3, square_queries=200, cw_steps=30),
    ),
    RobustnessPreset(
        "robustness-mnist",
        "Deep VIB Fig. 4 and its re-evaluation: vib-mnist-fast and ceb-mnist-fast at five "
        "betas (1e-8 behaves like 0) and deterministic-mnist-fast, the first 500 MNIST test "
        "images (the paper: 1,000, --images 1000), every attack at a budget that fits 2 hours "
        "on 2 cores with --workers 2",
        (ModelGroup("vib", "vib-mnist-fast", ("1e-08", "0.0001", "0.001", "0.01", "0.1")),
         ModelGroup("ceb", "ceb-mnist-fast", ("1e-08", "0.0001", "0.001", "0.01", "0.1")),
         ModelGroup("deterministic", "deterministic-mnist-fast")),
        images=500,
        attacks=AttackConfig(eps_l2=(1.0, 2.0), eot=3, square_queries=200),
    ),
)
