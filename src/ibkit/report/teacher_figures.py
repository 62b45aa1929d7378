"""Figures of the teacher-student runs (Herwana & Kadian Figs. 4-7) from ``teacher_bounds.csv``
and ``metrics.csv``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from ibkit.report._axes import read_table as _read


def bounds_figure(rows: list[dict[str, Any]]) -> Figure:
    """I(X;Z) per epoch: the teacher-student bound (with its standard error), the direct VIB
    bound, KDE (upper) and binning of the student's means (Fig. 4)."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    epoch = [r["epoch"] for r in rows]
    ts = [r["ts_bits"] for r in rows]
    se = [r["ts_stderr_bits"] for r in rows]
    ax.plot(epoch, ts, "o-", ms=3, label="teacher-student (eq. 5)")
    ax.fill_between(epoch, [a - 2 * b for a, b in zip(ts, se, strict=True)],
                    [a + 2 * b for a, b in zip(ts, se, strict=True)], alpha=0.2)
    for key, style, label in (("direct_bits", "s-", "direct: E KL[p(z|x) || N(0, I)]"),
                              ("kde_upper_bits", "--", "KDE upper, student's means"),
                              ("binning_bits", ":", "binning, student's means")):
        ax.plot(epoch, [r[key] for r in rows], style, ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("I(X;Z) (bits)")
    ax.set_title("two upper bounds on I(X;Z) over training", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    return fig


def plane_figure(rows: list[dict[str, Any]], metrics: list[dict[str, Any]]) -> Figure:
    """The information plane: the minimum of both bounds against the I(Z;Y) lower bound of the
    validation split, coloured by epoch (Fig. 5)."""
    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.add_subplot()
    izy = {m["epoch"]: m.get("val_izy_lower_bits", float("nan")) for m in metrics}
    x = [r["min_bits"] for r in rows]
    y = [izy.get(r["epoch"], float("nan")) for r in rows]
    ax.plot(x, y, "-", color="0.7", zorder=1)
    art = ax.scatter(x, y, c=[r["epoch"] for r in rows], cmap="viridis", zorder=2)
    fig.colorbar(art, ax=ax, label="epoch")
    ax.set_xlabel("I(X;Z): min(teacher-student, direct) (bits)")
    ax.set_ylabel("I(Z;Y) lower bound (bits)")
    ax.set_title("information plane of the student", fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def dynamics_figure(rows: list[dict[str, Any]]) -> Figure:
    """Mean log-determinant of the encoder covariance and the KL term's gradient norm per
    epoch (Figs. 6-7)."""
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    a, b = fig.subplots(1, 2)
    epoch = [r["epoch"] for r in rows]
    a.plot(epoch, [r["logdet_cov_mean"] for r in rows], "o-", ms=3)
    a.set_xlabel("epoch")
    a.set_ylabel("mean log det Cov[z|x] (nats)")
    b.plot(epoch, [r["kl_grad_norm"] for r in rows], "o-", ms=3, color="C3")
    b.set_xlabel("epoch")
    b.set_ylabel("||grad of mean KL||")
    for ax in (a, b):
        ax.grid(alpha=0.3)
    return fig


def render_teacher_figures(run_dir: str | Path) -> list[Path]:
    """``figures/izx_bounds.png``, ``teacher_plane.png`` and ``encoder_dynamics.png`` of a
    teacher-student run (nothing for other runs)."""
    run_dir = Path(run_dir)
    path = run_dir / "teacher_bounds.csv"
    if not path.is_file():
        return []
    rows = _read(path)
    if not rows:
        return []
    metrics = _read(run_dir / "metrics.csv")
    out = []
    for name, fig in (("izx_bounds.png", bounds_figure(rows)),
                      ("teacher_plane.png", plane_figure(rows, metrics)),
                      ("encoder_dynamics.png", dynamics_figure(rows))):
        fig.savefig(run_dir / "figures" / name, dpi=120)
        out.append(run_dir / "figures" / name)
    return out


def planes_figure(runs: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]]) -> Figure:
    """Information-plane trajectories of several teacher-student runs (Fig. 5): for each
    ``(label, bounds rows, metrics rows)``, the minimum of both I(X;Z) bounds against the
    validation I(Z;Y) lower bound, epoch by epoch, the first epoch marked by a circle."""
    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for i, (label, rows, metrics) in enumerate(runs):
        izy = {m["epoch"]: m.get("val_izy_lower_bits", float("nan")) for m in metrics}
        x = [r["min_bits"] for r in rows]
        y = [izy.get(r["epoch"], float("nan")) for r in rows]
        line, = ax.plot(x, y, "-", marker=".", color=f"C{i % 10}", label=label)
        if x:
            ax.plot(x[:1], y[:1], "o", mfc="none", color=line.get_color())
    ax.set_xlabel("I(X;Z): min(teacher-student, direct) (bits)")
    ax.set_ylabel("I(Z;Y) lower bound (bits)")
    ax.set_title("information-plane trajectories (circle: epoch 1)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    return fig


def render_teacher_sweep(sweep_dir: str | Path) -> list[Path]:
    """``teacher_planes.png`` of a sweep whose points are teacher-student runs (nothing
    otherwise): one trajectory per point."""
    sweep_dir = Path(sweep_dir)
    runs = []
    for point in sorted(p for p in sweep_dir.iterdir() if (p / "teacher_bounds.csv").is_file()):
        rows = _read(point / "teacher_bounds.csv")
        if rows:
            runs.append((point.name, rows, _read(point / "metrics.csv")))
    if not runs:
        return []
    out = sweep_dir / "teacher_planes.png"
    planes_figure(runs).savefig(out, dpi=120)
    return [out]
