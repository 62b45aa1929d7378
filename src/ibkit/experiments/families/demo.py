"""The demo: a digits classifier, then vib-digits at five betas with the trade-off figure,
then a short tishby-tanh and its information plane (under two minutes on 2 CPU cores)."""

from __future__ import annotations

import shutil

from ibkit.experiments.families.classification import digits_mlp
from ibkit.experiments.registry import Expected, Preset, Recipe, RunContext, register_presets, register_recipe
from ibkit.experiments.runner import resolve_config, run
from ibkit.experiments.sweep import run_sweep

DEMO_BETAS = "logspace(-4,0,5)"
DEMO_PLANE_EPOCHS = 1500


def demo_vib_sweep(ctx: RunContext) -> dict:
    """vib-digits at five betas in ``vib-sweep/``, and the trade-off figure."""
    sweep_dir = ctx.run_dir / "vib-sweep"
    rows = run_sweep("vib-digits", [f"beta={DEMO_BETAS}"], sweep_dir,
                     [f"train.device={ctx.config.train.device}", "train.epochs=30"], workers=2)
    for name in ("ib_tradeoff.png", "error_vs_beta.png"):
        if (sweep_dir / name).is_file():
            (ctx.run_dir / "figures").mkdir(exist_ok=True)
            shutil.copyfile(sweep_dir / name, ctx.run_dir / "figures" / name)
    return {"vib_sweep": [{"beta": r["objective.beta"], "test_error_pct": r["test_error_pct"],
                           "I_ZX_upper_bits": r["test_kl_bits"],
                           "I_ZY_lower_bits": r["test_izy_lower_bits"]} for r in rows]}


def demo_plane(ctx: RunContext) -> dict:
    """A short tishby-tanh (1,500 epochs, 80 planes) in ``tishby-tanh/`` and its figures."""
    sub = resolve_config("tishby-tanh", [f"train.epochs={DEMO_PLANE_EPOCHS}", "plane.points=80",
                                         f"train.device={ctx.config.train.device}"])
    summary = run(sub, ctx.run_dir / "tishby-tanh", overwrite=True)
    for name in ("plane.png", "dynamics.png"):
        src = ctx.run_dir / "tishby-tanh" / "figures" / name
        if src.is_file():
            (ctx.run_dir / "figures").mkdir(exist_ok=True)
            shutil.copyfile(src, ctx.run_dir / "figures" / f"tishby_{name}")
    return {"tishby_tanh": {"test_error_pct": summary["final"].get("test_error_pct"),
                            "compression_bits_binning":
                                summary["final"].get("compression_bits_binning"),
                            "train_seconds": summary["train_seconds"]}}


class Demo(Recipe):
    """After the classifier: the VIB sweep, then the layer-wise information plane."""

    name = "demo"

    def finish(self, ctx: RunContext) -> None:
        """Run both parts; their results become the summary's ``vib_sweep`` and
        ``tishby_tanh`` sections."""
        ctx.sections.update(demo_vib_sweep(ctx))
        ctx.sections.update(demo_plane(ctx))


def _demo_config():
    config = digits_mlp("demo")
    config.recipes = ("classification", "demo")
    return config


register_recipe(Demo())
register_presets(Preset(
    "demo",
    "MLP 64-128-64-10 on the embedded 8x8 digits, then vib-digits at 5 betas and the "
    "I(Z;Y)-vs-I(Z;X) trade-off figure, then a short tishby-tanh and its information "
    "plane; under two minutes on 2 CPU cores",
    _demo_config, (Expected("test_acc", 0.95, ">=", "ibkit's own run"),),
))
