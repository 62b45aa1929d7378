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


def _span(values: list[float], fmt: str = ".3g") -> str:
    return f"{min(values):{fmt}} to {max(values):{fmt}}"


def demo_story(ctx: RunContext) -> list[str]:
    """What each part of the demo showed and where to look, as the summary's ``story``."""
    final = ctx.trainer.history[-1] if ctx.trainer and ctx.trainer.history else {}
    lines = [f"1. classifier (MLP on the 8x8 digits): test accuracy {final.get('test_acc', 0):.3f}"]
    sweep = [r for r in ctx.sections.get("vib_sweep", []) if r["I_ZX_upper_bits"] is not None]
    if sweep:
        betas = [float(r["beta"]) for r in sweep]
        lines.append(
            f"2. VIB trade-off over beta {min(betas):g} to {max(betas):g} ({len(sweep)} runs): "
            f"I(Z;X) <= {_span([float(r['I_ZX_upper_bits']) for r in sweep])} bits, "
            f"I(Z;Y) >= {_span([float(r['I_ZY_lower_bits']) for r in sweep])} bits, "
            f"test error {_span([float(r['test_error_pct']) for r in sweep], '.1f')} % "
            "(a larger beta keeps less information about X, and then about Y)")
    plane = ctx.sections.get("tishby_tanh", {})
    if plane:
        bits = plane.get("compression_bits_binning")
        shown = "not measured" if bits is None else f"{bits:.2f} bits"
        verdict = ("compression after fitting" if bits is not None and bits >= 0.1 else
                   "little compression in this short run (the full preset runs 8,000 epochs)")
        lines.append(f"3. 12-bit information plane (tishby-tanh, {DEMO_PLANE_EPOCHS} epochs): the "
                     f"deepest hidden layer's I(X;T) fell by {shown} after its peak (binning), "
                     f"{verdict}; test error {plane.get('test_error_pct', 0):.1f} %")
    figures = ctx.run_dir / "figures"
    names = ["learning_curves.png", "ib_tradeoff.png", "error_vs_beta.png",
             "tishby_plane.png", "tishby_dynamics.png"]
    lines.append("figures: " + ", ".join(str(figures / n) for n in names
                                         if n == names[0] or (figures / n).is_file()))
    lines.append(f"open in a browser: {ctx.run_dir / 'report.html'} (it links the parts' own "
                 "pages)")
    return lines


class Demo(Recipe):
    """After the classifier: the VIB sweep, then the layer-wise information plane."""

    name = "demo"

    def finish(self, ctx: RunContext) -> None:
        """Run both parts; their results become the summary's ``vib_sweep`` and
        ``tishby_tanh`` sections, and what they showed its ``story``."""
        ctx.sections.update(demo_vib_sweep(ctx))
        ctx.sections.update(demo_plane(ctx))
        ctx.sections["story"] = demo_story(ctx)


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
