"""Matrix multiplication on the CPU with Numba: a ladder of four kernels, each one idea faster (chapter 03).

Every rung computes ``c = a @ b`` for 2-D float32 (or float64) arrays, ``a`` of shape (M, K), ``b`` of shape
(K, N), ``c`` of shape (M, N): ``c[i, j] = sum_k a[i, k] * b[k, j]``, i.e. 2 M N K floating-point
operations over (M K + K N + M N) elements. Which rung is fast is decided entirely by memory traffic.

1. ``matmul_naive``    i-j-k triple loop. The inner loop walks a column of ``b`` (stride N elements), so
                       every multiply-add touches a new cache line and nothing vectorises.
2. ``matmul_ikj``      the same loops in i-k-j order: the inner loop now streams a row of ``b`` and a row
                       of ``c`` with unit stride, and LLVM turns it into SIMD fused multiply-adds.
3. ``matmul_parallel`` rung 2 with the rows of ``c`` split across threads (``prange``): no two threads write
                       the same row, so no locks.
4. ``matmul_blocked``  the fast one. ``b`` is copied ("packed") panel by panel into a contiguous
                       KC x NC buffer that stays in the L2 cache, and the multiply runs on a *register
                       tile*: a 4 x 4 block of ``a`` (4 rows, 4 steps of k) is loaded into 16 scalars, so one
                       pass over a row of the packed panel updates 4 rows of ``c`` with 4 steps of k,
                       16 FMAs for every 4 loads of ``b`` and 4 loads + 4 stores of ``c`` (rung 2 does
                       1 FMA for 1 load of ``b`` and a load + store of ``c``). Threads take blocks of MC
                       rows of ``c``.

Why not keep the whole C tile in registers, as BLAS micro-kernels do? Numba has no SIMD vector type, and
LLVM only keeps an accumulator array in registers when it can prove it does not overlap the inputs, which
it cannot for Numba arrays. So the tile that lives in registers here is the 4 x 4 block of ``a`` (broadcast
scalars) and the 4 rows of ``b`` being read, while the 4 rows of ``c`` stay in the L1 cache. See
``kernels/RESULTS.md`` for what each rung measures.

Compiler flags (``error_model='numpy'``, no bounds checks, ``cache=True`` keeps compiled code on disk)
come in three sets, and which set a kernel uses is part of its contract:

* ``STRICT``: IEEE arithmetic in source order (no fast-math). Every kernel that only copies, packs,
  normalises or adds element by element, and every parallel driver that calls the tiles below.
* ``FMA``: ``fastmath={'contract'}``: each ``s += a * b`` written in the source may become one fused
  multiply-add. Nothing is reordered; a multiply that feeds one add has one way to fuse.
* ``DOT``: ``fastmath={'reassoc', 'contract'}``: only for loops that *reduce* (the dot products of
  ``gemm_nt_tile`` / ``gemm_nt_tile_6x4``, the naive rung). LLVM may split such a sum into SIMD lanes,
  which is where the dot-product tiles get their speed (without it they do not vectorise; RESULTS.md).

Why not ``fastmath=True`` everywhere: a ``parallel=True`` kernel is compiled into two libraries by
Numba (its parallel region on its own, then again linked into the calling function), and the process
that compiled them runs the first copy while the on-disk cache stores the second. With licence to
reassociate, LLVM optimised the two copies of batch norm's ``gy * mg - sg - x_hat * sx`` differently,
so one seed gave different bits depending on whether the kernel was compiled or loaded from the cache.
Strict arithmetic has one answer however often it is optimised; the ``DOT`` reductions are vectorised
once, when their own function is compiled (tests/kernels/test_cache_determinism.py checks both copies).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

STRICT = dict(fastmath=False, error_model="numpy", boundscheck=False, cache=True)
"""Numba flags for IEEE arithmetic in source order (see the module docstring)."""
FMA = dict(STRICT, fastmath={"contract"})
"""STRICT plus fused multiply-adds: for the axpy-style loops ``c[j] += a * b[j]``."""
DOT = dict(STRICT, fastmath={"reassoc", "contract"})
"""Licence to split sums into SIMD lanes: only for the dot-product reductions."""

# Cache blocking for matmul_blocked (float32 numbers): a KC x NC panel of b is 256 * 512 * 4 B = 512 KiB,
# half of a 1 MiB L2; 4 rows of c (4 * 512 * 4 B = 8 KiB) and 4 rows of the panel stay in a 48 KiB L1.
KC = 512
NC = 256
MC = 64


@njit(**DOT)
def matmul_naive(a, b):
    """Rung 1: the textbook i-j-k loop. (M, K) @ (K, N) -> (M, N).

    Memory plan: none. The k loop reads ``b[k, j]`` down a column, N elements apart, so each
    multiply-add loads a fresh cache line of ``b``; no reuse, no SIMD.
    """
    m, kk = a.shape
    n = b.shape[1]
    c = np.empty((m, n), dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            s = a.dtype.type(0)
            for k in range(kk):
                s += a[i, k] * b[k, j]
            c[i, j] = s
    return c


@njit(**FMA)
def matmul_ikj(a, b):
    """Rung 2: loop order i-k-j. (M, K) @ (K, N) -> (M, N).

    Memory plan: for each row i of ``c`` and each k, ``c[i, :] += a[i, k] * b[k, :]`` streams a row of
    ``b`` and a row of ``c`` with unit stride: LLVM vectorises it into SIMD FMAs. The row of ``c`` is
    reused K times from L1; ``b`` is re-read from cache or memory once per row of ``c``.
    """
    m, kk = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=a.dtype)
    for i in range(m):
        ci = c[i]
        for k in range(kk):
            aik = a[i, k]
            bk = b[k]
            for j in range(n):
                ci[j] += aik * bk[j]
    return c


@njit(parallel=True, **FMA)
def matmul_parallel(a, b):
    """Rung 3: rung 2 with the rows of ``c`` shared among threads. (M, K) @ (K, N) -> (M, N).

    Memory plan: as rung 2; each thread owns whole rows of ``c`` (no write sharing). Both threads stream
    all of ``b``, so at large N the shared memory bandwidth, not arithmetic, is the limit.
    """
    m, kk = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=a.dtype)
    for i in prange(m):
        ci = c[i]
        for k in range(kk):
            aik = a[i, k]
            bk = b[k]
            for j in range(n):
                ci[j] += aik * bk[j]
    return c


@njit(**FMA)
def gemm_tile(a, ai, ak, bp, c, ci, cj, m, kc, nc):
    """The register-tiled inner kernel: ``c[ci:ci+m, cj:cj+nc] += a[ai:ai+m, ak:ak+kc] @ bp[:kc, :nc]``.

    ``a`` may have any strides (its elements are read one at a time into scalars); ``bp`` and ``c`` must
    have unit stride along their last axis. Rows of ``c`` go 4 at a time and k goes 4 at a time: the 16
    numbers ``a[i+r, k+q]`` sit in registers while one sweep over j updates 4 rows of ``c`` from 4 rows of
    ``bp``. Leftover rows (m % 4) and steps (kc % 4) use the same idea one row / one step at a time.
    Serial: callers run it on one thread per tile, so it also serves the convolutions.
    """
    m4 = m - m % 4
    k4 = kc - kc % 4
    for i in range(0, m4, 4):
        c0 = c[ci + i, cj : cj + nc]
        c1 = c[ci + i + 1, cj : cj + nc]
        c2 = c[ci + i + 2, cj : cj + nc]
        c3 = c[ci + i + 3, cj : cj + nc]
        r0 = ai + i
        for k in range(0, k4, 4):
            b0 = bp[k, :nc]
            b1 = bp[k + 1, :nc]
            b2 = bp[k + 2, :nc]
            b3 = bp[k + 3, :nc]
            q = ak + k
            a00, a01, a02, a03 = a[r0, q], a[r0, q + 1], a[r0, q + 2], a[r0, q + 3]
            a10, a11, a12, a13 = a[r0 + 1, q], a[r0 + 1, q + 1], a[r0 + 1, q + 2], a[r0 + 1, q + 3]
            a20, a21, a22, a23 = a[r0 + 2, q], a[r0 + 2, q + 1], a[r0 + 2, q + 2], a[r0 + 2, q + 3]
            a30, a31, a32, a33 = a[r0 + 3, q], a[r0 + 3, q + 1], a[r0 + 3, q + 2], a[r0 + 3, q + 3]
            for j in range(nc):
                x0 = b0[j]
                x1 = b1[j]
                x2 = b2[j]
                x3 = b3[j]
                # one chain of 4 FMAs per row of c: no extra add, no temporary
                s = c0[j]
                s += a00 * x0
                s += a01 * x1
                s += a02 * x2
                s += a03 * x3
                c0[j] = s
                s = c1[j]
                s += a10 * x0
                s += a11 * x1
                s += a12 * x2
                s += a13 * x3
                c1[j] = s
                s = c2[j]
                s += a20 * x0
                s += a21 * x1
                s += a22 * x2
                s += a23 * x3
                c2[j] = s
                s = c3[j]
                s += a30 * x0
                s += a31 * x1
                s += a32 * x2
                s += a33 * x3
                c3[j] = s
        for k in range(k4, kc):
            bk = bp[k, :nc]
            q = ak + k
            a0, a1, a2, a3 = a[r0, q], a[r0 + 1, q], a[r0 + 2, q], a[r0 + 3, q]
            for j in range(nc):
                x = bk[j]
                c0[j] += a0 * x
                c1[j] += a1 * x
                c2[j] += a2 * x
                c3[j] += a3 * x
    for i in range(m4, m):
        c0 = c[ci + i, cj : cj + nc]
        r0 = ai + i
        for k in range(0, k4, 4):
            b0 = bp[k, :nc]
            b1 = bp[k + 1, :nc]
            b2 = bp[k + 2, :nc]
            b3 = bp[k + 3, :nc]
            q = ak + k
            a00, a01, a02, a03 = a[r0, q], a[r0, q + 1], a[r0, q + 2], a[r0, q + 3]
            for j in range(nc):
                s = c0[j]
                s += a00 * b0[j]
                s += a01 * b1[j]
                s += a02 * b2[j]
                s += a03 * b3[j]
                c0[j] = s
        for k in range(k4, kc):
            bk = bp[k, :nc]
            a0 = a[r0, ak + k]
            for j in range(nc):
                c0[j] += a0 * bk[j]


@njit(**DOT)
def gemm_nt_tile(a, ai, ak, bt, bj, bk, c, ci, cj, m, n, kc):
    """The dot-product register tile: ``c[ci+i, cj+j] += a[ai+i, ak:ak+kc] . bt[bj+j, bk:bk+kc]``
    for i < m, j < n. ``a`` and ``bt`` must be contiguous along their last axis (``bt`` is B transposed).

    Sixteen dot products at once: 4 rows of ``a`` against 4 rows of ``bt``, the 16 partial sums ``sij``
    kept in registers while k runs. LLVM vectorises the k loop into 16 SIMD accumulators (a reduction
    per sum), so each k step is 8 vector loads for 16 vector FMAs and nothing is stored until the end.
    That is what BLAS micro-kernels do; here it falls out of plain scalar code because the sums are local
    variables, which LLVM may keep in registers. Leftover rows / columns take one dot product at a time.
    """
    m4 = m - m % 4
    n4 = n - n % 4
    zero = a.dtype.type(0)
    for i in range(0, m4, 4):
        a0 = a[ai + i, ak : ak + kc]
        a1 = a[ai + i + 1, ak : ak + kc]
        a2 = a[ai + i + 2, ak : ak + kc]
        a3 = a[ai + i + 3, ak : ak + kc]
        for j in range(0, n4, 4):
            b0 = bt[bj + j, bk : bk + kc]
            b1 = bt[bj + j + 1, bk : bk + kc]
            b2 = bt[bj + j + 2, bk : bk + kc]
            b3 = bt[bj + j + 3, bk : bk + kc]
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = zero
            for k in range(kc):
                x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
                y0, y1, y2, y3 = b0[k], b1[k], b2[k], b3[k]
                s00 += x0 * y0
                s01 += x0 * y1
                s02 += x0 * y2
                s03 += x0 * y3
                s10 += x1 * y0
                s11 += x1 * y1
                s12 += x1 * y2
                s13 += x1 * y3
                s20 += x2 * y0
                s21 += x2 * y1
                s22 += x2 * y2
                s23 += x2 * y3
                s30 += x3 * y0
                s31 += x3 * y1
                s32 += x3 * y2
                s33 += x3 * y3
            r, q = ci + i, cj + j
            c[r, q] += s00
            c[r, q + 1] += s01
            c[r, q + 2] += s02
            c[r, q + 3] += s03
            c[r + 1, q] += s10
            c[r + 1, q + 1] += s11
            c[r + 1, q + 2] += s12
            c[r + 1, q + 3] += s13
            c[r + 2, q] += s20
            c[r + 2, q + 1] += s21
            c[r + 2, q + 2] += s22
            c[r + 2, q + 3] += s23
            c[r + 3, q] += s30
            c[r + 3, q + 1] += s31
            c[r + 3, q + 2] += s32
            c[r + 3, q + 3] += s33
    # the ragged edges: rows past m4 against 4 columns at a time (then one), columns past n4 against 4
    # of the first m4 rows at a time; 4 dot products per sweep instead of 1 (5 loads per 4 FMAs, not 2:1)
    for i in range(m4, m):
        ar = a[ai + i, ak : ak + kc]
        for j in range(0, n4, 4):
            b0 = bt[bj + j, bk : bk + kc]
            b1 = bt[bj + j + 1, bk : bk + kc]
            b2 = bt[bj + j + 2, bk : bk + kc]
            b3 = bt[bj + j + 3, bk : bk + kc]
            s0 = s1 = s2 = s3 = zero
            for k in range(kc):
                x = ar[k]
                s0 += x * b0[k]
                s1 += x * b1[k]
                s2 += x * b2[k]
                s3 += x * b3[k]
            c[ci + i, cj + j] += s0
            c[ci + i, cj + j + 1] += s1
            c[ci + i, cj + j + 2] += s2
            c[ci + i, cj + j + 3] += s3
        for j in range(n4, n):
            br = bt[bj + j, bk : bk + kc]
            s = zero
            for k in range(kc):
                s += ar[k] * br[k]
            c[ci + i, cj + j] += s
    for j in range(n4, n):
        br = bt[bj + j, bk : bk + kc]
        for i in range(0, m4, 4):
            a0 = a[ai + i, ak : ak + kc]
            a1 = a[ai + i + 1, ak : ak + kc]
            a2 = a[ai + i + 2, ak : ak + kc]
            a3 = a[ai + i + 3, ak : ak + kc]
            s0 = s1 = s2 = s3 = zero
            for k in range(kc):
                y = br[k]
                s0 += a0[k] * y
                s1 += a1[k] * y
                s2 += a2[k] * y
                s3 += a3[k] * y
            c[ci + i, cj + j] += s0
            c[ci + i + 1, cj + j] += s1
            c[ci + i + 2, cj + j] += s2
            c[ci + i + 3, cj + j] += s3


@njit(**DOT)
def gemm_nt_tile_6x4(a, ai, ak, bt, bj, bk, c, ci, cj, m, n, kc):
    """``gemm_nt_tile`` with a 6 x 4 register tile: c[ci+i, cj+j] += a[ai+i, ak:ak+kc] . bt[bj+j, bk:bk+kc].

    24 dot products at once: 6 rows of ``a`` against 4 rows of ``bt``. Each SIMD step of k loads 10
    vectors for 24 FMAs (the 4 x 4 tile: 8 loads for 16 FMAs), and 24 accumulators + 4 rows of ``bt``
    + the row of ``a`` being used fill AVX-512's 32 vector registers without spilling (checked in the
    assembly). It is faster than the 4 x 4 tile on long dot products (kernels/RESULTS.md), and the
    convolutions of ``conv_packed.py`` use it. Rows past the last multiple of 6 and columns past the
    last multiple of 4 go to ``gemm_nt_tile``.
    """
    m6 = m - m % 6
    n4 = n - n % 4
    zero = a.dtype.type(0)
    for i in range(0, m6, 6):
        a0 = a[ai + i + 0, ak : ak + kc]
        a1 = a[ai + i + 1, ak : ak + kc]
        a2 = a[ai + i + 2, ak : ak + kc]
        a3 = a[ai + i + 3, ak : ak + kc]
        a4 = a[ai + i + 4, ak : ak + kc]
        a5 = a[ai + i + 5, ak : ak + kc]
        for j in range(0, n4, 4):
            b0 = bt[bj + j + 0, bk : bk + kc]
            b1 = bt[bj + j + 1, bk : bk + kc]
            b2 = bt[bj + j + 2, bk : bk + kc]
            b3 = bt[bj + j + 3, bk : bk + kc]
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = zero
            s40 = s41 = s42 = s43 = s50 = s51 = s52 = s53 = zero
            for k in range(kc):
                y0, y1, y2, y3 = b0[k], b1[k], b2[k], b3[k]
                x = a0[k]
                s00 += x * y0
                s01 += x * y1
                s02 += x * y2
                s03 += x * y3
                x = a1[k]
                s10 += x * y0
                s11 += x * y1
                s12 += x * y2
                s13 += x * y3
                x = a2[k]
                s20 += x * y0
                s21 += x * y1
                s22 += x * y2
                s23 += x * y3
                x = a3[k]
                s30 += x * y0
                s31 += x * y1
                s32 += x * y2
                s33 += x * y3
                x = a4[k]
                s40 += x * y0
                s41 += x * y1
                s42 += x * y2
                s43 += x * y3
                x = a5[k]
                s50 += x * y0
                s51 += x * y1
                s52 += x * y2
                s53 += x * y3
            r, q = ci + i, cj + j
            c[r + 0, q + 0] += s00
            c[r + 0, q + 1] += s01
            c[r + 0, q + 2] += s02
            c[r + 0, q + 3] += s03
            c[r + 1, q + 0] += s10
            c[r + 1, q + 1] += s11
            c[r + 1, q + 2] += s12
            c[r + 1, q + 3] += s13
            c[r + 2, q + 0] += s20
            c[r + 2, q + 1] += s21
            c[r + 2, q + 2] += s22
            c[r + 2, q + 3] += s23
            c[r + 3, q + 0] += s30
            c[r + 3, q + 1] += s31
            c[r + 3, q + 2] += s32
            c[r + 3, q + 3] += s33
            c[r + 4, q + 0] += s40
            c[r + 4, q + 1] += s41
            c[r + 4, q + 2] += s42
            c[r + 4, q + 3] += s43
            c[r + 5, q + 0] += s50
            c[r + 5, q + 1] += s51
            c[r + 5, q + 2] += s52
            c[r + 5, q + 3] += s53
    if m6 < m:
        gemm_nt_tile(a, ai + m6, ak, bt, bj, bk, c, ci + m6, cj, m - m6, n, kc)
    if n4 < n and m6 > 0:
        gemm_nt_tile(a, ai, ak, bt, bj + n4, bk, c, ci, cj + n4, m6, n - n4, kc)


@njit(parallel=True, **STRICT)
def matmul_blocked(a, b):
    """Rung 4: packed, cache-blocked, register-tiled, parallel. (M, K) @ (K, N) -> (M, N).

    Memory plan (after Goto & van de Geijn, "Anatomy of high-performance matrix multiplication"):
    for each NC-column, KC-deep panel of ``b``: copy it once, transposed, into the contiguous buffer
    ``bt`` (NC x KC, 512 KiB in float32: stays in L2, and every column of b becomes a unit-stride row),
    then give blocks of MC rows of ``c`` to the threads; each runs ``gemm_nt_tile`` (16 dot products in
    registers) of its rows of ``a`` (read in place, unit stride) against the packed panel. ``b`` is read
    from memory once, ``a`` once per panel column, ``c`` updated once per K panel.
    """
    m, kk = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=a.dtype)
    bt = np.empty((min(NC, n), min(KC, kk)), dtype=a.dtype)
    nblocks = (m + MC - 1) // MC
    for jc in range(0, n, NC):
        nc = min(NC, n - jc)
        for pc in range(0, kk, KC):
            kc = min(KC, kk - pc)
            for j in prange(nc):
                for k in range(kc):
                    bt[j, k] = b[pc + k, jc + j]
            for blk in prange(nblocks):
                i0 = blk * MC
                mc = min(MC, m - i0)
                ap = a[i0 : i0 + mc, pc : pc + kc].copy()  # contiguous rows: no 4 KiB-stride set conflicts
                gemm_nt_tile(ap, 0, 0, bt, 0, 0, c, i0, jc, mc, nc, kc)
    return c


LADDER = {
    "naive": matmul_naive,
    "ikj": matmul_ikj,
    "parallel": matmul_parallel,
    "blocked": matmul_blocked,
}
"""The four rungs by name, slowest first (the benchmark and chapter 03 walk this dict)."""


def matmul(a, b, kernel=matmul_blocked):
    """``a @ b`` with NumPy's matmul semantics for 2-D and batched (..., M, K) @ (..., K, N) operands.

    float32 and float64 run on ``kernel`` (a rung of the ladder); batch dimensions broadcast and are
    looped over here, each product running the (parallel) kernel. Operands are made C-contiguous first, so
    every kernel sees one memory layout. 1-D operands and other dtypes are the caller's business
    (``kernels.dispatch`` sends them to NumPy).
    """
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"kernels matmul needs operands of at least 2 dims, got {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align on K")
    dtype = np.result_type(a.dtype, b.dtype)
    a = np.ascontiguousarray(a, dtype=dtype)
    b = np.ascontiguousarray(b, dtype=dtype)
    if a.ndim == 2 and b.ndim == 2:
        return kernel(a, b)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=dtype)
    for idx in np.ndindex(*batch):
        out[idx] = kernel(np.ascontiguousarray(a[idx]), np.ascontiguousarray(b[idx]))
    return out
