"""Presets of the information-plane reproductions (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018;
the survey's 4-bit task)."""

from __future__ import annotations

from ibkit.engine import TrainConfig
from ibkit.experiments.config import DataConfig, ExperimentConfig, ModelConfig, PlaneConfig

TISHBY_HIDDEN = (10, 7, 5, 4, 3)


def tishby(preset: str = "tishby-tanh", activation: str = "tanh", epochs: int = 8000,
           points: int = 274) -> ExperimentConfig:
    """12-10-7-5-4-3-2 on the 12-bit task, the original's set-up: Adam lr 4e-4, batch 512,
    8000 epochs, 80 % of the 4,096 inputs to train, the plane on all 4,096 at 274
    log-spaced epochs, binning (30 edges on [-1, 1]) and KDE bounds (noise variance 0.1)."""
    binning = "fixed" if activation == "tanh" else "observed"
    return ExperimentConfig(
        preset=preset,
        data=DataConfig(name="tishby-12bit"),
        model=ModelConfig(hidden=TISHBY_HIDDEN, activation=activation),
        train=TrainConfig(epochs=epochs, batch_size=512, lr=4e-4, checkpoint_every=500,
                          eval_batch_size=4096, threads=1),
        plane=PlaneConfig(enabled=True, points=points, binning=binning,
                          analyses=("optimal-curve",)),
    )


def tishby_relu() -> ExperimentConfig:
    """As tishby-tanh with ReLU, binned over each layer's observed range (Saxe et al.)."""
    return tishby("tishby-relu", "relu")


def tishby_fullbatch() -> ExperimentConfig:
    """As tishby-tanh with full-batch Adam (no stochastic gradients; Saxe et al.)."""
    c = tishby("tishby-fullbatch")
    c.train.batch_size = 0
    c.train.lr = 4e-3
    return c


def boolean_4bit() -> ExperimentConfig:
    """The survey's 4-bit task: rule (x1 AND x2) XOR (x3 OR x4) (the original rule was lost),
    label noise 0.07, 4-4-4-4-2 tanh, SGD, batch 16."""
    return ExperimentConfig(
        preset="boolean-4bit",
        data=DataConfig(name="boolean-4bit"),
        model=ModelConfig(hidden=(4, 4, 4), activation="tanh"),
        train=TrainConfig(epochs=300, batch_size=16, optimizer="sgd", lr=0.05, momentum=0.9,
                          checkpoint_every=50, threads=1),
        plane=PlaneConfig(enabled=True, points=100, analyses=("partitions",)),
    )


def saxe_mnist(activation: str = "tanh") -> ExperimentConfig:
    """784-1024-20-20-20-10 on MNIST with SGD (Saxe et al.): binning on the 10,000 test
    images, KDE bounds on the first 4,096 of them, every epoch."""
    preset = "saxe-mnist" if activation == "tanh" else "saxe-mnist-relu"
    return ExperimentConfig(
        preset=preset,
        data=DataConfig(name="mnist"),
        model=ModelConfig(hidden=(1024, 20, 20, 20), activation=activation),
        train=TrainConfig(epochs=20, batch_size=128, optimizer="sgd", lr=0.01, momentum=0.9),
        plane=PlaneConfig(enabled=True, probe="test", kde_samples=4096,
                          binning="fixed" if activation == "tanh" else "observed"),
    )
