"""The teacher-student family (Herwana & Kadian): a teacher VAE remakes the data, a VIB student
trains on them, and each epoch both upper bounds on the student's I(X;Z) are recorded: the
direct VIB bound and the teacher-student bound (eq. 5), with KDE and binning of the student's
means for comparison, the encoder covariance's mean log-determinant and the gradient norm of
the KL term (Figs. 3-7).

Recipes ``("teacher-student", "vib")``: this one must come first (it replaces the data).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import torch
from torch.distributions import Independent, Normal

from ibkit._errors import ConfigError
from ibkit._io import append_rows_csv, truncate_rows_csv
from ibkit.callbacks import Callback
from ibkit.data import Dataset, teacher_dataset
from ibkit.engine import TrainConfig
from ibkit.estimators import BinningEstimator, KDEEstimator, TeacherStudentBound
from ibkit.experiments.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    ObjectiveConfig,
    TeacherConfig,
)
from ibkit.experiments.registry import (
    Expected,
    Preset,
    Recipe,
    RunContext,
    register_presets,
    register_recipe,
)
from ibkit.models import VAE, VIBClassifier

BOUNDS_FILE = "teacher_bounds.csv"


def vib_student(model: VIBClassifier) -> Any:
    """p(z|x) of a VIB classifier's encoder and bottleneck, as a distribution per x."""
    def student(x: torch.Tensor) -> Independent:
        mean, std = model.bottleneck.encode(model.encoder(x))
        return Independent(Normal(mean, std), 1)
    return student


def load_teacher(run_dir: Path) -> VAE:
    """The VAE of a finished ``vae`` run directory, in evaluation mode."""
    from ibkit.experiments.runner import load_run

    try:
        config, model, _ = load_run(run_dir)
    except ConfigError:
        raise ConfigError(f"The 'teacher.run_dir' parameter must name a finished VAE run. "
                          f"Got '{run_dir}' instead (no finished run there).") from None
    if not isinstance(model, VAE):
        raise ConfigError(f"The 'teacher.run_dir' parameter must name a VAE run. Got '{run_dir}' "
                          f"instead (model.name={config.model.name!r}).")
    return model


class MeanTeacher:
    """The teacher as the reconstruct mode's data were made: x = the decoder's mean at z_v
    (a point mass, drawn as a Gaussian of standard deviation 1e-6 so that it is
    reparameterised). The inner expectation over x' is then trivial (no Jensen gap at any M)."""

    def __init__(self, vae: VAE) -> None:
        self.vae, self.latent_dim = vae, vae.latent_dim

    def decode(self, z_v: torch.Tensor) -> Independent:
        """p(x | z_v): all mass at the decoder's mean."""
        mean = self.vae.decode(z_v).mean
        return Independent(Normal(mean, torch.full_like(mean, 1e-6)), len(self.vae.input_shape))


def _no_student(x: torch.Tensor) -> Independent:
    raise RuntimeError("TeacherBounds sets the student at the end of each epoch")


