"""The one training loop of ibkit (:class:`Trainer`) and its config.

The contracts it calls are defined apart from it: the objective protocol and step output in
:mod:`ibkit.objectives`, the callback base in :mod:`ibkit.callbacks` (both re-exported here).
"""

from ibkit.callbacks import Callback
from ibkit.engine._state import resolve_device, seed_everything
from ibkit.engine.config import TrainConfig
from ibkit.engine.trainer import Trainer, TrainingInterrupted, load_checkpoint
from ibkit.objectives import Objective, StepOutput, cross_entropy

__all__ = [
    "Callback",
    "Objective",
    "StepOutput",
    "TrainConfig",
    "Trainer",
    "TrainingInterrupted",
    "cross_entropy",
    "load_checkpoint",
    "resolve_device",
    "seed_everything",
]
