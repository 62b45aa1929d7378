"""Presets: one per reproduced result, each a typed config and its expected result."""

from __future__ import annotations

import operator
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ibkit._errors import ConfigError
from ibkit.engine import TrainConfig
from ibkit.experiments.config import DataConfig, ExperimentConfig, ModelConfig, ObjectiveConfig

_OPS = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Expected:
    """An expected result: ``metric`` (a key of the summary's ``final``) compared with ``value``.

    ``op`` is ``"<="``, ``">="`` or ``"~"`` (within ``tolerance``); ``source`` says
    where the number comes from (paper, table, or our own measurement).
    """

    metric: str
    value: float
    op: str
    source: str
    tolerance: float = 0.0

    def met(self, measured: float) -> bool:
        """Whether ``measured`` satisfies the expectation."""
        if self.op == "~":
            return abs(measured - self.value) <= self.tolerance
        return bool(_OPS[self.op](measured, self.value))

    def describe(self) -> str:
        """One line, for example ``test_error_pct <= 1.25 (paper)``."""
        tol = f" +/- {self.tolerance:g}" if self.op == "~" else ""
        return f"{self.metric} {self.op} {self.value:g}{tol} ({self.source})"


@dataclass(frozen=True)
class Preset:
    """A named experiment: a config factory, a one-line description and expected results."""

    name: str
    description: str
    make_config: Callable[[], ExperimentConfig]
    expected: tuple[Expected, ...] = ()
    post: Callable[[Path, ExperimentConfig], dict] | None = None
    """Extra work after training (a sub-sweep, say); returns entries for the summary."""


def _digits_mlp(preset: str = "digits-mlp") -> ExperimentConfig:
    return ExperimentConfig(
        preset=preset,
        data=DataConfig(name="digits"),
        model=ModelConfig(hidden=(128, 64), activation="relu"),
        train=TrainConfig(epochs=30, batch_size=64, lr=1e-3),
    )


DEMO_BETAS = "logspace(-4,0,5)"


def _demo_vib_sweep(run_dir: Path, config: ExperimentConfig) -> dict:
    """The demo's second half: vib-digits at five betas, and the trade-off figure."""
    from ibkit.experiments.sweep import run_sweep

    sweep_dir = run_dir / "vib-sweep"
    rows = run_sweep("vib-digits", [f"beta={DEMO_BETAS}"], sweep_dir,
                     [f"train.device={config.train.device}", "train.epochs=30"], workers=2)
    for name in ("ib_tradeoff.png", "error_vs_beta.png"):
        if (sweep_dir / name).is_file():
            shutil.copyfile(sweep_dir / name, run_dir / "figures" / name)
    return {"vib_sweep": [{"beta": r["objective.beta"], "test_error_pct": r["test_error_pct"],
                           "I_ZX_upper_bits": r["test_kl_bits"],
                           "I_ZY_lower_bits": r["test_izy_lower_bits"]} for r in rows]}


DEMO_PLANE_EPOCHS = 1500


def _demo_plane(run_dir: Path, config: ExperimentConfig) -> dict:
    """A short tishby-tanh (1,500 epochs, 80 planes) and its information-plane figure."""
    from ibkit.experiments.runner import resolve_config, run

    sub = resolve_config("tishby-tanh", [f"train.epochs={DEMO_PLANE_EPOCHS}", "plane.points=80",
                                         f"train.device={config.train.device}"])
    summary = run(sub, run_dir / "tishby-tanh", overwrite=True)
    for name in ("plane.png", "dynamics.png"):
        src = run_dir / "tishby-tanh" / "figures" / name
        if src.is_file():
            shutil.copyfile(src, run_dir / "figures" / f"tishby_{name}")
    return {"tishby_tanh": {"test_error_pct": summary["final"].get("test_error_pct"),
                            "compression_bits_binning":
                                summary["final"].get("compression_bits_binning"),
                            "train_seconds": summary["train_seconds"]}}


def _demo_post(run_dir: Path, config: ExperimentConfig) -> dict:
    """The demo after its classifier: the VIB sweep, then the layer-wise information plane."""
    return {**_demo_vib_sweep(run_dir, config), **_demo_plane(run_dir, config)}


def _digits_random_labels() -> ExperimentConfig:
    config = _digits_mlp("digits-random-labels")
    config.data.random_labels = True
    return config