class TeacherBounds(Callback):
    """Per epoch, on ``x`` (teacher data, with labels ``y``), of the evaluated VIB student
    (x' drawn as the data were: sampled in ``exact`` mode, the decoder's mean in
    ``reconstruct`` mode, see :class:`MeanTeacher`):
    the teacher-student bound (its inference network warm-started and trained ``steps`` more
    steps each epoch), the direct VIB bound and their minimum, KDE (upper) and binning
    estimates of I(X;T) on the encoder's means, the mean log-determinant of the encoder's
    covariance (nats), and the norm of the gradient of the mean KL (the I(X;Z) term) with
    respect to the trained weights. Rows go to ``path``; the row gets ``ts_izx_bits`` and
    ``min_izx_bits``."""

    COLUMNS = ("epoch", "ts_bits", "ts_stderr_bits", "direct_bits", "min_bits", "kde_upper_bits",
               "binning_bits", "logdet_cov_mean", "kl_grad_norm")

    def __init__(self, path: Path, teacher: VAE, x: torch.Tensor, y: torch.Tensor, m: int,
                 steps: int, full_covariance: bool, seed: int, mode: str = "exact") -> None:
        self.path, self.teacher, self.x, self.y = path, teacher, x, y
        sampler = MeanTeacher(teacher) if mode == "reconstruct" else teacher
        self.bound = TeacherStudentBound(sampler, _no_student, m=m, steps=steps, batch_size=256,
                                         full_covariance=full_covariance, warm_start=True,
                                         seed=seed)
        self.seed = seed
        self._last_epoch = 0

    def on_train_start(self, trainer: Any) -> None:
        """Move the teacher and the evaluation inputs to the trainer's device."""
        self.teacher.to(trainer.device)
        self.x, self.y = self.x.to(trainer.device), self.y.to(trainer.device)

    def _kl_grad_norm(self, model: VIBClassifier) -> float:
        out = model.bottleneck(model.encoder(self.x[:512]))
        params = [p for p in model.parameters() if p.requires_grad]
        grads = torch.autograd.grad(out.kl_nats.mean(), params, allow_unused=True)
        return math.sqrt(sum(float((g**2).sum()) for g in grads if g is not None))

    def on_epoch_end(self, trainer: Any, epoch: int, row: dict[str, float]) -> None:
        """Estimate everything for this epoch and append the row."""
        model = trainer.eval_model
        was_training = model.training
        model.eval()
        try:
            self.bound.student = vib_student(model)
            self.bound.seed = self.seed + epoch
            self.bound.fit(self.x)
            est = self.bound.estimate(self.x, self.y)
            with torch.no_grad():
                mean, std = model.bottleneck.encode(model.encoder(self.x))
            kde = KDEEstimator(noise_var=0.1).plane_information(mean, self.y)[0].I_XT_bits
            binning = BinningEstimator(30, strategy="observed").plane_information(
                mean, self.y)[0].I_XT_bits
            grad_norm = self._kl_grad_norm(trainer.model)
        finally:
            model.train(was_training)
        rec = {"epoch": epoch, "ts_bits": est.value_bits, "ts_stderr_bits": est.stderr_bits,
               "direct_bits": est.details["direct_bits"], "min_bits": est.details["minimum_bits"],
               "kde_upper_bits": kde, "binning_bits": binning,
               "logdet_cov_mean": float((2 * std.log()).sum(1).mean()), "kl_grad_norm": grad_norm}
        append_rows_csv(self.path, [rec], self.COLUMNS)
        self._last_epoch = epoch
        row["ts_izx_bits"], row["min_izx_bits"] = rec["ts_bits"], rec["min_bits"]

    def state_dict(self) -> dict:
        """The inference network and its optimizer (so a resumed run continues exactly)."""
        state: dict[str, Any] = {"last_epoch": self._last_epoch}
        if hasattr(self.bound, "network_"):
            state["inference"] = self.bound.network_.state_dict()
            state["optimizer"] = self.bound.optimizer_.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Drop rows after the checkpoint; restore the inference network."""
        self._last_epoch = int(state.get("last_epoch", 0))
        truncate_rows_csv(self.path, self._last_epoch, self.COLUMNS)
        if "inference" in state:
            self.bound.restore(state["inference"], state["optimizer"])


def _teacher(ctx: RunContext) -> VAE:
    """The configured teacher run, or one trained (or resumed) in ``RUN_DIR/teacher``."""
    t = ctx.config.teacher
    if t.run_dir:
        return load_teacher(Path(t.run_dir))
    from ibkit.experiments.sweep.point import PointTask, run_point

    overrides = [f"train.device={ctx.config.train.device}",
                 *([f"train.epochs={t.epochs}"] if t.epochs else [])]
    run_point(PointTask(t.preset, tuple(overrides), str(ctx.run_dir / "teacher"),
                        torch.get_num_threads()))
    return load_teacher(ctx.run_dir / "teacher")


def _remade(ctx: RunContext, teacher: VAE) -> Dataset:
    d = ctx.config.data
    data = teacher_dataset(teacher, ctx.data, ctx.config.teacher.mode, seed=d.split_seed)
    if d.random_labels and ctx.config.teacher.mode == "exact":  # labels of z_v: permute them
        from ibkit.data import with_random_labels

        data = with_random_labels(data, d.split_seed)
    return data


class TeacherStudent(Recipe):
    """Teacher data for the student, and the per-epoch bounds (``teacher_bounds.csv``)."""

    name = "teacher-student"

    def setup(self, ctx: RunContext) -> None:
        """Get the teacher, remake the data, add the :class:`TeacherBounds` callback."""
        if ctx.config.recipes[0] != self.name or ctx.config.model.name != "vib":
            raise ConfigError("The 'teacher-student' recipe must come first, before 'vib' "
                              f"(model.name='vib'). Got recipes={ctx.config.recipes!r}.")
        teacher = _teacher(ctx)
        ctx.data = _remade(ctx, teacher)
        t = ctx.config.teacher
        split = ctx.data.val if ctx.data.val is not None else ctx.data.train
        path = ctx.run_dir / BOUNDS_FILE
        if not ctx.resume:
            path.unlink(missing_ok=True)
        ctx.callbacks.append(TeacherBounds(
            path, teacher, split.x[: t.bound_samples], split.y[: t.bound_samples], t.bound_m,
            t.bound_steps, t.full_covariance, ctx.config.train.seed, t.mode))
        ctx.sections["teacher"] = {"mode": ctx.data.notes.get("teacher_mode", ""),
                                   "run_dir": t.run_dir or str(ctx.run_dir / "teacher")}

    def finish(self, ctx: RunContext) -> None:
        """The claims' numbers into the summary's final metrics."""
        ctx.metrics.update(bound_metrics(read_bounds(ctx.run_dir / BOUNDS_FILE)))


register_recipe(TeacherStudent())


def read_bounds(path: Path) -> list[dict[str, float]]:
    """The rows of ``teacher_bounds.csv`` as floats (none if the file is missing)."""
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def bound_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    """The numbers the presets' claims are checked on, in bits (empty without rows):

    - ``ts_minus_direct_first_bits`` / ``_last_bits``: teacher-student minus direct bound at
      the first and the last epoch (the paper: negative early, positive late);
    - ``min_izx_peak_bits``, ``min_izx_final_bits``, ``compression_bits`` (peak - final) of the
      minimum of both bounds;
    - ``logdet_change_after_peak``: mean log-det of the encoder covariance at the end minus at
      the peak epoch (nats; negative: it kept tightening during compression).
    """
    if not rows:
        return {}
    peak = max(rows, key=lambda r: r["min_bits"])
    return {
        "ts_minus_direct_first_bits": rows[0]["ts_bits"] - rows[0]["direct_bits"],
        "ts_minus_direct_last_bits": rows[-1]["ts_bits"] - rows[-1]["direct_bits"],
        "min_izx_peak_bits": peak["min_bits"], "min_izx_peak_epoch": peak["epoch"],
        "min_izx_final_bits": rows[-1]["min_bits"],
        "compression_bits": peak["min_bits"] - rows[-1]["min_bits"],
        "logdet_change_after_peak": rows[-1]["logdet_cov_mean"] - peak["logdet_cov_mean"],
    }


def _student(preset: str, random_labels: bool = False) -> ExperimentConfig:
    """The paper's student on teacher-remade MNIST: VIB, z of 40, r(z) = N(0, I), a 2-layer MLP
    encoder (512-512; the paper does not give widths). ibkit's VIB decoder is linear, where the
    paper's is a 2-layer MLP."""
    return ExperimentConfig(
        preset=preset, recipes=("teacher-student", "vib"),
        data=DataConfig(name="mnist", random_labels=random_labels),
        model=ModelConfig(name="vib", hidden=(512, 512), bottleneck_dim=40),
        objective=ObjectiveConfig(beta=1e-3),
        train=TrainConfig(epochs=30, batch_size=100, lr=1e-3),
        teacher=TeacherConfig(preset="vae-mnist"),
    )


