"""The experiment families, one module each; importing this package registers their recipes,
models and presets (see :mod:`ibkit.experiments.registry`). A new family is one new module
and one line here."""

from ibkit.experiments.families import (
    autoencoder,
    classification,
    compression,
    demo,
    hybrid_vae,
    plane,
    robustness,
    teacher_student,
    vae,
    vib,
)

__all__ = ["autoencoder", "classification", "compression", "demo", "hybrid_vae", "plane", "robustness",
           "teacher_student", "vae", "vib"]
