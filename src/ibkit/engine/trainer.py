"""The one training loop of ibkit: seeds, optimizers, schedules, EMA, callbacks, checkpoints.

Every experiment trains through :class:`Trainer`. It keeps the whole data set in
memory as tensors (no DataLoader workers), shuffles each epoch with a generator
seeded by ``(seed, epoch)``, and writes, when given a run directory,
``checkpoints/last.pt`` atomically every ``checkpoint_every`` epochs and with it
``metrics.csv`` (one row per epoch). A run stopped at any point (SIGKILL included) and resumed with
``fit(resume=True)`` ends with the same metrics as an uninterrupted run on CPU.
Ctrl-C (SIGINT) and SIGTERM, what schedulers send before pre-empting a job, stop at the end of
the current batch, write a checkpoint and raise :class:`TrainingInterrupted`.

The loop is task-neutral: it averages the loss and whatever metrics the objective reports;
accuracy is added only where the objective returns class scores.
"""

from __future__ import annotations

import copy
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ibkit._config import to_dict, validate
from ibkit._ema import WeightEMA
from ibkit._errors import ConfigError, IbkitError, RunDirError
from ibkit._io import (
    CorruptFileError,
    load_checked,
    remove_orphan_temps,
    save_checked,
    write_rows_csv,
)
from ibkit.callbacks import Callback
from ibkit.data import Dataset, Split
from ibkit.data.augment import random_shift
from ibkit.engine._running import _Running
from ibkit.engine._state import (
    _numpy_state,
    _set_numpy_state,
    _threads,
    resolve_device,
    seed_everything,
)
from ibkit.engine.config import TrainConfig
from ibkit.objectives import Objective, StepOutput, as_objective, cross_entropy


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A training checkpoint (``checkpoints/last.pt``) as the dict :meth:`Trainer.state_dict`
    wrote, its SHA-256 verified and read with ``weights_only=True``.

    Raises:
        RunDirError: the file is empty, cut short or damaged (naming it).
    """
    try:
        return load_checked(Path(path))
    except CorruptFileError as e:
        raise RunDirError(f"The checkpoint {e}") from None


class TrainingInterrupted(IbkitError):
    """Raised after Ctrl-C or SIGTERM once a checkpoint is written; its message says how to
    resume. ``exit_code`` is 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM)."""

    def __init__(self, message: str, signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signum = int(signum)
        self.exit_code = 128 + self.signum


class Trainer:
    """Trains ``model`` on ``data.train`` and evaluates on ``data.val`` / ``data.test`` each epoch.

    Args:
        model: any ``nn.Module``; moved to the configured device.
        data: a :class:`ibkit.data.Dataset`.
        config: a :class:`TrainConfig`.
        objective: the loss, :func:`cross_entropy` by default.
        callbacks: hooks called in order.
        run_dir: where ``checkpoints/`` and ``metrics.csv`` go; None keeps all in memory.

    The test split is evaluated and recorded but never used to choose anything.
    """

    def __init__(
        self,
        model: nn.Module,
        data: Dataset,
        config: TrainConfig,
        objective: Objective | Callable[..., StepOutput] = cross_entropy,
        callbacks: Sequence[Callback] = (),
        run_dir: str | Path | None = None,
    ) -> None:
        validate(config)
        self.config = config
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.data = data
        self.objective = as_objective(objective)
        self.callbacks = _check_state_keys(callbacks)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.optimizer = self._make_optimizer()
        self.scheduler = self._make_scheduler()
        self.ema = WeightEMA(self.model, config.ema_decay) if config.ema_decay > 0 else None
        self._eval_model = copy.deepcopy(self.model) if self.ema else self.model
        self.history: list[dict[str, float]] = []
        self.epoch_seconds: list[float] = []
        self._train = self._to_device(data.train)
        if config.augment_shift and self._train.x.dim() != 4:
            raise ConfigError(f"The 'augment_shift' parameter of TrainConfig must be 0 for "
                              f"inputs that are not images (n, channels, height, width); "
                              f"{data.name}'s have shape {tuple(data.train.x.shape)}. "
                              f"Got {config.augment_shift} instead.")
        self._stop_requested = False

    # ----------------------------------------------------------------- set-up
    def _make_optimizer(self) -> torch.optim.Optimizer:
        """Adam or SGD over the trainable parameters, or over the objective's
        ``param_groups(model)`` where it gives them (for example a separate learning rate for
        gates), the first one holding the network's weights."""
        c = self.config
        groups = self.objective.param_groups(self.model)
        params = ([p for p in self.model.parameters() if p.requires_grad] if groups is None
                  else list(groups))
        if c.optimizer == "adam":
            # the fused kernel is 20-40 % faster per step on CPU and GPU, same update rule
            return torch.optim.Adam(params, lr=c.lr, betas=(c.betas[0], c.betas[1]),
                                    weight_decay=c.weight_decay, fused=True)
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)

    def _make_scheduler(self) -> torch.optim.lr_scheduler.LRScheduler:
        """Per-epoch learning-rate schedule: step decay or cosine annealing to 0 at the end."""
        c = self.config
        if c.lr_schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=c.epochs)
        return torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=c.lr_decay_every,
                                               gamma=c.lr_decay)

    def _to_device(self, split: Split) -> Split:
        return Split(split.x.to(self.device), split.y.to(self.device))

    @property
    def checkpoint_path(self) -> Path | None:
        """``run_dir/checkpoints/last.pt``, or None without a run directory."""
        return None if self.run_dir is None else self.run_dir / "checkpoints" / "last.pt"

    @property
    def eval_model(self) -> nn.Module:
        """The model evaluation uses: the EMA weights when averaging is on."""
        if self.ema is not None:
            self.ema.copy_to(self._eval_model, self.model)
        return self._eval_model

    # --------------------------------------------------------------- training
    def _batches(self, epoch: int) -> list[torch.Tensor]:
        n, bs = len(self._train), self.config.batch_size or len(self._train)
        g = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        perm = torch.randperm(n, generator=g).to(self.device)
        return list(perm.split(bs))

    def _batch_generator(self, epoch: int, batch: int) -> torch.Generator:
        """A generator for one batch's augmentation: fixed by seed, epoch and batch, so a run
        resumed mid-epoch draws the same offsets as an uninterrupted one."""
        return torch.Generator().manual_seed((self.config.seed * 1_000_003 + epoch) * 100_003
                                             + batch + 1)

    def _train_epoch(self, epoch: int, start_batch: int, running: _Running) -> _Running:
        self.model.train()
        self.objective.on_epoch_start(epoch)
        batches = self._batches(epoch)
        bar = self._bar(len(batches), start_batch, epoch)
        for b in range(start_batch, len(batches)):
            idx = batches[b]
            x, y = self._train.x[idx], self._train.y[idx]
            if self.config.augment_shift:
                x = random_shift(x, self.config.augment_shift, self._batch_generator(epoch, b))
            out = self.objective(self.model, x, y)
            self.optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            self.optimizer.step()
            if self.ema is not None:
                self.ema.update()
            running.add(out, y)
            for cb in self.callbacks:
                cb.on_batch_end(self, b, out)
            if bar is not None and (b % 20 == 0 or b == len(batches) - 1):
                bar.set_postfix(_shown(running.means()), refresh=False)
                bar.update(b + 1 - bar.n)
            if self._stop_requested:
                if bar is not None:
                    bar.close()
                self._interrupt(epoch, b + 1, running)
        if bar is not None:
            bar.close()
        return running

    def _bar(self, total: int, start: int, epoch: int) -> Any:
        if not (self.config.progress and sys.stderr.isatty()):
            return None
        return tqdm(total=total, initial=start, leave=False, desc=f"epoch {epoch + 1}")

    @torch.no_grad()
    def evaluate(self, split: Split, model: nn.Module | None = None) -> dict[str, float]:
        """Sample-weighted mean loss, accuracy and objective metrics of ``model`` on ``split``."""
        model = self.eval_model if model is None else model
        model.eval()
        running, bs = _Running(), self.config.eval_batch_size
        for i in range(0, len(split), bs):
            x = split.x[i : i + bs].to(self.device)
            y = split.y[i : i + bs].to(self.device)
            running.add(self.objective(model, x, y), y)
        return running.means()

    def _epoch_row(self, epoch: int, train: _Running, lr: float) -> dict[str, float]:
        row: dict[str, float] = {"epoch": epoch + 1, "lr": lr}
        row.update({f"train_{k}": v for k, v in train.means().items()})
        model = self.eval_model
        for name in ("val", "test"):
            split = getattr(self.data, name)
            if split is not None:
                row.update({f"{name}_{k}": v for k, v in self.evaluate(split, model).items()})
        return row

    def fit(self, resume: bool = False) -> list[dict[str, float]]:
        """Train for ``config.epochs`` epochs; with ``resume``, continue from the checkpoint.

        Returns:
            The per-epoch metric rows (also in ``metrics.csv``).
        """
        start_epoch, start_batch, running = 0, 0, _Running()
        if resume:
            start_epoch, start_batch, running = self._restore()
        else:
            seed_everything(self.config.seed)
        for cb in self.callbacks:
            cb.on_train_start(self)
        if self.config.batch_size == 0 and self.config.progress:
            tqdm.write(f"batch_size=0: full-batch gradient descent, all {len(self._train)} "
                       "training examples in every step")
        with self._sigint_guard(), _threads(self.config.threads):
            for epoch in range(start_epoch, self.config.epochs):
                t0 = time.perf_counter()
                lr = self.optimizer.param_groups[0]["lr"]
                running = self._train_epoch(epoch, start_batch, running)
                row = self._epoch_row(epoch, running, lr)
                self.scheduler.step()
                for cb in self.callbacks:
                    cb.on_epoch_end(self, epoch + 1, row)
                self.history.append(row)
                self.epoch_seconds.append(time.perf_counter() - t0)
                last = epoch + 1 == self.config.epochs
                if (epoch + 1) % self.config.checkpoint_every == 0 or last:
                    self.save_checkpoint(epoch + 1, 0, _Running())
                self._log(row)
                start_batch, running = 0, _Running()
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def _log(self, row: dict[str, float]) -> None:
        epoch, total = int(row["epoch"]), self.config.epochs
        if not self.config.progress or (total > 100 and epoch % (total // 100) and epoch != total):
            return  # long runs log 100 lines
        shown = [f"{k} {row[k]:.4f}" for k in _logged(row)]
        tqdm.write(f"epoch {int(row['epoch'])}/{self.config.epochs}  " + "  ".join(shown)
                   + f"  ({self.epoch_seconds[-1]:.1f} s)", file=sys.stderr)

    # ------------------------------------------------------ checkpoints & csv
    def state_dict(self, epoch: int, batch: int, running: _Running) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimizer, schedule, EMA, RNG, history."""
        return {
            "epoch": epoch, "batch": batch, "running": running.state_dict(),
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "ema": self.ema.state_dict() if self.ema else None,
            "rng": {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
                    "numpy": _numpy_state()},
            "history": self.history, "epoch_seconds": self.epoch_seconds,
            "callbacks": {cb.state_key: cb.state_dict() for cb in self.callbacks},
            "config": to_dict(self.config),
        }

    def save_checkpoint(self, epoch: int, batch: int, running: _Running) -> None:
        """Write ``checkpoints/last.pt`` atomically, then ``metrics.csv`` up to the same epoch
        (no-op without a run directory)."""
        if self.checkpoint_path is not None:
            save_checked(self.state_dict(epoch, batch, running), self.checkpoint_path)
            self._write_metrics()

    def _restore(self) -> tuple[int, int, _Running]:
        path = self.checkpoint_path
        if path is None or not path.is_file():
            raise RunDirError(f"Cannot resume: no checkpoint at '{path}'.")
        remove_orphan_temps(path.parent)
        try:
            s = load_checked(path)
        except CorruptFileError as e:
            raise RunDirError(f"Cannot resume: the checkpoint {e} Restore it, or pass --restart "
                              "to begin the run again.") from None
        if _training_math(s.get("config")) not in (None, _training_math(to_dict(self.config))):
            raise RunDirError(f"Cannot resume: the checkpoint '{path}' belongs to another "
                              "training config than this run's config.yaml; pass --restart to "
                              "begin the run again.")
        self.model.load_state_dict(s["model"])
        self.optimizer.load_state_dict(s["optimizer"])
        self.scheduler.load_state_dict(s["scheduler"])
        if self.ema is not None and s["ema"] is not None:
            self.ema.load_state_dict(s["ema"])
        torch.set_rng_state(s["rng"]["torch"])
        random.setstate((3, tuple(s["rng"]["python"]), None))
        _set_numpy_state(s["rng"]["numpy"])
        self.history, self.epoch_seconds = list(s["history"]), list(s["epoch_seconds"])
        states = s["callbacks"]
        for cb in self.callbacks:
            key = cb.state_key if cb.state_key in states else type(cb).__name__  # older files
            if key in states:
                cb.load_state_dict(states[key])
        self._write_metrics()
        return int(s["epoch"]), int(s["batch"]), _Running(s["running"])

    def _write_metrics(self) -> None:
        if self.run_dir is not None:
            write_rows_csv(self.run_dir / "metrics.csv", self.history)

    # -------------------------------------------------------------- Ctrl-C, SIGTERM
    @contextmanager
    def _sigint_guard(self) -> Iterator[None]:
        """Turn the first Ctrl-C or SIGTERM into a stop at the next batch end; a second one is
        immediate."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested, self._stop_signal = True, signum

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
            self._stop_requested = False

    def _interrupt(self, epoch: int, batch: int, running: _Running) -> None:
        self.save_checkpoint(epoch, batch, running)
        where = f"'{self.checkpoint_path}'" if self.checkpoint_path else "nowhere (no run directory)"
        signum = getattr(self, "_stop_signal", signal.SIGINT)
        name = "SIGTERM" if signum == signal.SIGTERM else "Interrupted"
        raise TrainingInterrupted(
            f"{name} in epoch {epoch + 1} after batch {batch}; checkpoint written to {where}. "
            "Continue with --resume.", signum
        )


_NOT_MATH = ("epochs", "device", "progress", "threads", "eval_batch_size", "checkpoint_every")


def _training_math(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """The settings of a train config that change the numbers (not where or how loudly, and
    not ``epochs``: a run may be resumed to train longer)."""
    return None if config is None else {k: v for k, v in config.items() if k not in _NOT_MATH}


def _check_state_keys(callbacks: Sequence[Callback]) -> list[Callback]:
    """The callbacks as a list; ConfigError when two share a ``state_key`` (their states would
    overwrite each other in checkpoints)."""
    keys = [cb.state_key for cb in callbacks]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ConfigError(f"The 'callbacks' parameter of Trainer holds callbacks with the same "
                          f"state_key {repeated}: give each its own (for example its own file).")
    return list(callbacks)


def _shown(means: dict[str, float]) -> dict[str, str]:
    """The progress bar's entries: the loss, and the accuracy or else the objective's metrics."""
    keys = ["loss", "acc"] if "acc" in means else list(means)[:4]
    return {k: f"{means[k]:.4f}" for k in keys if k in means}


def _logged(row: dict[str, float]) -> list[str]:
    """The columns of an epoch's log line: the training loss and the accuracies, or for an
    objective without class scores the validation values of its first metrics."""
    if "train_acc" in row:
        return [k for k in ("train_loss", "train_acc", "val_acc", "test_acc") if k in row]
    return ["train_loss"] + [k for k in row if k.startswith("val_")][:3]
