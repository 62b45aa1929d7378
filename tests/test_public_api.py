"""The public names of each sub-package are pinned exactly: adding or removing one is a
deliberate change of the API, made here too."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "ibkit": [
        "IbkitError", "__version__",
    ],
    "ibkit.callbacks": [
        "Callback",
    ],
    "ibkit.compress": [
        "CompressionReport", "INPUT", "Scale", "Select", "VIBNetObjective", "add_gates",
        "compression_report", "count_flops", "count_weights", "export_pruned", "gate_name", "gates",
        "lenet300_ratios", "load_exported", "prune_gates", "save_exported", "GateTrace",
        "TRACE_COLUMNS", "gate_rows",
    ],
    "ibkit.data": [
        "BOOLEAN_RULES", "DATASETS", "Dataset", "RemoteFile", "Split", "all_bit_patterns",
        "boolean_patterns_and_rule", "cache_root", "candidate_dirs", "generated_12bit_labels",
        "load_boolean_4bit", "load_cifar10", "load_cifar100", "read_cifar100_binary",
        "load_dataset", "load_digits", "load_fashion_mnist",
        "load_mnist", "load_tishby_12bit", "locate", "random_shift", "read_cifar10_binary",
        "read_idx", "scale_pixels", "split_off", "train_val_test", "twelve_bit_task", "verify",
        "with_random_labels", "fit_latent_labeller", "teacher_dataset", "binarized", "subset",
    ],
    "ibkit.engine": [
        "Callback", "Objective", "StepOutput", "TrainConfig", "Trainer", "TrainingInterrupted",
        "cross_entropy", "resolve_device", "seed_everything", "load_checkpoint",
    ],
    "ibkit.estimators": [
        "BinningEstimator", "DiscreteEstimator", "ESTIMATORS", "Estimate", "GaussianEstimator",
        "KDEEstimator", "KINDS", "KSGEstimator", "LayerInformation", "MIEstimator", "MixedKNNEstimator",
        "NeuralEstimator", "VariationalBounds", "discrete_mi_bits", "entropy_bits",
        "InferenceNetwork", "LinearGaussianTeacherStudent", "TeacherStudentBound",
        "gaussian_mi_bits", "kde_bounds_nats", "make_estimator", "mutual_information",
        "plugin_mi_bits", "AutoEstimator", "GaussianCopulaEstimator",
        "gaussian_mi_stderr_bits", "plugin_mi_stderr_bits",
    ],
    "ibkit.experiments": [
        "DataConfig", "Expected", "ExperimentConfig", "ModelConfig", "PRESETS", "Preset", "RECIPES",
        "Recipe", "RunContext", "RunDirectory", "build_model", "families", "get_preset",
        "register_model", "register_presets", "register_recipe", "resolve_config", "run",
        "SWEEP_PRESETS", "SweepPreset", "register_sweep_presets",
    ],
    "ibkit.experiments.sweep": [
        "BACKENDS", "DaskBackend", "LocalBackend", "PointTask", "SEED_KEY", "SlurmBackend",
        "SweepBackend", "SweepProgress", "collect", "execute", "make_backend", "parse_values",
        "point_name", "point_status", "resolve_key", "run_point", "run_sweep", "summarize",
        "sweep_points", "base_preset",
    ],
    "ibkit.robustness": [
        "LOSSES", "MODES", "NORMS", "AttackConfig", "Predictive", "RobustnessResult",
        "attack_loss", "carlini_wagner_l2", "check_attack", "evaluate_robustness", "fgsm",
        "foolbox_pgd_linf", "pgd", "sanity_checks", "square_linf",
    ],
    "ibkit.layers": [
        "BottleneckOutput", "GaussianDropoutBottleneck", "InformationGate", "PRIORS",
        "VariationalBottleneck",
    ],
    "ibkit.models": [
        "ACTIVATIONS", "Autoencoder", "DeterministicClassifier", "EVAL_MODES", "MLP",
        "VIBClassifier", "VIBOutput", "encoder_mlp", "lenet5_caffe", "make_activation",
        "vgg16_cifar", "VAE", "VAEOutput", "BOTTLENECKS", "PIXEL_LIKELIHOODS", "HybridVAE",
        "HybridVAEOutput", "MaskedConv2d", "PixelCNN", "causal_mask", "diagonal_gaussian",
        "discretized_logistic_nll_nats", "make_encoder", "pixel_nll_nats",
        "standard_normal_kl_nats", "CEBClassifier",
    ],
    "ibkit.objectives": [
        "BetaSchedule", "CrossEntropy", "FunctionObjective", "Objective", "ReconstructionBits",
        "StepOutput", "VIBLoss", "VIBObjective", "accuracy", "as_objective", "check_beta",
        "cross_entropy", "error_pct", "label_entropy_bits", "vib_loss", "ELBOBits",
        "HybridELBOBits", "CEBObjective", "VIB_CONTRACT", "check_vib_output",
    ],
    "ibkit.plane": [
        "GradientStats", "IBCurve", "InformationPlane", "OUTPUT", "PlanePoint", "bsc_curve_bits",
        "capture", "compression_bound", "default_layers", "epoch_schedule", "homogeneity",
        "ib_curve", "joint_from_labels", "layer_points", "partition_cells", "peak_epochs",
        "plane_from_checkpoints", "read_points", "record_activations", "weight_layers",
    ],
    "ibkit.report": [
        "format_summary", "learning_curves_figure", "plane_figure", "plot_bounds", "plot_dynamics",
        "plot_embedding", "plot_error_vs_beta", "plot_ib_tradeoff", "plot_metric",
        "plot_partitions", "plot_plane", "plot_units_kept", "read_metrics", "read_summary",
        "read_table", "render_compression_figure", "render_embedding", "render_figures",
        "render_plane_figures", "render_sweep_figures", "compare_tradeoffs", "plot_elbo_vs_kl",
        "render_hybrid_sweep", "samples_grid_figure", "render_robustness_figures",
        "robustness_figure", "compression_mi_figure", "html_report", "plane_svg", "sweep_html_report",
    ],
}


@pytest.mark.parametrize("module", PUBLIC)
def test_public_names_are_exactly_the_pinned_ones(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(PUBLIC[module])
    assert len(set(mod.__all__)) == len(mod.__all__)
    for name in mod.__all__:
        assert getattr(mod, name) is not None
