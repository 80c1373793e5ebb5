"""Compile the CPU kernels into Numba's on-disk cache ahead of time (chapter 03 explains the cache).

    python -m minigan.kernels.warm              # every task, one after the other, in this process
    python -m minigan.kernels.warm --jobs 2     # the tasks dealt to 2 processes running side by side
    python -m minigan.kernels.warm --list       # the tasks and their expected compile cost

Numba compiles a kernel the first time it is called with a new signature (dtype, layout, argument types)
and, with ``cache=True``, writes the machine code next to the source (``__pycache__``) or under
``NUMBA_CACHE_DIR``; later processes load it in milliseconds. A fresh install therefore pays the compile
on its first run: the tasks below took 340 s of compiling in all (each timed on a 2-core AMD EPYC with
another job on the other core), the parallel (``prange``) kernels most of it. Compiling is single-
threaded, so on a 2-core machine two processes halve that wait; the CI (``.ci/run``) does this before the
test run, which would otherwise compile the kernels one by one as its tests first call them.

A task is one kernel family in one dtype (float32, float64), run on tiny arrays through the same entry
points the library calls (``dispatch``: the operands made C-contiguous, strides and paddings as ints), so
the signatures compiled are the ones training and the tests use. Compiling more than is used later costs
only time; results never depend on whether a kernel was compiled here or on first use
(tests/kernels/test_cache_determinism.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

from . import dispatch
from .cpu import matmul as cpu_matmul

DTYPES = ("float32", "float64")
# compile seconds of each family per dtype (measured as in the module docstring), for dealing the tasks
# to jobs evenly
COST = {"conv-packed": 70, "conv-gemm": 30, "conv-direct": 13, "conv-im2col_blas": 18, "batchnorm": 24,
        "matmul": 20}  # fmt: skip
TASKS = [f"{family}:{dtype}" for family in COST for dtype in DTYPES]


def cost(task: str) -> int:
    """The expected compile seconds of a task (``COST`` of its family)."""
    return COST[task.split(":")[0]]


def _conv(family: str, dtype) -> None:
    passes = dispatch.conv_kernels(family)
    rng = np.random.default_rng(0)
    # 1 and 8 input channels: the packed family picks its kernels by size (few channels: per-image GEMMs;
    # C * kh * kw >= 64 and C >= 4: the panel and sub-pixel kernels), so both sizes are run
    for c in (1, 8):
        x = rng.standard_normal((2, c, 6, 6)).astype(dtype)
        w = rng.standard_normal((4, c, 4, 4)).astype(dtype)
        y = passes["conv2d"](x, w, (2, 2), (1, 1))
        passes["conv2d_backward_input"](y, w, x.shape, (2, 2), (1, 1))
        passes["conv2d_backward_weight"](x, y, w.shape, (2, 2), (1, 1))


def _batchnorm(dtype) -> None:
    rng = np.random.default_rng(0)
    for shape in ((4, 3, 2, 2), (4, 3)):  # BatchNorm2d's (N, C, H, W) and BatchNorm1d's (N, C)
        x = rng.standard_normal(shape).astype(dtype)
        gamma, beta = np.ones(shape[1], dtype), np.zeros(shape[1], dtype)
        with dispatch.use("kernels"):
            _, x_hat, _, _, invstd = dispatch.batch_norm_forward(x, gamma, beta, 1e-5)
            for need_gx in (True, False):
                dispatch.batch_norm_backward(x, x_hat, gamma, invstd, need_gx)


def _matmul(dtype) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 9, 7)).astype(dtype), rng.standard_normal((7, 5)).astype(dtype)
    cpu_matmul.matmul(a[0], b)  # 2-D
    cpu_matmul.matmul(a, b)  # batched
    for kernel in cpu_matmul.LADDER.values():
        kernel(a[0], b)


def run_task(task: str) -> float:
    """Compile one task (``family:dtype``, one of ``TASKS``); returns the seconds it took."""
    if task not in TASKS:
        raise ValueError(f"unknown warm-up task {task!r}; expected one of {TASKS}")
    family, dtype = task.split(":")
    dtype = np.dtype(dtype)
    t0 = time.perf_counter()
    if family.startswith("conv-"):
        _conv(family[len("conv-") :], dtype)
    elif family == "batchnorm":
        _batchnorm(dtype)
    else:
        _matmul(dtype)
    return time.perf_counter() - t0


def deal(tasks: list[str], jobs: int) -> list[list[str]]:
    """The tasks split into ``jobs`` lists of about equal ``COST`` (largest first, each to the lightest)."""
    shares: list[list[str]] = [[] for _ in range(max(1, jobs))]
    load = [0.0] * len(shares)
    for task in sorted(tasks, key=cost, reverse=True):
        j = load.index(min(load))
        shares[j].append(task)
        load[j] += cost(task)
    return [s for s in shares if s]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1, help="processes side by side (default 1: this one)")
    ap.add_argument("--tasks", nargs="*", default=None, help="some of the tasks (default: all; see --list)")
    ap.add_argument("--list", action="store_true", help="print the tasks and their expected cost")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # a job started by --jobs
    a = ap.parse_args(argv)
    tasks = TASKS if a.tasks is None else a.tasks
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        ap.error(f"unknown task(s) {unknown}; expected some of {TASKS}")
    if a.jobs < 1:
        ap.error(f"--jobs must be at least 1, got {a.jobs}")
    if a.list:
        for t in tasks:
            print(f"{t:24s} ~{cost(t)} s")
        return 0
    t0 = time.perf_counter()
    if a.jobs == 1:
        for t in tasks:
            print(f"compiled {t} in {run_task(t):.1f} s", flush=True)
        if a.child:
            return 0
    else:
        cmd = [sys.executable, "-m", "minigan.kernels.warm", "--child", "--tasks"]
        procs = [subprocess.Popen(cmd + share) for share in deal(tasks, a.jobs)]
        failed = [p.args[len(cmd) :] for p in procs if p.wait() != 0]
        if failed:
            print(f"minigan.kernels.warm: the job for {failed} failed (its error is above)", file=sys.stderr)
            return 1
    print(f"Numba cache warm: {len(tasks)} tasks in {time.perf_counter() - t0:.0f} s ({a.jobs} job(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
