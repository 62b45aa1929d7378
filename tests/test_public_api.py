"""The public names of each sub-package are pinned: removing one is a breaking change."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "ibkit": ["IbkitError", "__version__"],
    "ibkit.data": ["DATASETS", "Dataset", "Split", "load_boolean_4bit", "load_cifar10",
                   "load_dataset", "load_digits", "load_fashion_mnist", "load_mnist",
                   "load_tishby_12bit", "twelve_bit_task", "with_random_labels"],
    "ibkit.experiments": ["PRESETS", "Expected", "Preset", "RunDirectory", "resolve_config",
                          "run"],
    "ibkit.report": ["format_summary", "render_figures", "read_metrics", "plot_ib_tradeoff",
                     "plot_embedding", "render_sweep_figures", "plane_figure", "plot_dynamics",
                     "plot_units_kept"],
    "ibkit.layers": ["VariationalBottleneck", "GaussianDropoutBottleneck", "BottleneckOutput",
                     "InformationGate"],
    "ibkit.models": ["MLP", "VIBClassifier", "DeterministicClassifier", "lenet5_caffe",
                     "vgg16_cifar"],
    "ibkit.plane": ["InformationPlane", "GradientStats", "PlanePoint", "plane_from_checkpoints",
                    "ib_curve", "epoch_schedule", "peak_epochs", "compression_bound"],
    "ibkit.compress": ["add_gates", "VIBNetObjective", "prune_gates", "export_pruned",
                       "compression_report", "load_exported", "save_exported"],
    "ibkit.estimators": ["Estimate", "MIEstimator", "BinningEstimator", "KDEEstimator",
                         "KSGEstimator", "MixedKNNEstimator", "GaussianEstimator",
                         "DiscreteEstimator", "NeuralEstimator", "VariationalBounds",
                         "mutual_information", "kde_bounds_nats"],
}


@pytest.mark.parametrize("module", PUBLIC)
def test_public_names(module):
    mod = importlib.import_module(module)
    exported = set(getattr(mod, "__all__", dir(mod)))
    assert set(PUBLIC[module]) <= exported
    for name in exported:
        assert getattr(mod, name) is not None


def test_engine_names():
    from ibkit import engine

    for name in ("Trainer", "TrainConfig", "Callback", "StepOutput", "cross_entropy"):
        assert hasattr(engine, name)
