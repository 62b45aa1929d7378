"""Binning of a tensor off the CPU (issue 19 item 5): the ``fixed`` bins and row ids in torch on
the tensor's device equal NumPy's, so a GPU layer is binned where it lives and only one id per
row comes to the CPU. Checked on the CPU by sending CPU tensors down the torch path."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from ibkit.estimators import BinningEstimator
from ibkit.estimators import binning as binning_module
from ibkit.estimators.binning import (
    _left_edge_floats,
    _left_edge_floats_torch,
    _row_ids_torch,
)


def _layer(n: int, d: int, seed: int) -> np.ndarray:
    """tanh values with every edge, and one ulp either side of it, among them."""
    g = np.random.default_rng(seed)
    edges = np.linspace(-1, 1, 30)
    specials = np.concatenate([edges, np.nextafter(edges, -2), np.nextafter(edges, 2), [-3, 3]])
    t = np.tanh(g.standard_normal((n, d)) * 2)
    t.reshape(-1)[: len(specials)] = specials
    return t


@pytest.mark.parametrize(("n", "d"), [(500, 1), (400, 3), (300, 10), (300, 11), (200, 64)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_torch_bins_and_ids_equal_numpys(n, d, dtype):
    """1 unit, packed ids (d * log2 30 < 53: d <= 10) and hashed ids (d >= 11), edges and
    values beyond the range, float32 and float64."""
    t = torch.from_numpy(_layer(n, d, seed=d)).to(dtype)
    est = BinningEstimator(30, outside_warning=1.0)
    edges = est._fixed_edges(t.numpy(), {})
    bins_np = _left_edge_floats(t.numpy().astype(np.float64), edges)
    bins_t = _left_edge_floats_torch(t, edges)
    assert np.array_equal(bins_t.numpy(), bins_np)
    assert np.array_equal(_row_ids_torch(bins_t, 30).numpy(), est._row_ids(t.numpy()))


def test_a_tensor_off_the_cpu_is_binned_in_torch_with_the_same_points(monkeypatch):
    """The plane's whole path (plane_information_batch over epochs) gives the same numbers,
    standard errors included, and warns the same, when the tensors take the torch route."""
    g = np.random.default_rng(1)
    ts = [torch.from_numpy(_layer(600, d, seed=s)).float() for s, d in ((1, 12), (2, 12))]
    labels = torch.from_numpy(g.integers(0, 4, 600))
    est = BinningEstimator(30, outside_warning=0.0001)
    with warnings.catch_warnings(record=True) as on_cpu:
        warnings.simplefilter("always")
        want = est.plane_information_batch(ts, labels)
    calls = []

    def off_cpu(t: torch.Tensor) -> bool:
        calls.append(t.shape)
        return True

    monkeypatch.setattr(binning_module, "_on_accelerator", off_cpu)
    with warnings.catch_warnings(record=True) as in_torch:
        warnings.simplefilter("always")
        got = est.plane_information_batch(ts, labels)
    assert len(calls) == 2  # each recording went down the torch path
    assert got == want
    assert [str(w.message) for w in in_torch] == [str(w.message) for w in on_cpu]
    assert len(in_torch) == 2 and "outside value_range" in str(in_torch[0].message)


def test_other_strategies_copy_a_tensor_to_the_cpu(monkeypatch):
    monkeypatch.setattr(binning_module, "_on_accelerator", lambda t: True)
    t = torch.from_numpy(_layer(300, 3, seed=4))
    labels = torch.from_numpy(np.random.default_rng(4).integers(0, 3, 300))
    est = BinningEstimator(10, strategy="adaptive")
    assert est.plane_information_batch([t], labels) == [est.plane_information(t.numpy(),
                                                                               labels.numpy())]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_layer_is_binned_on_the_gpu_with_the_cpus_numbers():
    t = torch.from_numpy(_layer(2000, 16, seed=5)).float()
    labels = torch.from_numpy(np.random.default_rng(5).integers(0, 10, 2000))
    est = BinningEstimator(30, outside_warning=1.0)
    assert est.plane_information(t.cuda(), labels.cuda()) == est.plane_information(t, labels)