def _vib_mnist(preset: str = "vib-mnist", model: str = "vib") -> ExperimentConfig:
    """The authors' demo set-up: pixels in [-1, 1], Adam(1e-4, 0.5, 0.999), x0.97 every 2
    epochs, batch 100, 200 epochs, EMA 0.999, beta 1e-3, 12 samples at test time."""
    return ExperimentConfig(
        preset=preset,
        data=DataConfig(name="mnist", scale="symmetric"),
        model=ModelConfig(name=model, hidden=(1024, 1024), bottleneck_dim=256, eval_samples=12),
        objective=ObjectiveConfig(beta=1e-3),
        train=TrainConfig(epochs=200, batch_size=100, lr=1e-4, betas=(0.5, 0.999), lr_decay=0.97,
                          lr_decay_every=2, ema_decay=0.999),
    )


def _vib_mnist_fast() -> ExperimentConfig:
    """ibkit's fast schedule: 12 training samples of z, twice the learning rate, 30 epochs,
    beta 5e-3 (at beta 1e-3 the same schedule over-fits: 1.32 % test error)."""
    c = _vib_mnist("vib-mnist-fast")
    c.model.train_samples = 12
    c.objective.beta = 5e-3
    c.train.lr, c.train.epochs = 2e-4, 30
    return c


def _vib_mnist_2d() -> ExperimentConfig:
    """K = 2 for the embedding figure (Alemi et al., Figure 2)."""
    c = _vib_mnist("vib-mnist-2d")
    c.model.bottleneck_dim, c.model.train_samples = 2, 12
    c.train.lr, c.train.epochs = 2e-4, 30
    return c


def _vib_digits() -> ExperimentConfig:
    """A small VIB on the embedded digits: seconds per run, for sweeps and the demo."""
    return ExperimentConfig(
        preset="vib-digits",
        data=DataConfig(name="digits", scale="symmetric"),
        model=ModelConfig(name="vib", hidden=(256, 256), bottleneck_dim=32, train_samples=4),
        objective=ObjectiveConfig(beta=1e-3),
        train=TrainConfig(epochs=60, batch_size=64, lr=1e-3, betas=(0.5, 0.999), ema_decay=0.99),
    )


PRESETS: dict[str, Preset] = {
    "demo": Preset(
        "demo",
        "MLP 64-128-64-10 on the embedded 8x8 digits, then vib-digits at 5 betas and the "
        "I(Z;Y)-vs-I(Z;X) trade-off figure, then a short tishby-tanh and its information "
        "plane; under two minutes on 2 CPU cores",
        lambda: _digits_mlp("demo"),
        (Expected("test_acc", 0.95, ">=", "ibkit's own run"),),
        post=_demo_post,
    ),
    "digits-mlp": Preset(
        "digits-mlp",
        "MLP 64-128-64-10 on the embedded 8x8 digits, 30 epochs, seconds on a CPU",
        _digits_mlp,
        (Expected("test_acc", 0.95, ">=", "ibkit's own run"),),
    ),
    "digits-random-labels": Preset(
        "digits-random-labels",
        "digits-mlp with labels drawn independently of the inputs: nothing to learn "
        "(Herwana & Kadian's zero-information sanity run)",
        _digits_random_labels,
        (Expected("test_acc", 0.2, "<=", "chance is 0.1"),),
    ),
    "vib-mnist": Preset(
        "vib-mnist",
        "Deep VIB on MNIST as in the authors' demo (784-1024-1024-2x256, beta 1e-3, 200 epochs)",
        _vib_mnist,
        (Expected("test_error_pct", 1.13, "~", "Alemi et al. 2017 Table 1; demo run 1.21", 0.15),),
    ),
    "deterministic-mnist": Preset(
        "deterministic-mnist",
        "the same network without noise or KL, same schedule (the paper's baseline)",
        lambda: _vib_mnist("deterministic-mnist", "deterministic"),
        (Expected("test_error_pct", 1.38, "~", "Alemi et al. 2017 Table 1", 0.15),),
    ),
    "vib-mnist-fast": Preset(
        "vib-mnist-fast",
        "Deep VIB on MNIST in 30 epochs: 12 training samples of z, lr 2e-4, beta 5e-3",
        _vib_mnist_fast,
        (Expected("test_error_pct", 1.25, "<=", "issue target; paper 1.13 in 200 epochs"),),
    ),
    "vib-mnist-2d": Preset(
        "vib-mnist-2d",
        "Deep VIB on MNIST with K = 2, for the 2-D embedding figure (Alemi et al. Fig. 2)",
        _vib_mnist_2d,
        (Expected("test_error_pct", 5.0, "<=", "ibkit's target for K = 2"),),
    ),
    "vib-digits": Preset(
        "vib-digits",
        "Deep VIB on the embedded digits (256-256-2x32), seconds per run: sweeps and the demo",
        _vib_digits,
        (Expected("test_error_pct", 5.0, "<=", "ibkit's own run"),),
    ),
}


