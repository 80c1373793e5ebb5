"""Worker of ``test_sync_batchnorm.py``: under ``mpiexec -n 2``, SyncBatchNorm on each rank's half of a
batch against BatchNorm on the whole batch (computed by rank 0 alone): outputs, input gradients, the
parameters' gradients summed over ranks, and the gradients of an R1-style penalty (a double backward).
Prints one line of JSON with the worst absolute differences (rank 0)."""

from __future__ import annotations

import json

import numpy as np

import minigan as mg
from minigan import distributed as dist
from minigan import nn


def forward_backward(bn, x_np, r_np):
    """y, dL/dx, dL/dgamma, dL/dbeta for L = sum(y * r) + sum((d sum(y^2) / dx)^2), r the fixed weights
    of these samples (the second term: R1's double backward through batch norm)."""
    x = mg.tensor(x_np, requires_grad=True)
    y = bn(x)
    r = mg.tensor(r_np)
    (g,) = mg.autograd.grad((y * y).sum(), x, create_graph=True)
    loss = (y * r).sum() + (g * g).sum()
    loss.backward()
    return [y.detach().numpy(), x.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy()]


def main():
    group = dist.init_process_group("mpi")
    r, p = group.rank, group.world_size
    x = np.random.default_rng(0).standard_normal((8, 3, 2, 2)).astype(np.float32) * 2 + 1
    weights = np.linspace(-1, 1, x.size).reshape(x.shape).astype(np.float32)  # the loss's weights, per sample
    lo, hi = r * 8 // p, (r + 1) * 8 // p
    shard = x[lo:hi]
    sync = nn.SyncBatchNorm(3)
    sync.weight.array[:] = [1.0, 0.5, 2.0]
    y, gx, gw, gb = forward_backward(sync, shard, weights[lo:hi])
    parts = group.all_gather_object((y, gx, gw, gb, sync.running_mean.numpy(), sync.running_var.numpy()))
    if r == 0:
        full = nn.BatchNorm2d(3)
        full.weight.array[:] = [1.0, 0.5, 2.0]
        fy, fgx, fgw, fgb = forward_backward(full, x, weights)
        diff = {
            "y": float(np.abs(np.concatenate([q[0] for q in parts]) - fy).max()),
            "gx": float(np.abs(np.concatenate([q[1] for q in parts]) - fgx).max()),
            # each rank keeps its own share of the parameter gradients: their sum is the whole batch's
            "gw": float(np.abs(sum(q[2] for q in parts) - fgw).max()),
            "gb": float(np.abs(sum(q[3] for q in parts) - fgb).max()),
            "running_mean": float(max(np.abs(q[4] - full.running_mean.numpy()).max() for q in parts)),
            "running_var": float(max(np.abs(q[5] - full.running_var.numpy()).max() for q in parts)),
            "scale": float(np.abs(fgx).max()),
        }
        print(json.dumps(diff), flush=True)


if __name__ == "__main__":
    main()
