"""Plug-in mutual information on binned values (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018).

Each unit's value is mapped to a bin; a row of bin indices is one symbol; entropies are
plug-in frequencies, I = H(S_x) + H(S_y) - H(S_x, S_y) in bits. For a deterministic layer T
over distinct inputs, pass ``y = arange(n)`` (input ids): then I(X;T) = H(T).

Strategies:

- ``"fixed"`` (the original): ``n_bins`` edges ``linspace(lo, hi, n_bins)``; a value maps to
  its bin's left edge, values >= hi to the last edge and values < lo to the first, so there
  are ``n_bins`` symbols per unit (the original's 30 edges on [-1, 1]).
- ``"width"`` (Saxe et al.): symbol = floor(value / bin_width), unbounded.
- ``"adaptive"``: per unit, ``n_bins`` equal-mass bins from that unit's quantiles.
- ``"observed"``: as ``"fixed"`` with the edges spanning the observed range
  ``[min, max]`` of all values of the layer (Saxe et al.'s binning of ReLU layers, whose
  values are unbounded above).

Rows are hashed to 64-bit integers (random odd multipliers, wrapping arithmetic) before
counting: a collision needs two of n rows to share a hash, probability about n^2 / 2^64.

Standard error (``stderr=True``): the delta method's asymptotic variance of the plug-in
(Basharin 1959 for the entropy; the same argument for I):
Var(I_hat) ~ (sum_ab p(a,b) log2^2[p(a,b) / (p(a) p(b))] - I^2) / n bits^2, with the observed
frequencies. It measures sampling variability only, not the plug-in's downward bias (about
(K_a - 1)(K_b - 1) / (2 n ln 2) bits for I with K occupied symbols per side, Miller 1955),
which dominates when most symbols hold one sample: ``details["samples_per_symbol"]`` says how
close to that the layer is (the plane's H(T) at log2 n has standard error 0 and is all bias).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from ibkit._errors import param_error
from ibkit.estimators.base import ArrayLike, Estimate, LayerInformation, MIEstimator, as_2d

STRATEGIES = ("fixed", "width", "adaptive", "observed")
_MULTIPLIERS = np.random.default_rng(20171024).integers(1, 2**63, size=8193, dtype=np.uint64) | 1
_JOINT_MULTIPLIER = _MULTIPLIERS[-1]  # combines a row id with a label id


_BLOCK_VALUES = 2**16  # values binned at a time by ``fixed``: 0.5 MB of float64, in cache


def _entropy_from_counts(counts: np.ndarray) -> float:
    """H = log2 n - sum_c c log2 c / n; counts of 0 and 1 add nothing to the sum (for layers
    over distinct inputs most counts are 1, so few logarithms are taken)."""
    n = counts.sum()
    if n == 0:
        return 0.0
    c = counts[counts > 1].astype(np.float64)
    return max(0.0, float(np.log2(n) - (c * np.log2(c)).sum() / n))


def entropy_bits(ids: np.ndarray) -> float:
    """Plug-in entropy in bits of integer symbols ``ids`` ``(n,)``.

    Example:
        >>> entropy_bits(np.array([0, 0, 1, 1]))
        1.0
    """
    return _entropy_of_sorted(np.sort(np.asarray(ids).ravel()))


def _entropy_of_sorted(s: np.ndarray) -> float:
    """Plug-in entropy in bits of the symbols of a sorted 1-D array (run lengths = counts)."""
    n = len(s)
    if n == 0:
        return 0.0
    starts = np.flatnonzero(s[1:] != s[:-1])
    if len(starts) == 0:
        return 0.0
    counts = np.diff(starts, prepend=-1, append=n - 1)
    return _entropy_from_counts(counts)


def row_ids(symbols: np.ndarray) -> np.ndarray:
    """One int64 id per row of ``symbols`` ``(n, d)`` (equal rows, equal ids), by hashing."""
    if symbols.shape[1] == 1:
        return symbols[:, 0].astype(np.int64)
    d = symbols.shape[1]
    mult = np.resize(_MULTIPLIERS, d)  # (d,)
    with np.errstate(over="ignore"):
        h = symbols.astype(np.uint64) * mult  # (n, d), wraps mod 2^64
        return h.sum(axis=1, dtype=np.uint64).view(np.int64)


def _left_edge_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``clip(searchsorted(edges, x, "right") - 1, 0, len(edges) - 1)`` for evenly spaced
    ``edges``, by arithmetic (:func:`_left_edge_floats`)."""
    return _left_edge_floats(x, edges).astype(np.int64)


