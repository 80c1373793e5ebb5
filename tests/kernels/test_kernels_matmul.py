"""Every rung of the CPU matmul ladder (kernels/cpu/matmul.py) against the float64 reference.

Error norm: max|c - ref| / max|ref| (the relative error of the largest entry), <= 1e-5 in float32. Shapes
are drawn so that they are rarely multiples of the 4 x 4 register tile, and include 1 x 1 x 1; one fixed
case is larger than every cache block (MC, KC, NC) so the panel loops and their edges run too.
"""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from minigan.kernels import reference as R
from minigan.kernels.cpu import matmul as M

RUNGS = list(M.LADDER)


def rel_err(c, ref):
    return float(np.max(np.abs(c - ref)) / max(np.max(np.abs(ref)), 1e-30))


def operands(m, k, n, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)


@pytest.mark.parametrize("rung", RUNGS)
@given(m=st.integers(1, 23), k=st.integers(1, 37), n=st.integers(1, 41), seed=st.integers(0, 2**31))
@example(m=1, k=1, n=1, seed=0)
@example(m=4, k=4, n=16, seed=1)
@example(m=5, k=9, n=17, seed=2)
def test_rung_matches_reference(rung, m, k, n, seed):
    a, b = operands(m, k, n, seed)
    c = M.LADDER[rung](a, b)
    assert c.shape == (m, n) and c.dtype == np.float32
    assert rel_err(c, R.matmul(a.astype(np.float64), b.astype(np.float64))) <= 1e-5


@pytest.mark.parametrize("rung", ["ikj", "blocked"])
def test_larger_than_every_cache_block(rung):
    m, k, n = M.MC + 7, M.KC + 45, M.NC + 19  # two row blocks, two K panels, two N panels, all ragged
    a, b = operands(m, k, n, seed=3)
    assert rel_err(M.LADDER[rung](a, b), a.astype(np.float64) @ b.astype(np.float64)) <= 1e-5


def test_float64_is_exact_to_float64_rounding():
    a, b = operands(13, 29, 11, seed=4, dtype=np.float64)
    c = M.matmul_blocked(a, b)
    assert c.dtype == np.float64 and rel_err(c, R.matmul(a, b)) <= 1e-13


def test_batched_with_broadcasting_and_non_contiguous_operands():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 1, 6, 5)).astype(np.float32)
    b = rng.standard_normal((4, 7, 5)).astype(np.float32).transpose(0, 2, 1)  # (4, 5, 7), not contiguous
    c = M.matmul(a, b)
    assert c.shape == (3, 4, 6, 7)
    assert rel_err(c, R.matmul(a.astype(np.float64), b.astype(np.float64))) <= 1e-5


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="do not align"):
        M.matmul(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="at least 2 dims"):
        M.matmul(np.ones(3, np.float32), np.ones((3, 2), np.float32))


@pytest.mark.parametrize("tile", ["gemm_nt_tile", "gemm_nt_tile_6x4"])
@given(
    m=st.integers(1, 14),
    n=st.integers(1, 11),
    kc=st.integers(1, 40),
    off=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    seed=st.integers(0, 2**31),
)
@example(m=12, n=8, kc=32, off=(0, 0, 0, 0), seed=0)  # whole tiles only
@example(m=7, n=5, kc=17, off=(1, 2, 3, 1), seed=1)  # a ragged row and column for both tiles
def test_dot_product_tiles_accumulate_into_c_at_offsets(tile, m, n, kc, off, seed):
    """c[ci+i, cj+j] += a[ai+i, ak:ak+kc] . bt[bj+j, bk:bk+kc], every element, ragged edges included."""
    ai, ak, bj, bk = off
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((ai + m + 2, ak + kc + 3)).astype(np.float32)
    bt = rng.standard_normal((bj + n + 1, bk + kc + 2)).astype(np.float32)
    c = rng.standard_normal((m + 3, n + 4)).astype(np.float32)
    want = c.astype(np.float64)
    want[2 : 2 + m, 1 : 1 + n] += a[ai : ai + m, ak : ak + kc].astype(np.float64) @ bt[
        bj : bj + n, bk : bk + kc
    ].T.astype(np.float64)
    getattr(M, tile)(a, ai, ak, bt, bj, bk, c, 2, 1, m, n, kc)
    np.testing.assert_allclose(c, want, rtol=1e-5, atol=1e-4)
