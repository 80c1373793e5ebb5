"""The CUDA kernels on a real GPU, on CuPy arrays at real sizes (chapters 03-04).

Every test here is marked ``gpu``: tests/conftest.py deselects them unless CuPy sees a usable GPU, and
they are never run under the simulator. References are computed on the GPU in float64 (CuPy / the
im2col vendor path, itself checked against the NumPy reference in tests/cudasim); the error criterion
is the simulator tests' one: ``|got - ref| <= rtol * bound`` with ``bound`` the same product of absolute
values.
"""

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

LADDER = ["naive", "tiled", "blocked", "prefetch"]


def _cp():
    import cupy

    return cupy


def _randn(shape, dtype=np.float32, seed=0):
    return _cp().random.default_rng(seed).standard_normal(shape, dtype=dtype)


def _assert_bounded(got, ref, bound, rtol):
    cp = _cp()
    assert isinstance(got, cp.ndarray) and got.shape == ref.shape
    err = cp.abs(got.astype(cp.float64) - ref)
    worst = float((err / cp.maximum(bound, 1e-300)).max()) if err.size else 0.0
    assert bool(cp.all(err <= rtol * bound)), f"max error {worst:.3g} x bound > {rtol}"


def _check_matmul(c, a, b, rtol=1e-5):
    cp = _cp()
    a64, b64 = a.astype(cp.float64), b.astype(cp.float64)
    assert c.dtype == a.dtype
    _assert_bounded(c, cp.matmul(a64, b64), cp.matmul(cp.abs(a64), cp.abs(b64)), rtol)


@pytest.mark.parametrize("shape", [(1000, 777, 1031), (2048, 2048, 2048), (1, 5000, 3), (129, 1, 257)])
@pytest.mark.parametrize("name", LADDER)
def test_matmul_ladder(name, shape):
    from minigan.kernels.cuda.matmul import LADDER as FNS

    m, k, n = shape
    a, b = _randn((m, k), seed=1), _randn((k, n), seed=2)
    _check_matmul(FNS[name](a, b), a, b)


@pytest.mark.parametrize("name", LADDER)
def test_matmul_batched_and_float64(name):
    from minigan.kernels.cuda.matmul import LADDER as FNS

    a, b = _randn((8, 300, 200), seed=3), _randn((200, 100), seed=4)
    _check_matmul(FNS[name](a, b), a, b)
    a, b = _randn((3, 130, 70), np.float64, 5), _randn((3, 70, 90), np.float64, 6)
    _check_matmul(FNS[name](a, b), a, b, rtol=1e-13)


def test_matmul_numpy_semantics_on_cupy():
    from minigan.kernels.cuda.matmul import matmul

    cp = _cp()
    for sa, sb in [((2, 3, 50, 40), (3, 40, 60)), ((40,), (2, 40, 7)), ((9, 40), (40,))]:
        a, b = _randn(sa, seed=7), _randn(sb, seed=8)
        c = matmul(a, b)
        ref = cp.matmul(a.astype(cp.float64), b.astype(cp.float64))
        assert c.shape == ref.shape
        assert float(cp.abs(c - ref).max()) <= 1e-5 * float(cp.abs(ref).max()) * 40


CONV_CASES = {  # (N, C, H, W, O, K, stride, padding)
    "DCGAN 4x4 s2 p1": (64, 64, 32, 32, 128, 4, 2, 1),
    "3x3 s1 p1": (16, 32, 28, 28, 32, 3, 1, 1),
    "1x1": (8, 64, 14, 14, 32, 1, 1, 0),
    "5x5 s2 p2 odd sizes": (4, 3, 31, 29, 16, 5, 2, 2),
    "first layer, 3 channels": (32, 3, 64, 64, 64, 4, 2, 1),
}


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_passes_against_float64_vendor(case):
    from minigan.kernels.cuda import conv, vendor

    cp = _cp()
    n, c, h, w, o, k, s, p = CONV_CASES[case]
    x, wt = _randn((n, c, h, w), seed=9), _randn((o, c, k, k), seed=10)
    oh, ow = conv.output_size(h, w, k, k, s, p)
    gy = _randn((n, o, oh, ow), seed=11)
    x64, w64, gy64 = (v.astype(cp.float64) for v in (x, wt, gy))
    ax, aw, agy = cp.abs(x64), cp.abs(w64), cp.abs(gy64)

    y = conv.conv2d(x, wt, s, p)
    _assert_bounded(y, vendor.conv2d(x64, w64, s, p), vendor.conv2d(ax, aw, s, p), 1e-5)
    gx = conv.conv2d_backward_input(gy, wt, x.shape, s, p)
    ref = vendor.conv2d_backward_input(gy64, w64, x.shape, s, p)
    _assert_bounded(gx, ref, vendor.conv2d_backward_input(agy, aw, x.shape, s, p), 1e-5)
    ref = vendor.conv2d_backward_weight(x64, gy64, wt.shape, s, p)
    bound = vendor.conv2d_backward_weight(ax, agy, wt.shape, s, p)
    for splits in (None, 1, 7):  # automatic split-K, none, and an uneven one
        gw = conv.conv2d_backward_weight(x, gy, wt.shape, s, p, splits=splits)
        _assert_bounded(gw, ref, bound, 1e-5)


def test_dispatch_sends_cupy_arrays_to_the_cuda_implementations():
    import minigan.kernels as K

    cp = _cp()
    a, b = _randn((64, 48), seed=12), _randn((48, 32), seed=13)
    x, w = _randn((2, 3, 9, 9), seed=14), _randn((4, 3, 3, 3), seed=15)
    for impl in ("kernels", "vendor"):
        with K.use(impl):
            c = K.matmul(a, b)
            y = K.conv2d(x, w, stride=2, padding=1)
        assert isinstance(c, cp.ndarray) and isinstance(y, cp.ndarray)
        _check_matmul(c, a, b)
        assert y.shape == (2, 4, 5, 5)


def test_ptx_for_this_gpu():
    from minigan.kernels.cuda import ptx
    from numba import cuda

    cc = cuda.get_current_device().compute_capability
    assert ptx.toolchain_problem(cc) is None
    kernels = ptx.kernels(np.float32)
    text = ptx.compile_kernel(*kernels["matmul_blocked"], cc=cc)
    assert f".target sm_{cc[0]}{cc[1]}" in text


def test_bench_quick_rows():
    from minigan.kernels.cuda import bench

    rows = bench.gpu_rows(quick=True)
    assert rows and all(r["ms"] > 0 for r in rows)
    for r in rows:
        if "TF32" not in r["impl"]:
            assert r["err"] < 1e-4, r


@pytest.mark.slow
def test_blocked_sgemm_reaches_half_of_cublas_at_4096():
    """The issue's target on an H100: >= 50 % of cuBLAS FP32 (CUPY_TF32 unset) at 4096^3."""
    from minigan.kernels.cuda import bench

    rows = bench.gemm_rows(sizes=(4096,), kernels=("blocked", "prefetch"), repeat=10)
    best = max(r["vs_ref"] for r in rows if r["impl"] in ("blocked", "prefetch"))
    assert best >= 0.5, bench.format_rows(rows)
