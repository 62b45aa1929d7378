"""Data from a teacher VAE, for the teacher-student bound (Herwana & Kadian, section 4).

Two modes:

- ``reconstruct`` (the paper's): every image x of a source data set is replaced by the
  teacher's reconstruction, the decoder's mean at the encoder's mean; labels are kept. The
  teacher-student bound is then an **approximation**: the images' latents follow the teacher's
  aggregate posterior, not the N(0, I) that the bound's KL assumes.
- ``exact``: z_v ~ N(0, I), x ~ p(x | z_v), and the label is a function of z_v alone (the
  class that a softmax regression on the encoder's means of the source's training images gives
  z_v). The data really are p(z_v) p(x | z_v), so equation 5 is a **true upper bound**.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from torch import nn
from torch.distributions import Distribution

from ibkit._errors import param_error
from ibkit.data._types import Dataset, Split

MODES = ("reconstruct", "exact")


class TeacherVAE(Protocol):
    """What a teacher offers: ``latent_dim``, ``encode(x) -> q(z_v|x)``, ``decode(z_v) -> p(x|z_v)``
    (as :class:`ibkit.models.VAE` does)."""

    latent_dim: int

    def encode(self, x: torch.Tensor) -> Distribution: ...  # noqa: D102

    def decode(self, z_v: torch.Tensor) -> Distribution: ...  # noqa: D102


@torch.no_grad()
def _batched(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
             batch: int = 2000) -> torch.Tensor:
    return torch.cat([fn(x[i : i + batch]) for i in range(0, len(x), batch)])


def fit_latent_labeller(teacher: TeacherVAE, split: Split, n_classes: int, steps: int = 500,
                        seed: int = 0) -> nn.Linear:
    """A softmax regression from z_v (the encoder's means of ``split``) to its labels."""
    z = _batched(lambda b: teacher.encode(b).mean, split.x)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = nn.Linear(z.shape[1], n_classes).to(z.dtype)
        opt = torch.optim.Adam(head.parameters(), lr=0.05)
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(head(z), split.y).backward()
            opt.step()
    return head


def _exact_split(teacher: TeacherVAE, head: nn.Linear, n: int, g: torch.Generator) -> Split:
    param = next(head.parameters())
    z_v = torch.randn(n, teacher.latent_dim, generator=g).to(param)
    with torch.no_grad():
        labels = head(z_v).argmax(1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(2**31, (1,), generator=g)))
            x = _batched(lambda b: teacher.decode(b).sample(), z_v)
    return Split(x.float(), labels.long())


def teacher_dataset(teacher: TeacherVAE, source: Dataset, mode: str = "exact",
                    seed: int = 0) -> Dataset:
    """``source`` remade by ``teacher`` (see the module docstring for the two modes).

    In ``exact`` mode each split gets as many fresh samples as it had; ``notes["teacher_mode"]``
    records the mode and whether the bound is exact. The teacher must be in evaluation mode.
    """
    if mode not in MODES:
        raise param_error("mode", "teacher_dataset", f"one of {MODES}", mode)
    splits = {"train": source.train, "val": source.val, "test": source.test}
    if mode == "reconstruct":
        def remake(s: Split) -> Split:
            x = _batched(lambda b: teacher.decode(teacher.encode(b).mean).mean, s.x)
            return Split(x.float(), s.y)
        note = "reconstruct: images through the teacher, labels kept (the bound is approximate)"
    else:
        head = fit_latent_labeller(teacher, source.train, source.n_classes, seed=seed)
        g = torch.Generator().manual_seed(seed)

        def remake(s: Split) -> Split:
            return _exact_split(teacher, head, len(s), g)
        note = "exact: z_v ~ N(0, I), x ~ p(x|z_v), label of z_v (the bound is a true bound)"
    new = {k: None if s is None else remake(s) for k, s in splits.items()}
    assert new["train"] is not None
    return Dataset(f"{source.name}-teacher-{mode}", new["train"], new["val"], new["test"],
                   source.n_classes, {**source.notes, "teacher_mode": note})
