"""SyncBatchNorm over 2 ranks = BatchNorm over the whole batch: forward, backward, double backward (R1),
running statistics; and convert_sync_batchnorm keeps the parameters. The one-rank code path is in the op
registry (tests/ops: gradcheck and gradgradcheck of ``sync_batch_norm``)."""

from __future__ import annotations

import json

import numpy as np

import minigan as mg
from minigan import nn

from .conftest import HERE, check, run


def test_two_ranks_match_batch_norm_on_the_whole_batch():
    proc = run([str(HERE / "sync_bn_worker.py")], n=2)
    check(proc)
    d = json.loads(proc.stdout.strip().splitlines()[-1])
    tol = 1e-4 * max(1.0, d["scale"])
    for key in ("y", "gx", "gw", "gb", "running_mean", "running_var"):
        assert d[key] < tol, (key, d)


def test_convert_sync_batchnorm_keeps_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Sequential(nn.BatchNorm1d(4)))
    w, rm = model[1].weight, model[1].running_mean
    out = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert (
        out is model and isinstance(model[1], nn.SyncBatchNorm) and isinstance(model[2][0], nn.SyncBatchNorm)
    )
    assert model[1].weight is w and model[1].running_mean is rm
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(model.state_dict()) == ["0.weight", "0.bias"] + [f"1.{k}" for k in bn] + [
        f"2.0.{k}" for k in bn
    ]


def test_outside_a_process_group_it_is_batch_norm():
    x = mg.tensor(np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32))
    a, b = nn.BatchNorm1d(4), nn.SyncBatchNorm(4)
    assert np.array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert np.array_equal(a.running_var.numpy(), b.running_var.numpy())
