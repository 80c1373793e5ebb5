"""Chapter 16's GPU path on a real GPU: the NCCL backend (through CuPy) in a one-rank group started as an
MPI singleton — all-reduce, broadcast, DistributedDataParallel and SyncBatchNorm on CUDA tensors — and the
MPI backend staging CuPy arrays through the host. A single GPU exercises every call with one rank; two
ranks need ``mpiexec -n 2`` and two GPUs. Marked ``gpu``: tests/conftest.py deselects these unless CuPy
sees a usable GPU. Each test runs in a subprocess (one process group per process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.gpu

NCCL_PROGRAM = """
import numpy as np, cupy as cp, minigan as mg
import minigan.distributed as dist
from minigan import nn, optim
g = dist.init_process_group("nccl")
assert g.world_size == 1 and g.nccl is not None
a = cp.arange(6, dtype=cp.float32)
g.all_reduce(a, "sum"); g.broadcast(a, 0)
assert cp.asnumpy(a).tolist() == list(range(6))
mg.manual_seed(0)
net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)).to("cuda")
net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
model = nn.parallel.DistributedDataParallel(net)
opt = optim.SGD(model.parameters(), lr=0.1)
x = mg.randn(8, 3).to("cuda")
(model(x) ** 2).mean().backward()
opt.step()
assert all(p.grad.device == "cuda" for p in net.parameters())
print("ok")
"""

MPI_STAGING_PROGRAM = """
import cupy as cp, minigan.distributed as dist
g = dist.init_process_group("mpi")
a = cp.ones(4, dtype=cp.float32)
g.all_reduce(a, "avg"); g.broadcast(a, 0)
assert cp.asnumpy(a).tolist() == [1.0] * 4
print("ok")
"""


@pytest.mark.parametrize("program", [NCCL_PROGRAM, MPI_STAGING_PROGRAM], ids=["nccl", "mpi-staging"])
def test_gpu_collectives(program):
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(program)], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]
