"""Presets of the VIBNet compression experiments (Dai et al. 2018)."""

from __future__ import annotations

from ibkit.engine import TrainConfig
from ibkit.experiments.config import CompressConfig, DataConfig, ExperimentConfig, ModelConfig


def vibnet_lenet300() -> ExperimentConfig:
    """LeNet-300-100 on MNIST with gates on the input pixels and both hidden layers, every
    training image shifted by up to 1 pixel (an addition: the paper names no augmentation):
    20 epochs of dense pretraining, 120 gated epochs at gamma 24 (gates at lr 1e-2, the
    weights with L2 decay 1e-4), 60 of fine-tuning from 2e-3 annealed to 0 (cosine)."""
    return ExperimentConfig(
        preset="vibnet-lenet300",
        data=DataConfig(name="mnist"),
        model=ModelConfig(hidden=(300, 100), activation="relu"),
        train=TrainConfig(epochs=120, batch_size=100, lr=1e-3, lr_decay=0.98, weight_decay=1e-4,
                          augment_shift=1, threads=1),
        compress=CompressConfig(enabled=True, gates=("input", "act1", "act2"), gamma=(24.0,),
                                pretrain_epochs=20, gate_lr=1e-2, gamma_warmup_epochs=5,
                                finetune_epochs=60, finetune_lr=2e-3,
                                finetune_schedule="cosine"),
    )


def vibnet_lenet5() -> ExperimentConfig:
    """LeNet5-Caffe on MNIST with gates on both convolutions' channels and the 500 units
    (gamma 450 on conv1's channels, 120 on conv2's, 100 on the fully connected units: conv1
    costs the most multiply-accumulates per channel), every training image shifted by up to
    2 pixels (an addition: the paper names no augmentation): 3 epochs of dense pretraining,
    15 gated epochs (gates at lr 1e-2), 60 of fine-tuning from 2e-3 annealed to 0 (cosine)."""
    return ExperimentConfig(
        preset="vibnet-lenet5",
        data=DataConfig(name="mnist"),
        model=ModelConfig(name="lenet5"),
        train=TrainConfig(epochs=15, batch_size=100, lr=1e-3, augment_shift=2, threads=1),
        compress=CompressConfig(enabled=True, gates=("relu1", "relu2", "relu3"),
                                gamma=(450.0, 120.0, 100.0), pretrain_epochs=3, gate_lr=1e-2,
                                gamma_warmup_epochs=2, finetune_epochs=60, finetune_lr=2e-3,
                                finetune_schedule="cosine"),
    )


VGG_GATES = tuple(f"relu{i}" for i in range(1, 14)) + ("relu_fc1",)


def vibnet_vgg16() -> ExperimentConfig:
    """VIBNet's modified VGG16 on CIFAR-10, a gate after every ReLU."""
    return ExperimentConfig(
        preset="vibnet-vgg16-cifar10",
        data=DataConfig(name="cifar10"),
        model=ModelConfig(name="vgg16", hidden=()),
        train=TrainConfig(epochs=200, batch_size=128, lr=1e-3, lr_decay=0.5, lr_decay_every=50),
        compress=CompressConfig(enabled=True, gates=VGG_GATES, gamma=(10.0,),
                                gamma_warmup_epochs=20, finetune_epochs=10, finetune_lr=1e-4),
    )
