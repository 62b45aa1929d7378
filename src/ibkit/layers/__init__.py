"""Bottleneck layers as ``nn.Module``s. Their information terms are in bits at the boundary."""

from ibkit.layers.dropout import GaussianDropoutBottleneck
from ibkit.layers.gate import InformationGate
from ibkit.layers.variational import PRIORS, BottleneckOutput, VariationalBottleneck

__all__ = ["PRIORS", "BottleneckOutput", "GaussianDropoutBottleneck",
    "InformationGate", "VariationalBottleneck"]
