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

All kernels are compiled with ``fastmath=True`` (lets LLVM reorder the sums into SIMD lanes and fuse
multiply-adds), ``error_model='numpy'`` and no bounds checks; ``cache=True`` keeps compiled code on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

FAST = dict(fastmath=True, error_model="numpy", boundscheck=False, cache=True)

# Cache blocking for matmul_blocked (float32 numbers): a KC x NC panel of b is 256 * 512 * 4 B = 512 KiB,
# half of a 1 MiB L2; 4 rows of c (4 * 512 * 4 B = 8 KiB) and 4 rows of the panel stay in a 48 KiB L1.
KC = 256
NC = 512
MC = 64


@njit(**FAST)
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


@njit(**FAST)
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


@njit(parallel=True, **FAST)
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


@njit(**FAST)
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


@njit(parallel=True, **FAST)
def matmul_blocked(a, b):
    """Rung 4: packed, cache-blocked, register-tiled, parallel. (M, K) @ (K, N) -> (M, N).

    Memory plan (after Goto & van de Geijn, "Anatomy of high-performance matrix multiplication"):
    for each NC-wide, KC-deep panel of ``b``: copy it once into the contiguous buffer ``bp`` (KC x NC,
    512 KiB in float32: L2-resident, no 4 KiB-stride cache-set conflicts, prefetch-friendly), then split
    the rows of ``c`` into blocks of MC and give them to threads; each block runs ``gemm_tile`` (the
    4 x 4 register tile) against the packed panel. ``b`` is read from memory once per panel; ``a`` once per
    panel column; ``c`` once per K panel.
    """
    m, kk = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=a.dtype)
    bp = np.empty((min(KC, kk), min(NC, n)), dtype=a.dtype)
    nblocks = (m + MC - 1) // MC
    for jc in range(0, n, NC):
        nc = min(NC, n - jc)
        for pc in range(0, kk, KC):
            kc = min(KC, kk - pc)
            for k in prange(kc):
                for j in range(nc):
                    bp[k, j] = b[pc + k, jc + j]
            for blk in prange(nblocks):
                i0 = blk * MC
                gemm_tile(a, i0, pc, bp, c, i0, jc, min(MC, m - i0), kc, nc)
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