def _left_edge_floats(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """:func:`_left_edge_index` as float64 integers: the position in bin widths, floored and
    clipped; values within 1e-6 bin widths of an edge, the only ones rounding can put on the
    wrong side, are placed by ``searchsorted``."""
    last = len(edges) - 1
    f = np.subtract(x, edges[0], dtype=np.float64)
    f *= last / (edges[-1] - edges[0])  # position in bin widths
    idx = np.floor(f)
    np.subtract(f, idx, out=f)  # the fraction, in [0, 1)
    f -= 0.5
    np.abs(f, out=f)
    near = np.flatnonzero(f > 0.5 - 1e-6)  # within a hair of an edge: redo those
    np.clip(idx, 0, last, out=idx)
    if len(near):
        flat = idx.reshape(-1)
        flat[near] = np.clip(np.searchsorted(edges, x.reshape(-1)[near], "right") - 1, 0, last)
    return idx


def _left_edge_floats_torch(x: torch.Tensor, edges: np.ndarray) -> torch.Tensor:
    """:func:`_left_edge_floats` in torch on ``x``'s device (float64, the same arithmetic, so
    the same bins)."""
    last = len(edges) - 1
    e = torch.as_tensor(edges, dtype=torch.float64, device=x.device)
    f = (x.to(torch.float64) - float(edges[0])) * (last / (edges[-1] - edges[0]))
    idx = torch.floor(f)
    near = ((f - idx) - 0.5).abs_() > 0.5 - 1e-6  # within a hair of an edge: redo those
    idx.clamp_(0, last)
    if bool(near.any()):
        idx[near] = (torch.searchsorted(e, x[near].to(torch.float64).contiguous(), right=True)
                     - 1).clamp_(0, last).to(torch.float64)
    return idx


def _on_accelerator(t: torch.Tensor) -> bool:
    """Whether ``t`` lives off the CPU (a GPU's tensor: binned there, in torch)."""
    return t.device.type != "cpu"


def _row_ids_torch(bins: torch.Tensor, n_symbols: int) -> torch.Tensor:
    """Ids of rows of bin indices ``bins`` (float64 ``(n, d)``) on their device, equal to
    :func:`_packed_ids` where the rows fit in 53 bits and to :func:`row_ids` (the same
    multipliers, wrapping int64 arithmetic: the same bits as NumPy's uint64) otherwise."""
    d = bins.shape[1]
    if d * math.log2(n_symbols) < 53:
        powers = float(n_symbols) ** torch.arange(d, dtype=torch.float64, device=bins.device)
        return (bins @ powers).to(torch.int64)
    if d == 1:
        return bins[:, 0].to(torch.int64)
    mult = torch.from_numpy(np.resize(_MULTIPLIERS, d).view(np.int64)).to(bins.device)
    return (bins.to(torch.int64) * mult).sum(1)


def _packed_ids(bins: np.ndarray, n_symbols: int) -> np.ndarray | None:
    """Exact ids of rows of bin indices in ``[0, n_symbols)`` (float64 ``(n, d)``), the rows read
    as numbers in base ``n_symbols`` by one matrix-vector product (exact while
    ``n_symbols^d < 2^53``); None when they do not fit."""
    d = bins.shape[1]
    if d * math.log2(n_symbols) >= 53:
        return None
    return (bins @ float(n_symbols) ** np.arange(d)).astype(np.int64)


def plugin_mi_bits(a: np.ndarray, b: np.ndarray) -> float:
    """I(A;B) in bits from paired integer symbols, H(A) + H(B) - H(A, B).

    One sort per side (none for small non-negative b, counted directly); the joint is
    counted with ``bincount`` when its table is small. When every b is distinct (input
    ids), H(A, B) = H(B) and the result is H(A).
    """
    return _entropy_and_mi_bits(a, b)[1]


def _symbol_counts(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of ``b`` and their counts: ``bincount`` for small non-negative integers
    (labels), else one sort. Unused codes have count 0, which no entropy sees."""
    b = b.ravel()
    if b.dtype.kind in "iub" and len(b) and b.min() >= 0 and b.max() < len(b):
        return b.astype(np.int64), np.bincount(b)
    _, ib, cb = np.unique(b, return_inverse=True, return_counts=True)
    return ib.ravel(), cb


def _entropy_and_mi_bits(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(H(A), I(A;B)) in bits from paired integer symbols: one sort of ``a`` and one of the
    pairs (counts are run lengths; no inverse index is built)."""
    n = len(a)
    a = np.asarray(a).ravel().astype(np.int64, copy=False)
    h_a = _entropy_of_sorted(np.sort(a))
    ib, cb = _symbol_counts(np.asarray(b))
    if np.count_nonzero(cb) == n:
        return h_a, h_a
    if len(a) and a.min() >= 0 and a.max() < np.iinfo(np.int64).max // len(cb):
        joint = a * len(cb) + ib  # exact
    else:  # hashed ids: combine by wrapping arithmetic (collision odds as for row_ids)
        with np.errstate(over="ignore"):
            joint = a.view(np.uint64) * _JOINT_MULTIPLIER + ib.astype(np.uint64)
    h_ab = _entropy_of_sorted(np.sort(joint))
    return h_a, max(0.0, h_a + _entropy_from_counts(cb) - h_ab)


def plugin_mi_stderr_bits(a: np.ndarray, b: np.ndarray) -> float:
    """The delta method's standard error in bits of :func:`plugin_mi_bits` (module docstring):
    sqrt((sum_ab p(a,b) r_ab^2 - I^2) / n) with r_ab = log2[p(a,b) / (p(a) p(b))]. For input
    ids b (all distinct) it is the entropy's, sqrt((sum_a p(a) log2^2 p(a) - H^2) / n)."""
    if len(a) < 2:
        return 0.0
    _, ia, ca = np.unique(np.asarray(a).ravel(), return_inverse=True, return_counts=True)
    return _stderr_bits(ia.ravel(), ca, np.asarray(b))


def _stderr_bits(ia: np.ndarray, ca: np.ndarray, b: np.ndarray) -> float:
    """:func:`plugin_mi_stderr_bits` from a's dense codes ``ia`` and their counts ``ca``."""
    n = len(ia)
    ib, cb = _symbol_counts(b)
    if np.count_nonzero(cb) == n:  # input ids: I = H(A)
        p = ca / float(n)
        r = -np.log2(p)
    else:
        joint = ia.astype(np.int64) * len(cb) + ib
        if len(ca) * len(cb) <= 4 * n:  # a small table: count it directly
            cj = np.bincount(joint, minlength=len(ca) * len(cb))
            cells = np.flatnonzero(cj)
            cj = cj[cells]
        else:
            cells, cj = np.unique(joint, return_counts=True)
        p = cj / float(n)
        r = np.log2(cj * float(n) / (ca[cells // len(cb)] * cb[cells % len(cb)].astype(np.float64)))
    mi = float(p @ r)
    return math.sqrt(max(0.0, float(p @ (r * r)) - mi * mi) / n)


def _run_starts(sorted_rows: np.ndarray) -> np.ndarray:
    """Flat indices where a run of equal values starts in each row of ``sorted_rows`` ``(E, n)``
    (every row's first element starts one)."""
    e, n = sorted_rows.shape
    new = np.ones((e, n), dtype=bool)
    np.not_equal(sorted_rows[:, 1:], sorted_rows[:, :-1], out=new[:, 1:])
    return np.flatnonzero(new)


def _per_row_sum(rows: np.ndarray, values: np.ndarray, e: int) -> np.ndarray:
    """Sum of ``values`` (one per run) within each of ``e`` rows, ``rows`` the run's row; in
    order, so that a row's sum is the same bits whatever other rows are batched with it."""
    return np.bincount(rows, weights=values, minlength=e)


def _rows(starts: np.ndarray, e: int, n: int) -> np.ndarray:
    """The row of each flat start index in ``(e, n)``."""
    return starts // n


def _run_lengths(starts: np.ndarray, total: int) -> np.ndarray:
    """Lengths (float64) of the runs starting at ``starts`` in a flat array of ``total``."""
    c = np.empty(len(starts), dtype=np.float64)
    np.subtract(starts[1:], starts[:-1], out=c[:-1])
    c[-1] = total - starts[-1]
    return c


def binned_plane_bits(ids: np.ndarray, labels: np.ndarray, stderr: bool = True
                      ) -> dict[str, np.ndarray]:
    """H(A_e) = I(X;A_e) and I(A_e;B) in bits for every row e of symbol ids ``ids`` ``(E, n)``
    against one set of paired labels ``labels`` ``(n,)``, vectorised over rows (epochs).

    One sort per row of the keys ``(a << k) | b`` (b the labels' dense codes in k bits) groups
    both the symbols and the pairs; counts are run lengths. H(A) = log2 n - sum_a c_a log2 c_a
    / n, I = H(A) + H(B) - H(A, B) (clipped at 0), and with ``stderr`` the delta method's
    standard errors of :func:`plugin_mi_stderr_bits` (keys ``I_XT_stderr_bits``,
    ``I_TY_stderr_bits``). All distinct labels (input ids) give I = H(A). The shift drops a's
    top k bits: exact for small symbols, and for hashed rows (:func:`row_ids`) a collision
    needs two of n rows to agree in 64 - k bits, probability about n^2 / 2^(65 - k).
    """
    ids = np.atleast_2d(np.asarray(ids)).astype(np.int64, copy=False)
    e, n = ids.shape
    lb, cb = _symbol_counts(np.asarray(labels))
    distinct = np.count_nonzero(cb) == n
    k = 0 if distinct else max(1, int(len(cb) - 1).bit_length())
    keys = ids.view(np.uint64)
    keys = np.sort(keys if distinct else (keys << np.uint64(k)) | lb.astype(np.uint64), axis=1)
    new_a = np.ones((e, n), dtype=bool)
    a_keys = keys >> np.uint64(k)
    np.not_equal(a_keys[:, 1:], a_keys[:, :-1], out=new_a[:, 1:])
    starts_a = np.flatnonzero(new_a)
    rows_a = _rows(starts_a, e, n)
    ca = _run_lengths(starts_a, e * n)
    log_ca = np.log2(ca)
    log_n = math.log2(n) if n else 0.0
    h_a = np.maximum(0.0, log_n - _per_row_sum(rows_a, ca * log_ca, e) / max(n, 1))
    out = {"I_XT_bits": h_a, "I_TY_bits": h_a.copy()}
    if not distinct:
        starts_ab = _run_starts(keys)
        cab = _run_lengths(starts_ab, e * n)
        rows_ab = _rows(starts_ab, e, n)
        log_cab = np.log2(cab)
        h_ab = log_n - _per_row_sum(rows_ab, cab * log_cab, e) / n
        out["I_TY_bits"] = np.maximum(0.0, h_a + _entropy_from_counts(cb) - h_ab)
    if stderr and n > 1:
        r = log_n - log_ca  # the entropy's information density, -log2 p(a)
        out["I_XT_stderr_bits"] = _stderr(rows_a, ca, r, e, n)
        out["I_TY_stderr_bits"] = out["I_XT_stderr_bits"].copy()
        if not distinct:  # each pair's run lies in its symbol's run: count the symbols' starts
            c_a = ca[np.cumsum(new_a.reshape(-1)[starts_ab]) - 1]
            c_b = cb[(keys.reshape(-1)[starts_ab] & np.uint64((1 << k) - 1)).astype(np.int64)]
            r = log_cab + log_n - np.log2(c_a * c_b)  # log2 p(a, b) / (p(a) p(b))
            out["I_TY_stderr_bits"] = _stderr(rows_ab, cab, r, e, n)
    return out


def _stderr(rows: np.ndarray, counts: np.ndarray, r: np.ndarray, e: int, n: int) -> np.ndarray:
    """sqrt(Var(r) / n) per row: the delta method's standard error from the information density
    ``r`` of each cell (``counts`` samples each), the variance in two passes (exactly 0 where
    r is constant, as for a uniform layer)."""
    mean = _per_row_sum(rows, counts * r, e) / n
    dev = r - mean[rows]
    return np.sqrt(_per_row_sum(rows, counts * dev * dev, e) / n / n)


class BinningEstimator(MIEstimator):
    """Plug-in MI after binning every unit (see the module docstring for the strategies).

    Args:
        n_bins: edges (``"fixed"``) or bins per unit (``"adaptive"``); >= 2.
        strategy: ``"fixed"``, ``"width"``, ``"adaptive"`` or ``"observed"``.
        value_range: ``(lo, hi)`` of the fixed edges; the original uses (-1, 1).
        bin_width: the bin width for ``strategy="width"`` (> 0).
        outside_warning: warn when more than this share of values falls outside the fixed
            range (the ReLU problem: everything above 1 lands in one bin).
        stderr: attach the delta method's standard error (module docstring; sampling
            variability only, not the plug-in's bias).

    Example:
        >>> t = np.array([[-0.9], [-0.9], [0.5], [0.5]])
        >>> BinningEstimator().estimate(t, np.arange(4)).value_bits   # I(X;T) = H(T)
        1.0
    """

    name = "binning"

    def __init__(self, n_bins: int = 30, strategy: str = "fixed",
                 value_range: tuple[float, float] = (-1.0, 1.0), bin_width: float | None = None,
                 outside_warning: float = 0.05, stderr: bool = True) -> None:
        self.n_bins = n_bins
        self.strategy = strategy
        self.value_range = value_range
        self.bin_width = bin_width
        self.outside_warning = outside_warning
        self.stderr = stderr

    def check_params(self) -> None:
        """Strategy, number of bins, range and bin width."""
        owner = type(self).__name__
        if self.strategy not in STRATEGIES:
            raise param_error("strategy", owner, f"one of {STRATEGIES}", self.strategy)
        if not isinstance(self.n_bins, int) or self.n_bins < 2:
            raise param_error("n_bins", owner, "an int >= 2", self.n_bins)
        lo, hi = self.value_range
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise param_error("value_range", owner, "finite (lo, hi) with lo < hi", self.value_range)
        if self.strategy == "width" and not (self.bin_width and self.bin_width > 0):
            raise param_error("bin_width", owner, "a float > 0 with strategy='width'", self.bin_width)
        if not isinstance(self.stderr, bool):
            raise param_error("stderr", owner, "True or False", self.stderr)

    def symbols(self, x: np.ndarray) -> tuple[np.ndarray, dict]:
        """Bin indices ``(n, d)`` of values ``x`` ``(n, d)`` and notes (share outside the range)."""
        self.check_params()
        notes: dict = {}
        if self.strategy == "width":
            return np.floor(x / self.bin_width).astype(np.int64), notes
        if self.strategy == "adaptive":
            qs = np.quantile(x, np.linspace(0, 1, self.n_bins + 1)[1:-1], axis=0).T  # (d, B-1)
            return np.stack([np.searchsorted(q, col, side="right") for q, col in zip(qs, x.T,
                             strict=True)], 1), notes
        if self.strategy == "observed":
            lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
            edges = np.linspace(lo, hi if hi > lo else lo + 1.0, self.n_bins)
            notes["observed_range"] = (lo, hi)
            idx = np.searchsorted(edges, x, side="right") - 1
            return np.clip(idx, 0, self.n_bins - 1), notes
        return _left_edge_index(x, self._fixed_edges(x, notes)), notes

    def _fixed_edges(self, x: np.ndarray | torch.Tensor, notes: dict) -> np.ndarray:
        """The ``fixed`` edges; notes the share of ``x`` (an array, or a tensor on any device)
        outside them, warning above ``outside_warning``."""
        lo, hi = self.value_range
        edges = np.linspace(lo, hi, self.n_bins)
        size = x.numel() if isinstance(x, torch.Tensor) else x.size
        inside = size == 0 or (float(x.min()) >= lo and float(x.max()) <= hi)
        outside = 0.0 if inside else float(((x < lo) | (x > hi)).sum()) / size
        notes["share_outside_range"] = outside
        if outside > self.outside_warning:
            msg = (f"{outside:.1%} of values lie outside value_range={self.value_range} and were put "
                   "in the edge bins; bin over the observed range or use strategy='adaptive'.")
            notes["warnings"] = [msg]
            warnings.warn(msg, RuntimeWarning, stacklevel=5)
        return edges

    def _row_ids(self, t: np.ndarray | torch.Tensor) -> np.ndarray:
        """Ids of the binned rows of ``t`` ``(n, d)``: for ``fixed``, exact ids packed from the
        bin indices where they fit in 53 bits (:func:`_packed_ids`), else :func:`row_ids`,
        binned in blocks of rows that stay in cache (each block upcast to float64, exactly);
        other strategies bin all of ``t`` in float64 at once. A tensor off the CPU (a GPU's)
        is binned with ``fixed`` where it is, in torch (the same ids), and only its ids, one
        per row, come to the CPU; other strategies copy it to the CPU."""
        if isinstance(t, torch.Tensor):
            if self.strategy == "fixed" and _on_accelerator(t):
                self.check_params()
                edges = self._fixed_edges(t, {})
                bins = _left_edge_floats_torch(t, edges)
                return _row_ids_torch(bins, self.n_bins).cpu().numpy()
            t = t.cpu().numpy()
        if self.strategy != "fixed":
            return row_ids(self.symbols(np.asarray(t, dtype=np.float64))[0])
        self.check_params()
        edges = self._fixed_edges(t, {})
        rows = max(1, _BLOCK_VALUES // max(1, t.shape[1]))
        if len(t) <= rows:
            return self._fixed_ids(t, edges)
        return np.concatenate([self._fixed_ids(t[i : i + rows], edges)
                               for i in range(0, len(t), rows)])

    def _fixed_ids(self, t: np.ndarray, edges: np.ndarray) -> np.ndarray:
        bins = _left_edge_floats(np.asarray(t, dtype=np.float64), edges)
        ids = _packed_ids(bins, self.n_bins)
        return ids if ids is not None else row_ids(bins.astype(np.int64))

    def layer_information(self, t: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        """I(X;T) and I(T;Y) in bits for a deterministic layer over distinct inputs, binning once.

        Args:
            t: ``(n, units)`` activations of n distinct inputs.
            labels: ``(n,)`` integer labels.

        Returns:
            ``{"I_XT_bits": H(T), "I_TY_bits": I(T;Y)}``, with ``I_XT_stderr_bits`` and
            ``I_TY_stderr_bits`` when ``stderr`` is on.
        """
        t = np.asarray(t, dtype=np.float64)
        return {k: float(v[0]) for k, v in self.layer_information_batch(t[None], labels).items()}

    def layer_information_batch(self, ts: Sequence[np.ndarray | torch.Tensor] | np.ndarray,
                                labels: np.ndarray
                                ) -> dict[str, np.ndarray]:
        """:meth:`layer_information` of E recordings of one layer, ``ts`` ``(E, n, units)``,
        against the same labels: arrays ``(E,)`` in bits. Each recording is binned and hashed
        on its own (small enough to stay in cache; ``observed`` and ``adaptive`` bin over its
        own values), then all are counted together (:func:`binned_plane_bits`)."""
        ids = np.stack([self._row_ids(t if isinstance(t, torch.Tensor) else np.asarray(t))
                        for t in ts])
        return binned_plane_bits(ids, np.asarray(labels), self.stderr)

    def plane_information(self, t: ArrayLike, labels: ArrayLike) -> list[LayerInformation]:
        """Both values from one binning (:meth:`layer_information`)."""
        return self.plane_information_batch([t], labels)[0]

    def plane_information_batch(self, ts: Sequence[ArrayLike], labels: ArrayLike
                                ) -> list[list[LayerInformation]]:
        """Both values for each recording in ``ts``, binned and counted together
        (:meth:`layer_information_batch`)."""
        if not len(ts):
            return []
        owner = type(self).__name__
        checked = [as_2d(t, "x", owner, keep_float=True) for t in ts]  # where they are
        x0, labels_t = checked[0], self._inputs(checked[0][:, :1], labels)[1]  # labels, count
        for t in checked:  # float32 is binned in float64 all the same (exact upcast)
            if t.shape != x0.shape:
                raise param_error("ts", owner, f"recordings of one shape {tuple(x0.shape)}",
                                  tuple(t.shape))
        info = self.layer_information_batch(checked, labels_t.cpu().numpy())
        e = len(checked)
        se_xt, se_ty = info.get("I_XT_stderr_bits"), info.get("I_TY_stderr_bits")
        return [[LayerInformation(self.name, float(info["I_XT_bits"][i]),
                                  float(info["I_TY_bits"][i]), "estimate", "estimate",
                                  None if se_xt is None else float(se_xt[i]),
                                  None if se_ty is None else float(se_ty[i]))]
                for i in range(e)]

    def _estimate(self, x: torch.Tensor, y: torch.Tensor) -> Estimate:
        sx, notes = self.symbols(x.cpu().numpy())
        a = row_ids(sx)
        if y.dim() == 1:
            b = y.cpu().numpy()
        else:
            b = row_ids(self.symbols(y.cpu().numpy())[0])
        value = plugin_mi_bits(a, b)
        n_symbols = int(len(np.unique(a)))
        details = {**self.get_params(), **notes, "n_symbols_x": n_symbols,
                   "samples_per_symbol": len(a) / n_symbols}
        stderr = plugin_mi_stderr_bits(a, b) if self.stderr else None
        if stderr is not None:
            details["ci95_bits"] = (value - 1.96 * stderr, value + 1.96 * stderr)
        return Estimate(value, "estimate", self.name, stderr, details)
