"""Typed configs of an experiment: data, model, training, assembled per preset."""

from __future__ import annotations

from dataclasses import dataclass, field

from ibkit.data import DATASETS
from ibkit.data.teacher import MODES as TEACHER_MODES
from ibkit.engine import TrainConfig
from ibkit.estimators.binning import STRATEGIES
from ibkit.layers import PRIORS
from ibkit.models import ACTIVATIONS, BOTTLENECKS, EVAL_MODES, PIXEL_LIKELIHOODS
from ibkit.models.vae import ENCODERS, LIKELIHOODS


@dataclass
class DataConfig:
    """Which data set and how to prepare it.

    ``data_dir`` is searched first for files (``--data-dir``); ``split_seed`` fixes the
    train/validation/test split independently of the training seed, and the subsets and the
    binarisation below. ``binarize``: a static Bernoulli draw of the pixels (values in [0, 1]);
    ``train_size`` / ``eval_size``: keep a seeded subset of the training / validation and
    test splits (0 = all).
    """

    name: str = field(default="digits", metadata={"choices": DATASETS})
    scale: str = field(default="unit", metadata={"choices": ("unit", "symmetric")})
    random_labels: bool = False
    split_seed: int = field(default=0, metadata={"min": 0})
    data_dir: str | None = None
    binarize: bool = False
    train_size: int = field(default=0, metadata={"min": 0})
    eval_size: int = field(default=0, metadata={"min": 0})


@dataclass
class ModelConfig:
    """The network (``name``: a model registered by an experiment family).

    ``mlp``: Flatten, hidden ``Linear -> activation`` layers, linear output.
    ``lenet5``: LeNet5-Caffe (20-50-800-500); ``vgg16``: VIBNet's modified VGG16 for 32x32
    images (``hidden[0] / 512`` scales its widths when ``hidden`` is given, for tests).
    ``vib``: encoder with the ``hidden`` widths, a Gaussian bottleneck of ``bottleneck_dim``
    (K), a linear decoder (Deep VIB). ``deterministic``: the same shape without noise or KL.
    The bottleneck fields are used by ``vib`` (``bottleneck_dim`` also by ``deterministic``).
    ``vae``: a VAE with ``bottleneck_dim`` latents, the ``hidden`` widths, an ``encoder``
    (``mlp`` or ``cnn``) and a decoder ``likelihood`` (see :class:`ibkit.models.VAE`).
    """

    name: str = "mlp"
    hidden: tuple[int, ...] = field(default=(64,), metadata={"min": 1})
    activation: str = field(default="relu", metadata={"choices": tuple(ACTIVATIONS)})
    bottleneck_dim: int = field(default=256, metadata={"min": 1})
    prior: str = field(default="standard", metadata={"choices": PRIORS})
    std_offset: float = 5.0
    train_samples: int = field(default=1, metadata={"min": 1})
    eval_samples: int = field(default=12, metadata={"min": 1})
    eval_mode: str = field(default="average", metadata={"choices": EVAL_MODES})
    encoder: str = field(default="mlp", metadata={"choices": ENCODERS})
    likelihood: str = field(default="bernoulli", metadata={"choices": LIKELIHOODS})


@dataclass
class ObjectiveConfig:
    """The VIB objective's weight (VIB convention: small beta = little compression).

    ``beta`` multiplies KL[p(z|x) || r(z)] in J = CE + beta * KL (both in bits);
    ``beta_warmup_epochs > 0`` ramps beta linearly from 0. Used by ``model.name=vib``.
    """

    beta: float = field(default=1e-3, metadata={"min": 0.0})
    beta_warmup_epochs: int = field(default=0, metadata={"min": 0})


PLANE_ESTIMATORS = ("binning", "kde", "knn-mixed")
PROBES = ("all", "train", "test")


@dataclass
class PlaneConfig:
    """The information plane of the hidden layers (used by the ``plane`` recipe).

    ``points``: how many epochs get a plane, log-spaced from 0 (before training) to the
    last (0 = every epoch). ``probe``: the inputs the layers are recorded on (``all`` =
    train + validation + test, the 12-bit task's 4,096), its first ``probe_size`` rows
    (0 = all); KDE uses the first ``kde_samples`` of them (0 = all). ``layers`` empty means
    every activation; ``include_output`` adds the softmax output. Binning uses ``n_bins``
    and strategy ``binning``; KDE's noise variance ``kde_noise_var`` is part of every
    KDE number. ``analyses``: ``optimal-curve`` (the IB curve of the probe's p(x, y)),
    ``partitions`` (cells of the last hidden layer and the generalisation bound).
    ``executor``: where the estimation runs while training goes on (a background
    ``thread``, a worker ``process``, or ``inline``).
    """

    estimators: tuple[str, ...] = field(default=("binning", "kde"),
                                        metadata={"choices": PLANE_ESTIMATORS})
    layers: tuple[str, ...] = ()
    include_output: bool = True
    points: int = field(default=0, metadata={"min": 0})
    probe: str = field(default="all", metadata={"choices": PROBES})
    probe_size: int = field(default=0, metadata={"min": 0})
    kde_samples: int = field(default=0, metadata={"min": 0})
    n_bins: int = field(default=30, metadata={"min": 2})
    binning: str = field(default="fixed", metadata={"choices": STRATEGIES})
    kde_noise_var: float = field(default=0.1, metadata={"gt": 0.0})
    dynamics: bool = True
    executor: str = field(default="thread", metadata={"choices": ("thread", "process", "inline")})
    analyses: tuple[str, ...] = field(default=(), metadata={"choices": ("optimal-curve",
                                                                       "partitions")})


