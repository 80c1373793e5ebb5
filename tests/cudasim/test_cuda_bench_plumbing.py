"""kernels/cuda/bench.py's code paths, run under the simulator on a NumPy stand-in for CuPy.

The timings only mean something on a GPU; what this checks is that the benchmark calls every kernel with
the right arguments, compares it with the vendor result, and builds its rows and table, so that the first
run on a GPU does not die on a typo. The stand-in module maps the few CuPy names the bench uses to NumPy
and times with ``perf_counter`` instead of CUDA events.
"""

import sys
import time
import types

import numpy as np
import pytest


class _Event:
    def record(self):
        self.t = time.perf_counter()

    def synchronize(self):
        pass


@pytest.fixture
def fake_cupy(monkeypatch):
    cupy = types.ModuleType("cupy")
    cupy.float32 = np.float32
    cupy.matmul = np.matmul
    cupy.abs = np.abs
    cupy.asarray = np.asarray
    cupy.random = types.SimpleNamespace(default_rng=np.random.default_rng)
    cupy.cuda = types.SimpleNamespace(
        is_available=lambda: True,
        Event=_Event,
        get_elapsed_time=lambda start, end: (end.t - start.t) * 1e3,
        Device=lambda: types.SimpleNamespace(id=0),
        runtime=types.SimpleNamespace(getDeviceProperties=lambda i: {"name": b"NumPy stand-in"}),
    )
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    return cupy


def test_bench_rows_and_table(fake_cupy, monkeypatch):
    from minigan.kernels.cuda import bench

    monkeypatch.setattr(bench, "_torch", lambda: None)  # no CUDA PyTorch here; skip importing torch

    # one timed call, no warm-up: each kernel runs twice under the (slow) simulator, not four times
    rows = bench.gemm_rows(sizes=(6,), repeat=1, warmup=0)
    rows += bench.conv_rows(layers=((1, 2, 6, 6, 3, 4, 2, 1),), repeat=1, warmup=0)
    impls = [(r["op"], r["impl"]) for r in rows]
    assert ("sgemm", "cuBLAS (CUPY_TF32=0)") in impls or ("sgemm", "cuBLAS (CUPY_TF32=1)") in impls
    for name in ("naive", "tiled", "blocked", "prefetch"):
        assert ("sgemm", name) in impls
    for op in ("conv2d", "conv2d_backward_input", "conv2d_backward_weight"):
        assert (op, "im2col + cuBLAS") in impls and (op, "implicit GEMM") in impls
    for r in rows:
        assert r["ms"] > 0 and r["tflops"] > 0 and r["vs_ref"] > 0
        assert r["err"] < 1e-5, r  # every kernel agrees with the vendor result
    table = bench.format_rows(rows)
    assert table.count("\n") == len(rows) + 1 and "implicit GEMM" in table
