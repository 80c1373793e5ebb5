"""The CUDA matmul ladder (kernels/cuda/matmul.py) under the Numba CUDA simulator, against float64 NumPy.

Run with ``NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cudasim`` (the variable must be set before numba is
imported). Sizes are tiny because the simulator runs every GPU thread as a Python thread; the tile sizes
are shrunk to match, so that the tests still cover several blocks per axis, partial tiles in M, N and K,
batches and the bounds checks. Error criterion: ``|C - C_ref| <= 1e-5 (|A| @ |B|)`` elementwise, the
float32 rounding bound of a K-term dot product (K eps_32 ~ 6e-6 at K = 100), which, unlike a plain
relative error, stays meaningful where the sum cancels to near zero.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minigan.kernels import reference
from minigan.kernels.cuda import matmul as mm
from numba import cuda

SMALL = mm.Tiles(bm=8, bn=8, bk=4, tm=2, tn=2)  # 16 threads per block
TALL = mm.Tiles(bm=16, bn=8, bk=4, tm=4, tn=2)  # bm != bn, tm != tn

LADDER = {
    "naive": lambda a, b: mm.matmul_naive(a, b, block=(8, 4)),
    "tiled": lambda a, b: mm.matmul_tiled(a, b, tile=4),
    "blocked": lambda a, b: mm.matmul_blocked(a, b, tiles=SMALL),
    "blocked_tall": lambda a, b: mm.matmul_blocked(a, b, tiles=TALL),
    "prefetch": lambda a, b: mm.matmul_prefetch(a, b, tiles=SMALL),
    "prefetch_tall": lambda a, b: mm.matmul_prefetch(a, b, tiles=TALL),
}

CASES = {  # name: (shape of a, shape of b)
    "1x1x1": ((1, 1), (1, 1)),
    "partial tiles in M, N, K; 3x3 blocks": ((19, 11), (11, 23)),
    "exact multiples of the tiles": ((16, 8), (8, 16)),
    "K = 0 gives zeros": ((3, 0), (0, 4)),
    "batched a, 2-D b broadcast": ((3, 5, 9), (9, 6)),
    "batched both": ((2, 7, 5), (2, 5, 4)),
    "2-D a broadcast, batched b": ((6, 4), (3, 4, 5)),
}


def _check(c, a, b, rtol=1e-5):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ref = reference.matmul(a64, b64)
    bound = reference.matmul(np.abs(a64), np.abs(b64))
    assert c.shape == ref.shape and c.dtype == a.dtype
    err = np.abs(c.astype(np.float64) - ref)
    worst = float(np.max(err / np.maximum(bound, 1e-300), initial=0.0))
    assert np.all(err <= rtol * bound), f"max error {worst:.3g} x (|A| @ |B|) > {rtol}"


def _random(shape, rng, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", list(LADDER))
def test_ladder_matches_float64_reference(name, case):
    rng = np.random.default_rng(0)
    sa, sb = CASES[case]
    a, b = _random(sa, rng), _random(sb, rng)
    _check(LADDER[name](a, b), a, b)


@pytest.mark.parametrize(
    "fn", [mm.matmul_tiled, mm.matmul_blocked, mm.matmul_prefetch], ids=lambda f: f.__name__
)
def test_default_tiles_used_on_the_gpu(fn):
    """The full-size configurations (32x32 tiles; 128x128x8 with 256 threads) on a matrix smaller than one
    block: every thread but a few is out of range and must still load zeros and reach the barriers."""
    rng = np.random.default_rng(1)
    a, b = _random((5, 7), rng), _random((7, 3), rng)
    _check(fn(a, b), a, b)


@pytest.mark.parametrize("name", ["naive", "tiled", "blocked", "prefetch"])
def test_float64_is_computed_in_float64(name):
    rng = np.random.default_rng(2)
    a, b = _random((9, 13), rng, np.float64), _random((13, 10), rng, np.float64)
    _check(LADDER[name](a, b), a, b, rtol=1e-13)


tiles_strategy = st.sampled_from([SMALL, TALL, mm.Tiles(4, 4, 4, 1, 1), mm.Tiles(8, 16, 8, 2, 4)])


@settings(max_examples=6)
@given(
    m=st.integers(1, 20),
    k=st.integers(1, 20),
    n=st.integers(1, 20),
    batch=st.sampled_from([None, 1, 2]),
    tiles=tiles_strategy,
    data=st.data(),
)
def test_register_blocked_kernels_on_random_shapes(m, k, n, batch, tiles, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    lead = () if batch is None else (batch,)
    a, b = _random(lead + (m, k), rng), _random(lead + (k, n), rng)
    kernel = data.draw(st.sampled_from([mm.matmul_blocked, mm.matmul_prefetch]))
    _check(kernel(a, b, tiles=tiles), a, b)


@settings(max_examples=4)
@given(m=st.integers(1, 12), k=st.integers(1, 12), n=st.integers(1, 12), tile=st.sampled_from([2, 3, 4]))
def test_naive_and_tiled_on_random_shapes(m, k, n, tile):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a, b = _random((m, k), rng), _random((k, n), rng)
    _check(mm.matmul_naive(a, b, block=(tile, tile)), a, b)
    _check(mm.matmul_tiled(a, b, tile=tile), a, b)


def test_device_arrays_in_device_array_out():
    rng = np.random.default_rng(3)
    a, b = _random((6, 5), rng), _random((5, 7), rng)
    c = mm.matmul_blocked(cuda.to_device(a), cuda.to_device(b), tiles=SMALL)
    assert hasattr(c, "copy_to_host")
    _check(c.copy_to_host(), a, b)


def test_non_contiguous_input_is_made_contiguous():
    rng = np.random.default_rng(4)
    a, b = _random((7, 6), rng).T, _random((5, 7), rng).T  # (6, 7) @ (7, 5), both Fortran-ordered
    _check(mm.matmul_blocked(a, b, tiles=SMALL), a, b)


@pytest.mark.parametrize(
    "a, b, error, match",
    [
        (np.zeros((2, 3), np.float32), np.zeros((4, 2), np.float32), ValueError, "inner dimensions"),
        (np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float64), TypeError, "float32 or two float64"),
        (np.zeros((2, 3), np.int64), np.zeros((3, 2), np.int64), TypeError, "int64"),
        (np.zeros((1, 2, 2, 3), np.float32), np.zeros((3, 2), np.float32), ValueError, "2-D or 3-D"),
        (np.zeros((2, 2, 3), np.float32), np.zeros((3, 3, 2), np.float32), ValueError, "do not broadcast"),
    ],
)
def test_bad_operands_are_named(a, b, error, match):
    with pytest.raises(error, match=match):
        mm.matmul_blocked(a, b, tiles=SMALL)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(bm=8, bn=8, bk=4, tm=3, tn=2), "multiple of tm"),
        (dict(bm=128, bn=128, bk=8, tm=2, tn=2), "threads per block"),
        (dict(bm=8, bn=8, bk=1, tm=1, tn=1), "evenly share"),
    ],
)
def test_bad_tiles_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mm.Tiles(**kwargs)


@pytest.mark.parametrize(
    "sa, sb",
    [
        ((4,), (4, 3)),
        ((2, 4), (4,)),
        ((4,), (4,)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((3, 2, 4), (4, 5)),
        ((4,), (2, 4, 3)),
    ],
)
def test_matmul_has_numpy_semantics(sa, sb):
    """``matmul`` (the dispatched entry point): 1-D promotion and broadcast batch dimensions, as np.matmul."""
    rng = np.random.default_rng(5)
    a, b = _random(sa, rng), _random(sb, rng)
    c = mm.matmul(a, b, tiles=SMALL)
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert np.shape(c) == ref.shape
    bound = np.matmul(np.abs(a.astype(np.float64)), np.abs(b.astype(np.float64)))
    assert np.all(np.abs(c - ref) <= 1e-5 * bound)


def test_registered_with_dispatch_for_cuda():
    from minigan.kernels import dispatch
    from minigan.kernels.cuda import conv, vendor

    for impl, fns in (("kernels", (mm.matmul, conv.conv2d)), ("vendor", (vendor.matmul, vendor.conv2d))):
        assert dispatch.implementation("matmul", "cuda", impl) is fns[0]
        assert dispatch.implementation("conv2d", "cuda", impl) is fns[1]


def test_matmul_promotes_like_numpy():
    rng = np.random.default_rng(6)
    a, b = _random((5, 4), rng), _random((4, 3), rng, np.float64)
    c = mm.matmul(a, b, tiles=SMALL)
    assert c.dtype == np.float64
    np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-13)
    ai, bi = np.arange(6).reshape(2, 3), np.arange(3)
    np.testing.assert_array_equal(mm.matmul(ai, bi), ai @ bi)  # integers: the array library's matmul
