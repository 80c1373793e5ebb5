"""The bucketed gradient reducer, in one process: a stand-in group that plays a second rank holding the
same gradients (its all-reduce doubles the buffer) checks the buckets, their order, the averaging, the
views, unused parameters and no_sync without MPI. The real two-rank runs are in test_equivalence.py."""

from __future__ import annotations

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.distributed import Reducer


class TwinGroup:
    """Rank 0 of 2, whose partner always holds the same buffer: sum over ranks = 2 x this rank's."""

    rank, world_size = 0, 2

    def __init__(self):
        self.sizes = []

    def all_reduce(self, a, op="sum"):
        self.sizes.append(a.size)
        a *= 2
        return a


def _model():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_buckets_in_reverse_order_and_averaged_gradients():
    m, group = _model(), TwinGroup()
    params = list(m.parameters())
    # a cap between one and two of the larger tensors: several buckets
    reducer = Reducer(params, [n for n, _ in m.named_parameters()], group, bucket_cap_mb=40 * 4 / 2**20)
    assert [b.names for b in reducer.buckets][0][0] == "2.bias"  # the last layer's gradients come first
    x = mg.randn(5, 4)
    m(x).sum().backward()
    expected = []
    m2 = _model()
    m2(x).sum().backward()
    expected = [p.grad.numpy() for p in m2.parameters()]
    for p, g in zip(params, expected):
        np.testing.assert_array_equal(p.grad.numpy(), g)  # (g / 2) * 2: exact
    assert reducer.calls == len(reducer.buckets) >= 2
    assert group.sizes == [b.buffer.size for b in reducer.buckets]  # one call per bucket, in index order
    b0 = reducer.buckets[0]
    assert np.shares_memory(params[-1].grad.array, b0.buffer)  # gradients are views of the bucket


def test_a_parameter_without_gradient_is_an_error_or_zero():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    unused = nn.Linear(2, 2)
    params = list(m.parameters()) + list(unused.parameters())
    names = ["a.w", "a.b", "b.w", "b.b", "unused.weight", "unused.bias"]
    reducer = Reducer(params, names, TwinGroup())
    with pytest.raises(
        RuntimeError,
        match=r"2 parameter\(s\) that require grad got no gradient in this backward \(unused.bias, unused.w",
    ):
        m(mg.randn(3, 2)).sum().backward()
    reducer.remove()
    Reducer(params, names, TwinGroup(), find_unused_parameters=True)
    m.zero_grad()
    m(mg.randn(3, 2)).sum().backward()
    assert unused.weight.grad is None and m[0].weight.grad is not None  # unused everywhere: stays None


def test_no_sync_keeps_gradients_local():
    m, group = _model(), TwinGroup()
    reducer = Reducer(list(m.parameters()), group=group)
    with reducer.no_sync():
        m(mg.randn(2, 4)).sum().backward()
    assert group.sizes == []
    m(mg.randn(2, 4)).sum().backward()  # the first backward after the block reduces the accumulated sum
    assert len(group.sizes) == len(reducer.buckets)


def test_frozen_parameters_are_not_waited_for():
    """D frozen during G's step: its reducer sees no backward and issues nothing."""
    m, group = _model(), TwinGroup()
    Reducer(list(m.parameters()), group=group)
    x = mg.randn(2, 4, requires_grad=True)
    for p in m.parameters():
        p.requires_grad = False
    m(x).sum().backward()
    assert group.sizes == [] and x.grad is not None


def test_bad_arguments():
    with pytest.raises(ValueError, match="bucket_cap_mb must be > 0"):
        Reducer(list(_model().parameters()), group=TwinGroup(), bucket_cap_mb=0)
    with pytest.raises(ValueError, match="x is not a Tensor that requires grad"):
        Reducer([mg.zeros(2)], ["x"], group=TwinGroup())
