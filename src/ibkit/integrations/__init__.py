"""ibkit in other tools' loops and viewers.

- :mod:`ibkit.integrations.tensorboard` (extra ``ibkit[tensorboard]``):
  :class:`TensorBoardCallback` for the engine (metrics, plane points, gate counts) and
  :func:`log_figures`; an engine run writes ``RUN_DIR/tensorboard`` with
  ``--set log.tensorboard=true``.
- :mod:`ibkit.integrations.lightning` (extra ``ibkit[lightning]``), imported by name:
  ``InformationPlaneCallback`` and ``GradientStatsCallback`` for a Lightning ``Trainer``.

The libraries themselves are imported only when used, so this package imports without them.
"""

from ibkit.integrations.tensorboard import (
    TensorBoardCallback,
    gate_counts,
    log_figures,
    plane_scalars,
    summary_writer,
)

__all__ = ["TensorBoardCallback", "gate_counts", "log_figures", "plane_scalars", "summary_writer"]
