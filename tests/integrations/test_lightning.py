"""The Lightning callbacks with a real lightning Trainer on CPU: the same plane as ibkit's."""

from __future__ import annotations

import copy

import pytest
import torch

pl = pytest.importorskip("lightning.pytorch")

from ibkit.data import load_digits  # noqa: E402
from ibkit.estimators import BinningEstimator  # noqa: E402
from ibkit.integrations.lightning import (  # noqa: E402
    GradientStatsCallback,
    InformationPlaneCallback,
)
from ibkit.models import MLP  # noqa: E402
from ibkit.plane import plane_from_checkpoints  # noqa: E402


class Module(pl.LightningModule):
    def __init__(self, n_in: int, n_classes: int) -> None:
        super().__init__()
        self.net = MLP(n_in, (10, 6), n_classes, "tanh")

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, _):
        x, y = batch
        return torch.nn.functional.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class KeepWeights(pl.Callback):
    def __init__(self) -> None:
        self.states: dict[int, dict] = {}

    def on_fit_start(self, trainer, module):
        self.states[0] = copy.deepcopy(module.net.state_dict())

    def on_train_epoch_end(self, trainer, module):
        self.states[trainer.current_epoch + 1] = copy.deepcopy(module.net.state_dict())


def test_lightning_plane_equals_ibkits_plane_on_the_same_weights(tmp_path) -> None:
    data = load_digits()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(data.train.x, data.train.y), batch_size=128)
    x, y = data.val.x, data.val.y
    plane = InformationPlaneCallback(x, y, [BinningEstimator(n_bins=30)], model_attribute="net",
                                     path=tmp_path / "plane.csv")
    grads, keep = GradientStatsCallback(tmp_path / "dynamics.csv", "net"), KeepWeights()
    trainer = pl.Trainer(max_epochs=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                         enable_checkpointing=False, callbacks=[plane, grads, keep],
                         enable_model_summary=False)
    trainer.fit(Module(data.input_dim, data.n_classes), loader)
    module = Module(data.input_dim, data.n_classes)
    ref = plane_from_checkpoints(module.net, keep.states, x, y, [BinningEstimator(n_bins=30)])
    got = plane.points
    assert [(p.epoch, p.layer) for p in got] == [(p.epoch, p.layer) for p in ref]
    assert sorted({p.epoch for p in got}) == [0, 1, 2, 3]
    assert [(p.I_XT_bits, p.I_TY_bits) for p in got] == [(p.I_XT_bits, p.I_TY_bits) for p in ref]
    assert (tmp_path / "plane.csv").read_text().count("\n") == len(got) + 1
    rows = grads.rows
    assert [r["epoch"] for r in rows] == [1] * 3 + [2] * 3 + [3] * 3
    assert all(r["batches"] == len(loader) and r["grad_mean_norm"] > 0 for r in rows)


def test_unknown_model_attribute_is_one_clear_error() -> None:
    data = load_digits()
    cb = InformationPlaneCallback(data.val.x, data.val.y, [BinningEstimator()],
                                  model_attribute="nope")
    with pytest.raises(Exception, match="'model_attribute' parameter names 'nope'"):
        cb.on_fit_start(pl.Trainer(logger=False), Module(data.input_dim, data.n_classes))
