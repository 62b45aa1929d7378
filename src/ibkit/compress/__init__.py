"""Compression with information gates (VIBNet, Dai et al. 2018).

Gate a model (:func:`add_gates`), train it with :class:`VIBNetObjective` (objective (*)),
prune units with ln alpha below a threshold (:func:`prune_gates`, by way of
``torch.nn.utils.prune``), export a smaller dense model (:func:`export_pruned`) and count
what was kept (:func:`compression_report`). alpha = mu^2 / sigma^2 everywhere (the paper's
convention; small alpha = little information = pruned).
"""

from ibkit.compress.export import export_pruned, load_exported, save_exported
from ibkit.compress.gating import INPUT, VIBNetObjective, add_gates, gate_name, gates
from ibkit.compress.modules import Scale, Select
from ibkit.compress.prune import prune_gates
from ibkit.compress.report import (
    CompressionReport,
    compression_report,
    count_flops,
    count_weights,
    lenet300_ratios,
)
from ibkit.compress.trace import TRACE_COLUMNS, GateTrace, gate_rows

__all__ = [
    "TRACE_COLUMNS",
    "GateTrace",
    "gate_rows",
    "INPUT",
    "CompressionReport",
    "Scale",
    "Select",
    "VIBNetObjective",
    "add_gates",
    "compression_report",
    "count_flops",
    "count_weights",
    "export_pruned",
    "gate_name",
    "gates",
    "lenet300_ratios",
    "load_exported",
    "prune_gates",
    "save_exported",
]