_PAPER = "Herwana & Kadian"
register_presets(
    Preset("herwana-zero-info", "section 4.1: teacher-remade MNIST with labels independent of "
           "the images; both I(X;Z) bounds and the I(Z;Y) bound should fall to about 0",
           lambda: _student("herwana-zero-info", random_labels=True),
           (Expected("min_izx_bits", 1.0, "<=", f"{_PAPER} Fig. 3: about 0 bits"),
            Expected("val_izy_lower_bits", 0.1, "<=", f"{_PAPER} Fig. 3: about 0 bits"))),
    Preset("herwana-estimators", "Fig. 4: the teacher-student and the direct VIB bound on "
           "I(X;Z) over training (with KDE and binning of the student's means)",
           lambda: _student("herwana-estimators"),
           (Expected("ts_minus_direct_first_bits", 0.0, "<=",
                     f"{_PAPER} Fig. 4: the inference network is lower early"),
            Expected("ts_minus_direct_last_bits", 0.0, ">=",
                     f"{_PAPER} Fig. 4: the direct bound is lower later"))),
    Preset("herwana-plane", "Fig. 5: the plane (minimum of both bounds, I(Z;Y) lower bound) "
           "of one optimizer and beta; sweep --param optimizer=adam,sgd --param beta=... "
           "for the figure's grid", lambda: _student("herwana-plane"),
           (Expected("compression_bits", 0.5, ">=",
                     f"{_PAPER} Fig. 5: fitting, an inflection point, then compression"),)),
    Preset("herwana-dynamics", "Figs. 6-7: mean log-determinant of the encoder covariance and "
           "the norm of the KL term's gradient per epoch", lambda: _student("herwana-dynamics"),
           (Expected("logdet_change_after_peak", 0.0, "<=",
                     f"{_PAPER} Fig. 6: the covariance keeps tightening during compression"),)),
)
