"""How to train: the trainer's typed config."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrainConfig:
    """How to train. Learning-rate schedule ``step``: ``lr *= lr_decay`` every
    ``lr_decay_every`` epochs (the Deep VIB demo's "x0.97 every 2 epochs" is
    ``lr_decay=0.97, lr_decay_every=2``); ``cosine``: epoch e (from 0) of E trains at
    ``lr * (1 + cos(pi * e / E)) / 2`` (``lr_decay`` unused).

    ``threads > 0`` sets torch's CPU threads during ``fit`` (1 is fastest for tiny networks,
    and leaves a core to background estimation); 0 keeps torch's default.

    ``batch_size=0`` means full-batch gradient descent. ``ema_decay=0`` turns weight
    averaging off; otherwise evaluation uses the bias-corrected average.

    ``augment_shift > 0`` translates every training image by a random offset of up to that
    many pixels per axis (:func:`ibkit.data.augment.random_shift`, seeded by ``seed``,
    epoch and batch); image data only, evaluation never sees shifted images.
    """

    epochs: int = field(default=10, metadata={"min": 1})
    batch_size: int = field(default=100, metadata={"min": 0})
    optimizer: str = field(default="adam", metadata={"choices": ("adam", "sgd")})
    lr: float = field(default=1e-3, metadata={"gt": 0.0})
    betas: tuple[float, float] = field(default=(0.9, 0.999), metadata={"min": 0.0, "max": 0.9999})
    momentum: float = field(default=0.0, metadata={"min": 0.0, "max": 1.0})
    weight_decay: float = field(default=0.0, metadata={"min": 0.0})
    lr_decay: float = field(default=1.0, metadata={"gt": 0.0, "max": 1.0})
    lr_decay_every: int = field(default=1, metadata={"min": 1})
    lr_schedule: str = field(default="step", metadata={"choices": ("step", "cosine")})
    ema_decay: float = field(default=0.0, metadata={"min": 0.0, "max": 0.99999})
    augment_shift: int = field(default=0, metadata={"min": 0})
    eval_batch_size: int = field(default=2000, metadata={"min": 1})
    checkpoint_every: int = field(default=1, metadata={"min": 1})
    seed: int = field(default=0, metadata={"min": 0})
    device: str = field(default="auto", metadata={"choices": ("auto", "cpu", "cuda")})
    progress: bool = True
    threads: int = field(default=0, metadata={"min": 0})
