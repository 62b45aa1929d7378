"""The ``ibkit`` command: a thin layer over :mod:`ibkit.experiments` and :mod:`ibkit.report`.

Bad input (unknown preset, unknown or mistyped ``--set``, missing or corrupt data, a
run directory that cannot be used) prints one line and exits with status 2. Ctrl-C and SIGTERM
stop training at the next batch with a checkpoint (exit 130 and 143).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

import ibkit
from ibkit._errors import IbkitError


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ibkit's errors, and a file that cannot be written or read, into one line on
    stderr and exit status 2 (130 on Ctrl-C, 143 on SIGTERM, after the checkpoint)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ibkit.engine import TrainingInterrupted

        try:
            return fn(*args, **kwargs)
        except TrainingInterrupted as e:
            click.echo(str(e), err=True)
            sys.exit(e.exit_code)
        except IbkitError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(2)
        except OSError as e:  # a file that cannot be written or read: permissions, full disk
            if e.filename is None:
                raise
            click.echo(f"Error: Cannot write or read '{e.filename}': {e.strerror or e}. "
                       "Check the folder's permissions and free space; --resume continues "
                       "from the last checkpoint.", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(ibkit.__version__, prog_name="ibkit")
def main() -> None:
    """ibkit: train with information bottlenecks, measure information, compress networks."""


@main.command("list")
def list_presets() -> None:
    """List the presets, one line each, with their expected results, then the sweep presets
    (run with ``ibkit sweep NAME``) and the robustness presets (``ibkit robustness NAME``)."""
    from ibkit.experiments import PRESETS
    from ibkit.experiments.registry import SWEEP_PRESETS

    for p in PRESETS.values():
        expected = "; ".join(e.describe() for e in p.expected) or "no stated result"
        click.echo(f"{p.name:<24} {p.description}\n{'':<24} expected: {expected}")
    for s in SWEEP_PRESETS.values():
        click.echo(f"{s.name:<24} (sweep of {s.preset}, {len(s.points)} points) {s.description}")
    from ibkit.experiments.families.robustness import ROBUSTNESS_PRESETS

    for r in ROBUSTNESS_PRESETS.values():
        click.echo(f"{r.name:<24} (robustness: ibkit robustness {r.name}) {r.description}")


@main.command("run")
@click.argument("preset")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config value, for example --set train.epochs=5 (repeatable).")
@click.option("--run-dir", type=click.Path(file_okay=False), default=None,
              help="Where to write the run (default runs/PRESET/TIMESTAMP).")
@click.option("--data-dir", type=click.Path(), default=None,
              help="Directory searched first for data files.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None,
              help="Device to train on (default: the preset's, usually auto).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Training seed.")
@click.option("--resume", is_flag=True, help="Continue the run in --run-dir from its checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace a finished run in --run-dir.")
@click.option("--restart", is_flag=True,
              help="Begin the run in --run-dir again from epoch 1 with its config.yaml (for a "
                   "lost or damaged checkpoint; its other files are deleted).")
@_friendly
def run_cmd(preset: str, overrides: tuple[str, ...], run_dir: str | None, data_dir: str | None,
            device: str | None, seed: int | None, resume: bool, overwrite: bool,
            restart: bool) -> None:
    """Train PRESET and write its run directory (config, metrics, checkpoints, figures, summary)."""
    from ibkit.experiments import resolve_config, run
    from ibkit.report import format_summary

    if sum((resume, overwrite, restart)) > 1:
        raise IbkitError("Choose one of --resume, --overwrite and --restart.")
    for flag, on in (("--resume", resume), ("--restart", restart)):
        if on and run_dir is None:
            raise IbkitError(f"{flag} needs --run-dir: the run directory to continue.")
        if on and overrides:
            raise IbkitError(f"--set cannot change a run given {flag}; its config.yaml is used.")
    config = resolve_config(preset, list(overrides), data_dir, device, seed)
    summary = run(config, run_dir, resume=resume, overwrite=overwrite, restart=restart)
    click.echo(format_summary(summary))


@main.command("sweep")
@click.argument("preset")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUES",
              help="Values to sweep: beta=1e-6,1e-5 or beta=logspace(-9,0,10) or linspace(a,b,n) "
                   "(repeatable: the Cartesian product is run).")
@click.option("--seeds", type=click.IntRange(min=1), default=None,
              help="Run every point with this many seeds (the preset's seed and the next ones); "
                   "sweep_summary.csv and the figures show mean and spread.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config value at every point (repeatable).")
@click.option("--sweep-dir", type=click.Path(file_okay=False), default=None,
              help="Where the points' run directories go (default sweeps/PRESET); on a cluster, "
                   "a folder every worker sees.")
@click.option("--backend", type=click.Choice(["local", "dask", "slurm"]), default="local",
              show_default=True, help="Where the points run: this machine, Dask distributed, "
                                      "or SLURM job arrays (submitit).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Points at once: local processes, or the Dask LocalCluster's workers "
                   "(default 1 local, 2 dask).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Torch threads per point.")
@click.option("--address", default=None, metavar="tcp://HOST:PORT",
              help="dask: a running scheduler (default: start a LocalCluster).")
@click.option("--partition", default=None, help="slurm: the partition.")
@click.option("--time", "time_min", type=click.IntRange(min=1), default=60, show_default=True,
              help="slurm: time limit per point, in minutes (a point that hits it is requeued "
                   "and resumes from its checkpoint).")
@click.option("--mem", "mem_gb", type=click.FloatRange(min=0, min_open=True), default=None,
              help="slurm: memory per point, in GB.")
@_friendly
def sweep_cmd(preset: str, params: tuple[str, ...], seeds: int | None,
              overrides: tuple[str, ...], sweep_dir: str | None, backend: str,
              workers: int | None, threads: int, address: str | None, partition: str | None,
              time_min: int, mem_gb: float | None) -> None:
    """Run PRESET once per parameter value (and seed); finished points are skipped, so
    re-running resumes. PRESET may be a sweep preset (``ibkit list`` shows them), which
    brings its own points, e.g. gd-vae-sweep (seed 004's Fig. 2).

    Writes SWEEP_DIR/<point>/ (a run directory each), sweep.csv (one row per run),
    sweep_summary.csv (mean, std and count over seeds) and, for a beta sweep,
    error_vs_beta.png and ib_tradeoff.png (Alemi et al. Fig. 1) with error bars; for
    teacher-student presets, teacher_planes.png (one trajectory per point); for hybrid
    VAE-PixelCNN presets, elbo_vs_kl.png, samples_grid.png and tradeoff.json (the verdict:
    does Gaussian dropout reach a better test ELBO than the variational layer at equal KL?).
    """
    from ibkit.experiments.sweep import make_backend, run_sweep

    if address is not None and backend != "dask":
        raise IbkitError("--address is for --backend dask only.")
    from ibkit.experiments.registry import SWEEP_PRESETS

    if not params and seeds is None and preset not in SWEEP_PRESETS:
        raise IbkitError("A sweep needs at least one --param or --seeds (or a sweep preset: "
                         f"{', '.join(sorted(SWEEP_PRESETS))}).")
    n = workers or (2 if backend == "dask" else 1)
    chosen = make_backend(backend, n, address, partition=partition, time_min=time_min,
                          mem_gb=mem_gb, parallel=workers, threads=threads)
    out = sweep_dir or f"sweeps/{preset}"
    rows = run_sweep(preset, list(params), out, list(overrides), backend=chosen, seeds=seeds,
                     threads=threads)
    click.echo(f"{len(rows)} run(s) completed; tables in {out}/sweep.csv and "
               f"{out}/sweep_summary.csv")


@main.command("reproduce")
@click.argument("presets", nargs=-1)
@click.option("--fast", is_flag=True, help="Add every preset on the small data sets (digits, "
              "the 12-bit task, the 4-bit task): minutes each on 2 CPU cores.")
@click.option("--all", "all_presets", is_flag=True, help="Every preset (days on a CPU).")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Runs per preset (the preset's seed and the next ones).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="results",
              show_default=True, help="The results folder: OUT/PRESET/seed=S/ per run.")
@click.option("--doc", type=click.Path(dir_okay=False), default="docs/results.md",
              show_default=True, help="The document whose generated tables are rewritten.")
@click.option("--tables-only", is_flag=True,
              help="Run nothing: rewrite DOC's tables from the run directories in OUT.")
@click.option("--check", is_flag=True, help="Run nothing: fail unless DOC's tables match the "
              "run directories in OUT and every one they name exists.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config value of every run (repeatable).")
@click.option("--backend", type=click.Choice(["local", "dask", "slurm"]), default="local",
              show_default=True, help="Where the runs go (for a scheduler address or SLURM "
              "partition, run `ibkit sweep PRESET --seeds N --sweep-dir OUT/PRESET` instead: "
              "the same layout, picked up by --tables-only).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs at once.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Torch threads per run.")
@_friendly
def reproduce_cmd(presets: tuple[str, ...], fast: bool, all_presets: bool, seeds: int,
                  out_dir: str, doc: str, tables_only: bool, check: bool,
                  overrides: tuple[str, ...], backend: str, workers: int, threads: int) -> None:
    """Run PRESETS over seeds into OUT (finished runs of the current code are skipped; runs
    of other code move to OUT/PRESET/stale/ and run again), then rewrite DOC's generated
    tables from OUT's run directories: per preset, each expected result and the errors as
    mean, std and per-seed values, met on the mean and per seed, with code, machine, date
    and command. Text outside the tables is kept, and so are the tables of presets that OUT
    has no finished run of."""
    from ibkit.experiments.registry import PRESETS
    from ibkit.experiments.reproduce import check_results, fast_presets, reproduce, write_results
    from ibkit.experiments.sweep import make_backend

    if check:
        check_results(doc, out_dir)
        click.echo(f"{doc}: every generated table matches the run directories in {out_dir}")
        return
    if not tables_only:
        chosen = list(PRESETS) if all_presets else list(presets) + (
            [p for p in fast_presets() if p not in presets] if fast else [])
        command = "ibkit reproduce " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else ""
        reproduce(chosen, out_dir, seeds, make_backend(backend, workers, None,
                                                       parallel=workers, threads=threads),
                  workers, threads, overrides, command=command)
    click.echo(f"wrote {write_results(doc, out_dir)}")


@main.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--html", "as_html", is_flag=True,
              help="Also write RUN_DIR/report.html: one self-contained page (summary, config, "
                   "figures, tables, the plane as an interactive scatter) that opens without a "
                   "server. RUN_DIR may be a sweep directory (sweep.csv): its page links a page "
                   "per run.")
@_friendly
def report_cmd(run_dir: str, as_html: bool) -> None:
    """Re-draw the figures of RUN_DIR and print its summary (--html: and write its page)."""
    from pathlib import Path

    from ibkit.report import (
        format_summary,
        html_report,
        read_summary,
        render_figures,
        sweep_html_report,
    )

    root = Path(run_dir)
    if not (root / "metrics.csv").is_file():
        if (root / "sweep.csv").is_file() and as_html:
            click.echo(f"wrote {sweep_html_report(root)}")
            return
        hint = " It is a sweep directory: add --html for its page." \
            if (root / "sweep.csv").is_file() else ""
        raise IbkitError(f"The RUN_DIR '{run_dir}' holds no run (no metrics.csv).{hint}")
    summary = read_summary(run_dir) if (root / "summary.json").is_file() else None
    _warn_other_code(root)
    for path in render_figures(run_dir):
        click.echo(f"wrote {path}")
    if as_html:
        click.echo(f"wrote {html_report(root)}")
    if summary is not None:
        click.echo(format_summary(summary))


def _warn_other_code(root: Any) -> None:
    """Warn (on stderr) when the run was made by other code than the installed ibkit."""
    from ibkit._provenance import code_version, describe, recorded_code, same_code

    recorded = recorded_code(root)
    if not same_code(recorded):
        click.echo(f"warning: {root} was made by {describe(recorded)}; the installed code is "
                   f"{describe(code_version())}. Its numbers may not be what this code gives.",
                   err=True)


@main.command("robustness")
@click.argument("preset")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="The evaluation's folder (default robustness/PRESET); trained models go to "
                   "OUT/models/<group>/ and are reused when finished.")
@click.option("--seeds", type=click.IntRange(min=1), default=None,
              help="Models per beta (default: the preset's).")
@click.option("--images", type=click.IntRange(min=1), default=None,
              help="Test images attacked (default: the preset's; Deep VIB used the first 1,000).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config value of every trained model (repeatable).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Models trained at once.")
@click.option("--betas", default=None, metavar="B1,B2,...",
              help="Replace the preset's betas (a smaller evaluation), e.g. 1e-8,1e-3,1e-1.")
@_friendly
def robustness_cmd(preset: str, out_dir: str | None, seeds: int | None, images: int | None,
                   overrides: tuple[str, ...], workers: int, betas: str | None) -> None:
    """Attack the models of robustness PRESET (robustness-digits, robustness-mnist): FGSM,
    PGD (single draw, EOT, transfer from the mean), Square, Carlini-Wagner L2.

    Writes OUT/robustness.csv, norms.csv, checks.csv (the sanity checks that expose gradient
    obfuscation), summary.json and robustness.png; one cached evaluation per model in
    OUT/evals/, so a rerun resumes.
    """
    from ibkit.experiments.families.robustness import run_robustness

    out = out_dir or f"robustness/{preset}"
    chosen = [b.strip() for b in betas.split(",") if b.strip()] if betas else None
    summary = run_robustness(preset, out, seeds, images, list(overrides), workers, chosen)
    click.echo(f"{len(summary['models'])} model(s) attacked in "
               f"{summary['attack_seconds_total']:.0f} s; tables and robustness.png in {out}/")
    for line in summary["failed_checks"]:
        click.echo(f"check failed: {line}")


@main.command("attack")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--images", type=click.IntRange(min=1), default=1000, show_default=True,
              help="First test images attacked.")
@_friendly
def attack_cmd(run_dir: str, images: int) -> None:
    """Attack the classifier of one finished RUN_DIR with the default attacks; writes
    RUN_DIR/robustness.json and prints the sanity checks."""
    from pathlib import Path

    from ibkit.experiments.families.robustness import evaluate_run

    result = evaluate_run(Path(run_dir), images, None, Path(run_dir) / "robustness.json")
    for name, check in result["checks"].items():
        click.echo(f"{'ok    ' if check['passed'] else 'FAILED'} {name}: {check['detail']}")
    click.echo(f"wrote {Path(run_dir) / 'robustness.json'}")


if __name__ == "__main__":  # pragma: no cover
    main()
