"""Convolutional networks of the VIBNet experiments (Dai et al. 2018)."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

VGG16_CHANNELS = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                  512, 512, 512, "M")


def lenet5_caffe(n_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """LeNet5-Caffe, 20-50-800-500: conv 5x5 (20), max-pool 2, conv 5x5 (50), max-pool 2,
    fully connected 800 -> 500, ReLU, 500 -> classes, for 28x28 inputs. ReLU follows each
    convolution (as VIBNet's code) so that gates act on non-negative activations.

    Example:
        >>> import torch
        >>> lenet5_caffe()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(in_channels, 20, 5), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(20, 50, 5), relu2=nn.ReLU(), pool2=nn.MaxPool2d(2),
        flatten=nn.Flatten(), fc1=nn.Linear(800, 500), relu3=nn.ReLU(),
        out=nn.Linear(500, n_classes),
    ))


def vgg16_cifar(n_classes: int = 10, width: float = 1.0) -> nn.Sequential:
    """The modified VGG16 of VIBNet's CIFAR-10 experiments: 13 convolutions 3x3 with batch
    norm and ReLU, five max-pools, then 512 -> 512 -> classes fully connected, for 32x32
    inputs. ``width`` scales every channel count (tests use a narrow one).

    Example:
        >>> import torch
        >>> vgg16_cifar(width=0.125)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    c_in, i, p = 3, 0, 0
    for v in VGG16_CHANNELS:
        if v == "M":
            p += 1
            layers[f"pool{p}"] = nn.MaxPool2d(2)
            continue
        i += 1
        c = max(1, round(int(v) * width))
        layers[f"conv{i}"] = nn.Conv2d(c_in, c, 3, padding=1)
        layers[f"bn{i}"] = nn.BatchNorm2d(c)
        layers[f"relu{i}"] = nn.ReLU()
        c_in = c
    fc = max(1, round(512 * width))
    layers["flatten"] = nn.Flatten()
    layers["fc1"] = nn.Linear(c_in, fc)
    layers["relu_fc1"] = nn.ReLU()
    layers["out"] = nn.Linear(fc, n_classes)
    return nn.Sequential(layers)