@dataclass
class CompressConfig:
    """VIBNet compression (used by the ``compression`` recipe): gates after the modules in ``gates``
    (``input`` = the input units), trained with objective (*) at strength ``gamma``
    (one value for all gates, or one per gate; larger prunes more), warmed up linearly
    over ``gamma_warmup_epochs``; units with ln alpha < ``threshold`` are pruned, the
    smaller model exported and fine-tuned for ``finetune_epochs`` at ``finetune_lr``
    (held ``constant``, or annealed to 0 with ``finetune_schedule=cosine``).
    With ``pretrain_epochs`` > 0 the dense model is first trained with cross-entropy for
    that many epochs at ``pretrain_lr`` (``train``'s other settings, its learning-rate
    decay included), as VIBNet starts from a trained network; the gates are then added
    to the trained model. ``gate_lr`` > 0 trains the gates' parameters at that rate
    (0: ``train.lr``)."""

    gates: tuple[str, ...] = ()
    pretrain_epochs: int = field(default=0, metadata={"min": 0})
    pretrain_lr: float = field(default=1e-3, metadata={"gt": 0.0})
    gate_lr: float = field(default=0.0, metadata={"min": 0.0})
    gamma: tuple[float, ...] = field(default=(1.0,), metadata={"min": 0.0})
    gamma_warmup_epochs: int = field(default=0, metadata={"min": 0})
    threshold: float = 0.0
    finetune_epochs: int = field(default=0, metadata={"min": 0})
    finetune_lr: float = field(default=1e-4, metadata={"gt": 0.0})
    finetune_schedule: str = field(default="constant", metadata={"choices": ("constant",
                                                                             "cosine")})


@dataclass
class TeacherConfig:
    """The teacher of the ``teacher-student`` recipe (Herwana & Kadian).

    ``run_dir``: a finished VAE run to use; empty: train ``preset`` (for ``epochs``; 0 = the
    preset's) in ``RUN_DIR/teacher`` (resumed or skipped when already there). ``mode``:
    ``reconstruct`` (the paper's: images through the teacher, labels kept; the bound is an
    approximation) or ``exact`` (z_v ~ N(0, I), x ~ p(x|z_v), labels of z_v; a true bound).
    The bound: ``bound_m`` samples of x' per z, ``bound_steps`` more training steps of the
    inference network each epoch, on the first ``bound_samples`` validation inputs, with a
    full-covariance q if ``full_covariance``.
    """

    preset: str = "vae-mnist"
    run_dir: str = ""
    epochs: int = field(default=0, metadata={"min": 0})
    mode: str = field(default="reconstruct", metadata={"choices": TEACHER_MODES})
    bound_m: int = field(default=1, metadata={"min": 1})
    bound_steps: int = field(default=200, metadata={"min": 0})
    bound_samples: int = field(default=2000, metadata={"min": 2})
    full_covariance: bool = True


@dataclass
class HybridConfig:
    """The hybrid VAE-PixelCNN of the ``hybrid-vae`` recipe (seed 004; see
    :class:`ibkit.models.HybridVAE`; the VAE encoder is ``model``'s: ``hidden``, ``encoder``,
    ``bottleneck_dim`` latents).

    ``bottleneck`` on the PixelCNN's output v: ``none``, ``dropout`` (rate ``dropout_p``) or
    ``variational`` (its KL weighed by ``vb_beta``, the paper's beta in L_VBL).
    ``aux_weight`` > 0 adds the auxiliary non-autoregressive decoder with that weight
    (Lucas & Verbeek 2018). The PixelCNN has
    ``layers`` masked layers of ``channels``; v_j has ``v_dim`` values, u_j ``u_channels``; the
    mixing MLP ``mix_hidden`` units. ``likelihood``: ``bernoulli`` (binarised images) or
    ``logistic`` (8-bit grey). After training: the bottleneck's information on the first
    ``info_samples`` test images, and ``samples`` images drawn pixel by pixel.
    """

    bottleneck: str = field(default="dropout", metadata={"choices": BOTTLENECKS})
    dropout_p: float = field(default=0.2, metadata={"gt": 0.0, "lt": 1.0})
    vb_beta: float = field(default=0.05, metadata={"min": 0.0})
    aux_weight: float = field(default=0.0, metadata={"min": 0.0})
    v_dim: int = field(default=4, metadata={"min": 1})
    layers: int = field(default=3, metadata={"min": 1})
    channels: int = field(default=32, metadata={"min": 1})
    u_channels: int = field(default=16, metadata={"min": 1})
    mix_hidden: int = field(default=64, metadata={"min": 1})
    likelihood: str = field(default="bernoulli", metadata={"choices": PIXEL_LIKELIHOODS})
    info_samples: int = field(default=1000, metadata={"min": 2})
    samples: int = field(default=16, metadata={"min": 0})


@dataclass
class LogConfig:
    """Extra logging of a run. ``tensorboard``: an event file in ``RUN_DIR/tensorboard`` with
    the metrics, the plane's points and the gates' counts per epoch and the figures at the
    end (:mod:`ibkit.integrations.tensorboard`; needs ``ibkit[tensorboard]``)."""

    tensorboard: bool = False


@dataclass
class ExperimentConfig:
    """A whole experiment; ``preset`` names the preset it came from, ``recipes`` the pieces
    the run composes, in order (see :mod:`ibkit.experiments.registry`): a base recipe that
    builds the model and objective (``classification``, ``vib``, ``autoencoder``), then
    any of ``plane`` and ``compression``."""

    preset: str
    recipes: tuple[str, ...] = ("classification",)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    plane: PlaneConfig = field(default_factory=PlaneConfig)
    compress: CompressConfig = field(default_factory=CompressConfig)
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    hybrid: HybridConfig = field(default_factory=HybridConfig)
    log: LogConfig = field(default_factory=LogConfig)
