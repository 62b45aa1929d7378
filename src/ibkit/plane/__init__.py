"""The information plane: I(X;T) and I(T;Y) per layer per epoch, training dynamics, the IB curve.

- :class:`InformationPlane`: any model, any estimator, during training (engine callback or
  ``update``/``compute`` in one's own loop) or afterwards (:func:`plane_from_checkpoints`).
- :class:`GradientStats`: gradient mean, standard deviation and their ratio per layer per
  epoch (drift and diffusion), and weight norms.
- :func:`ib_curve`: the optimal IB curve of a known p(x, y) (iterative IB with annealing).
- :func:`peak_epochs`, :func:`partition_cells`, :func:`compression_bound`: analyses.

All information values are in bits.
"""

from ibkit.plane.analysis import compression_bound, homogeneity, partition_cells, peak_epochs
from ibkit.plane.dynamics import GradientStats, weight_layers
from ibkit.plane.estimation import PlanePoint, layer_points
from ibkit.plane.hooks import OUTPUT, capture, default_layers, record_activations
from ibkit.plane.optimal import IBCurve, bsc_curve_bits, ib_curve, joint_from_labels
from ibkit.plane.schedule import epoch_schedule
from ibkit.plane.tracker import InformationPlane, plane_from_checkpoints, read_points

__all__ = [
    "OUTPUT",
    "GradientStats",
    "IBCurve",
    "InformationPlane",
    "PlanePoint",
    "bsc_curve_bits",
    "capture",
    "compression_bound",
    "default_layers",
    "epoch_schedule",
    "homogeneity",
    "ib_curve",
    "joint_from_labels",
    "layer_points",
    "partition_cells",
    "peak_epochs",
    "plane_from_checkpoints",
    "read_points",
    "record_activations",
    "weight_layers",
]
