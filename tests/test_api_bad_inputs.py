"""The Python API's catalogue of bad inputs: each is refused with an IbkitError whose message
is one line naming the input, the value and what is allowed, before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from ibkit import IbkitError
from ibkit.compress import VIBNetObjective, add_gates, prune_gates
from ibkit.data import load_dataset
from ibkit.estimators import (
    BinningEstimator,
    GaussianCopulaEstimator,
    KSGEstimator,
    NeuralEstimator,
    mutual_information,
)
from ibkit.experiments import resolve_config, run
from ibkit.experiments.reproduce import reproduce
from ibkit.experiments.sweep import run_sweep
from ibkit.models import MLP
from ibkit.plane import InformationPlane
from ibkit.report import html_report


def _mlp() -> torch.nn.Module:
    return MLP(8, (6,), 2, "relu")


CASES: list[tuple[str, Callable[[Path], object], str]] = [
    ("unknown preset", lambda d: resolve_config("no-such"), "no-such"),
    ("bad override key", lambda d: resolve_config("digits-mlp", ["train.lrr=1"]), "lrr"),
    ("bad override value", lambda d: resolve_config("digits-mlp", ["train.lr=-1"]), "lr"),
    ("unknown data set", lambda d: load_dataset("cifar1000"), "cifar1000"),
    ("unknown sweep value", lambda d: run_sweep("vib-digits", ["beta=logspace(-4,0)"], d),
     "logspace"),
    ("reproduce without presets", lambda d: reproduce([], d), "at least one preset"),
    ("reproduce unknown preset", lambda d: reproduce(["nope"], d), "nope"),
    ("reproduce no seeds", lambda d: reproduce(["digits-mlp"], d, seeds=0), "'seeds'"),
    ("report of an empty folder", lambda d: html_report(d), "holds no run"),
    ("estimator method", lambda d: mutual_information([0, 1], [0, 1], "nonsense"), "nonsense"),
    ("estimator parameter", lambda d: BinningEstimator(n_bins=1).estimate(
        np.zeros((10, 1)), np.zeros(10, dtype=np.int64)), "n_bins"),
    ("NaN input", lambda d: KSGEstimator().estimate(np.full((10, 1), np.nan),
                                                    np.zeros((10, 1))), "x"),
    ("copula bootstrap", lambda d: GaussianCopulaEstimator(bootstrap=-2).estimate(
        np.random.default_rng(0).standard_normal((20, 1)),
        np.random.default_rng(1).standard_normal((20, 1))), "bootstrap"),
    ("neural tau", lambda d: NeuralEstimator(tau=0).estimate(
        np.zeros((30, 1)), np.zeros((30, 1))), "tau"),
    ("plane estimator", lambda d: InformationPlane(_mlp(), torch.zeros(4, 8),
                                                   torch.zeros(4, dtype=torch.long),
                                                   [KSGEstimator()]), "estimators"),
    ("plane layer", lambda d: InformationPlane(_mlp(), torch.zeros(4, 8),
                                               torch.zeros(4, dtype=torch.long),
                                               [BinningEstimator()], layers=["act9"]), "act9"),
    ("gate name", lambda d: add_gates(_mlp(), ["act9"], torch.zeros(2, 8)), "act9"),
    ("gamma typo", lambda d: VIBNetObjective({"act1": 1.0}, 10).check_model(
        add_gates(_mlp(), ["act1"], torch.zeros(2, 8))), "act1"),
    ("negative gamma", lambda d: VIBNetObjective(-1.0, 10), "gamma"),
    ("prune an ungated model", lambda d: prune_gates(_mlp()), "no InformationGate"),
    ("run with a bad config", lambda d: run(resolve_config("digits-mlp", ["data.name=mnist",
                                                                          "data.train_size=-5"]),
                                            d / "r"), "train_size"),
]


@pytest.mark.parametrize(("what", "call", "names"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_it(what, call, names, tmp_path):
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(IbkitError) as caught:
        call(tmp_path)
    message = str(caught.value)
    assert "\n" not in message.strip(), message
    assert names in message, message
    assert sorted(tmp_path.rglob("*")) == before  # nothing written