def _plane_presets() -> dict[str, Preset]:
    from ibkit.experiments import plane_presets as pp

    fitting = "compression_bits_binning"
    return {p.name: p for p in (
        Preset("tishby-tanh", "Shwartz-Ziv & Tishby's 12-bit network (12-10-7-5-4-3-2 tanh), 8000 "
               "epochs, plane at 274 epochs with binning and KDE; the optimal IB curve",
               pp.tishby, (Expected(fitting, 0.1, ">=", "Shwartz-Ziv & Tishby: fitting then "
                                    "compression in the deepest hidden layer"),)),
        Preset("tishby-relu", "tishby-tanh with ReLU, binned over the observed range",
               pp.tishby_relu, (Expected(fitting, 0.1, "<=", "Saxe et al.: no compression "
                                         "phase with ReLU"),)),
        Preset("tishby-fullbatch", "tishby-tanh with full-batch Adam (no gradient noise)",
               pp.tishby_fullbatch, (Expected(fitting, 0.1, ">=", "Saxe et al.: tanh "
                                              "compresses without stochastic gradients"),)),
        Preset("boolean-4bit", "the survey's 4-bit boolean task, 4-4-4-4-2 tanh, label noise "
               "0.07; partitions of the last hidden layer and the compression bound",
               pp.boolean_4bit, (Expected("test_error_pct", 12.0, "<=", "7 % label noise: "
                                          "ibkit's target"),)),
        Preset("saxe-mnist", "Saxe et al.'s MNIST network 784-1024-20-20-20-10 tanh, SGD; plane "
               "every epoch (binning on 10,000 test images, KDE on 4,096)",
               pp.saxe_mnist, (Expected("test_error_pct", 4.0, "<=", "ibkit's run: 3.44 after 20 "
                                        "epochs; Saxe et al. report no error rate"),)),
        Preset("saxe-mnist-relu", "saxe-mnist with ReLU, binned over the observed range",
               lambda: pp.saxe_mnist("relu"), (Expected("test_error_pct", 4.0, "<=",
                                                        "ibkit's target"),)),
    )}


def _compress_presets() -> dict[str, Preset]:
    from ibkit.experiments import compress_presets as cp

    def paper(r_w: float, r_n: float, err: float, table: str, flops: float | None = None,
              r_n_metric: str = "r_N_pct") -> tuple[Expected, ...]:
        src = f"Dai et al. 2018 {table}"
        expected = (Expected("r_W_pct", r_w, "<=", src), Expected(r_n_metric, r_n, "<=", src),
                    Expected("finetuned_test_error_pct", err, "<=", src))
        return expected + ((Expected("flops_after", flops, "<=", src),) if flops else ())

    return {p.name: p for p in (
        Preset("vibnet-lenet300", "VIBNet on LeNet-300-100 (MNIST): gates on pixels and both "
               "hidden layers, prune ln alpha < 0, export, fine-tune; paper 97-71-33",
               cp.vibnet_lenet300, paper(3.59, 16.98, 1.6, "Table 1")),
        Preset("vibnet-lenet5", "VIBNet on LeNet5-Caffe 20-50-800-500 (MNIST): gates on conv "
               "channels and the 500 units", cp.vibnet_lenet5,
               paper(0.83, 15.55, 1.0, "Table 2", flops=94_000, r_n_metric="r_N_positions_pct")),
        Preset("vibnet-vgg16-cifar10", "VIBNet on the modified VGG16, CIFAR-10 (needs the data "
               "set), a gate after every ReLU", cp.vibnet_vgg16, paper(5.79, 59.60, 6.2, "Table 3")),
    )}


PRESETS.update(_plane_presets())
PRESETS.update(_compress_presets())


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ConfigError listing the presets otherwise."""
    if name not in PRESETS:
        raise ConfigError(
            f"Unknown preset {name!r}. Allowed presets: {', '.join(sorted(PRESETS))}."
        )
    return PRESETS[name]
