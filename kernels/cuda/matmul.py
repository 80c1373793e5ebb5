"""Matrix multiply on an NVIDIA GPU in numba-cuda: the optimisation ladder (chapter 03).

Every kernel computes the same thing, a batched ``C[z] = A[z] @ B[z]``::

    A: (Ba, M, K)   B: (Bb, K, N)   C: (Bc, M, N)     C[z, i, j] = sum_k A[z % Ba, i, k] * B[z % Bb, k, j]

with the batch on grid axis z (a batch of 1 broadcasts, hence ``z % Ba``). Each rung changes only *where
the operands are read from*, and so how many bytes must cross from global memory (HBM) per
multiply-add. An H100 does ~67 TFLOP/s in FP32 on its CUDA cores but reads HBM at ~3.35 TB/s, so a
kernel must do ~20 FLOP per byte it loads (40 FMAs per float) before arithmetic, not memory, limits it.
The rungs follow siboehm/SGEMM_CUDA (kernels 1-7, 11):

1. ``naive``    one thread per C element; reads 2K floats from global per output (intensity 0.25 FLOP/B).
2. ``tiled``    a TxT thread block stages TxT tiles of A and B in shared memory; each global float is
                reused T times (intensity ~T/4 FLOP/B).
3. ``blocked``  2-D register blocking: a block owns a BMxBN tile of C, each thread TMxTN elements of it
                held in registers; per k-step a thread reads TM+TN floats from shared memory for TM*TN FMAs.
4. ``prefetch`` ``blocked`` plus double buffering: tile t+1 is loaded from global into registers while
                tile t is multiplied, with two shared buffers and one barrier per k-step.

A numba detail that matters as much as a rung: ``x[i]`` with a signed integer ``i`` must support Python's
``x[-1]``, so numba adds a compare-and-select per index, and the compiler can then no longer fold the
constant part of an address (``j * ct`` below) into the load instruction. In the hot loops the kernels
therefore index with ``u64(i)`` (numba's ``uint64`` cast, free at run time) wherever ``i >= 0`` is known;
the inner loop of ``blocked`` shrinks from ~60 integer instructions per 64 FMAs to ~6 (tests/ptx checks
this). Only cast at the index: numba types ``uint64 + int64`` as float64.

Host wrappers ``matmul_<name>(a, b)`` take 2-D or batched 3-D CuPy arrays (or NumPy / numba device
arrays, e.g. under the simulator), float32 or float64, any sizes (edges are bounds-checked, so M, N, K
need not be multiples of the tiles), and return C of the same kind. Kernels are built per (tile sizes,
dtype) by small factories, since numba needs shared/local array shapes as compile-time constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numba import cuda
from numba import uint64 as u64

from ._arrays import FLOAT_DTYPES, cdiv, check_float_pair, contiguous, empty, kind, promote


@dataclass(frozen=True)
class Tiles:
    """Blocking of the register-blocked kernels.

    A thread block computes a ``bm x bn`` tile of C, stepping through K ``bk`` at a time; each of its
    ``(bm // tm) * (bn // tn)`` threads owns ``tm x tn`` elements of it, in registers. The defaults
    (128x128x8, 8x8 per thread, 256 threads, 8 KiB of shared memory per buffer) are siboehm's kernel-5/6
    choice for large FP32 GEMMs.
    """

    bm: int = 128
    bn: int = 128
    bk: int = 8
    tm: int = 8
    tn: int = 8

    def __post_init__(self):
        if self.bm % self.tm or self.bn % self.tn:
            raise ValueError(f"{self}: bm must be a multiple of tm and bn of tn")
        n = self.threads
        if not 1 <= n <= 1024:
            raise ValueError(f"{self}: {n} threads per block, must be 1..1024")
        if (self.bm * self.bk) % n or (self.bk * self.bn) % n:
            raise ValueError(f"{self}: the {n} threads must evenly share the bm*bk and bk*bn tile loads")

    @property
    def threads(self) -> int:
        return (self.bm // self.tm) * (self.bn // self.tn)


# --------------------------------------------------------------------------------------------- rung 1
@cache
def naive_kernel(dtype):
    """One thread per element of C.

    Thread (row, col) with ``col = blockIdx.x * blockDim.x + threadIdx.x`` walks a row of A and a column
    of B: 2K global loads for K FMAs. Consecutive threads of a warp have consecutive ``col``, so their
    loads of ``B[k, col]`` and stores of ``C[row, col]`` coalesce into one transaction per warp while
    ``A[row, k]`` is a broadcast. Nothing is reused on chip beyond what the L1/L2 caches catch: siboehm
    measured this (his kernel 2) at 8.5 % of cuBLAS on an A6000, and 1.3 % with x and y swapped.
    """
    zero = np.dtype(dtype).type(0)

    @cuda.jit
    def kernel(a, b, c):
        col, row = cuda.grid(2)
        z = cuda.blockIdx.z
        za = z % a.shape[0]
        zb = z % b.shape[0]
        if row < c.shape[1] and col < c.shape[2]:
            acc = zero
            for k in range(a.shape[2]):
                acc += a[za, row, k] * b[zb, k, col]
            c[z, row, col] = acc

    return kernel


# --------------------------------------------------------------------------------------------- rung 2
@cache
def tiled_kernel(tile, dtype):
    """Shared-memory tiling: a ``tile x tile`` block computes a ``tile x tile`` tile of C.

    Memory plan: for each k-step the block loads one tile of A and one of B from global into shared
    memory (one element per thread, coalesced), waits at a barrier, then every thread runs ``tile`` FMAs
    out of shared memory. Each global float is read by ``1/tile`` as many threads as in ``naive``:
    global traffic drops by ``tile`` (32x for 32x32). The inner loop now needs two shared loads per FMA
    (``a_sh[ty, k]`` is a broadcast, ``b_sh[k, tx]`` conflict-free), so shared-memory bandwidth becomes
    the limit: 12.8 % of cuBLAS for siboehm's kernel 3. Out-of-range elements load as 0, so edges need
    no special case, and every thread reaches every barrier.
    """
    zero = np.dtype(dtype).type(0)

    @cuda.jit
    def kernel(a, b, c):
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        row = cuda.blockIdx.y * tile + ty
        col = cuda.blockIdx.x * tile + tx
        z = cuda.blockIdx.z
        za = z % a.shape[0]
        zb = z % b.shape[0]
        m, n, k_total = c.shape[1], c.shape[2], a.shape[2]
        uty, utx = u64(ty), u64(tx)  # index-only copies (see the module docstring on u64)
        a_sh = cuda.shared.array((tile, tile), dtype)
        b_sh = cuda.shared.array((tile, tile), dtype)
        acc = zero
        for k0 in range(0, k_total, tile):
            ka = k0 + tx
            kb = k0 + ty
            a_sh[uty, utx] = a[za, row, ka] if row < m and ka < k_total else zero
            b_sh[uty, utx] = b[zb, kb, col] if kb < k_total and col < n else zero
            cuda.syncthreads()
            for kk in range(tile):
                uk = u64(kk)
                acc += a_sh[uty, uk] * b_sh[uk, utx]
            cuda.syncthreads()
        if row < m and col < n:
            c[z, row, col] = acc

    return kernel


# --------------------------------------------------------------------------------------------- rung 3
@cache
def blocked_kernel(tiles: Tiles, dtype):
    """2-D register blocking (siboehm's kernels 5 and 7): each thread computes ``tm x tn`` elements of C.

    Launch: a 1-D block of ``tiles.threads`` threads per ``bm x bn`` tile of C; grid
    ``(cdiv(N, bn), cdiv(M, bm), batch)``. With ``rt = bm // tm`` and ``ct = bn // tn`` thread
    ``t = ty * ct + tx`` owns the *interleaved* rows ``ty + i * rt`` and columns ``tx + j * ct`` of the
    block's tile (i < tm, j < tn), not a contiguous ``tm x tn`` patch.

    Memory plan per k-step of depth bk: the block cooperatively copies the ``bm x bk`` tile of A and the
    ``bk x bn`` tile of B into shared memory, consecutive threads taking consecutive addresses (coalesced
    global reads, conflict-free shared writes). Then, for each of the bk columns, a thread loads ``tm``
    values of A and ``tn`` of B from shared memory into registers and does the ``tm * tn`` outer-product
    FMAs: ``tm + tn`` shared loads per ``tm * tn`` FMAs (16 per 64 for 8x8), against 2 per FMA in
    ``tiled``; each global float is reused ``bn`` (A) or ``bm`` (B) times. The accumulators live in
    registers (numba local arrays indexed by constants after unrolling; the PTX test checks that nothing
    spills to local memory). This is the step that makes the kernel compute-bound: siboehm measured
    69-71 % of cuBLAS at 4092^3 on an A6000 for it (kernels 5 and 7).

    Why interleaved ownership: with contiguous patches, the ``tn`` columns of neighbouring threads are
    ``tn`` words apart, so for ``tn = 8`` threads 0, 4, 8, 12 hit the same shared-memory bank (a 4-way
    conflict on every B load) and C is written in ``tn``-strided pieces. Interleaved, a warp reads 16
    consecutive words of B (conflict-free, the two rows of threads broadcast) and writes C in
    consecutive columns. SGEMM_CUDA instead keeps patches and stores A transposed so that it can use
    128-bit ``float4`` shared loads; numba cannot reinterpret an array as ``float4``, so here the layout
    is chosen for scalar loads.
    """
    bm, bn, bk, tm, tn = tiles.bm, tiles.bn, tiles.bk, tiles.tm, tiles.tn
    nthreads = tiles.threads
    rt, ct = bm // tm, bn // tn
    la, lb = bm * bk // nthreads, bk * bn // nthreads  # tile elements each thread loads
    zero = np.dtype(dtype).type(0)

    @cuda.jit
    def kernel(a, b, c):
        tid = cuda.threadIdx.x
        ty = tid // ct
        tx = tid % ct
        row0 = cuda.blockIdx.y * bm
        col0 = cuda.blockIdx.x * bn
        z = cuda.blockIdx.z
        za = z % a.shape[0]
        zb = z % b.shape[0]
        uza, uzb = u64(za), u64(zb)
        m, n, k_total = c.shape[1], c.shape[2], a.shape[2]

        a_sh = cuda.shared.array((bm, bk), dtype)
        b_sh = cuda.shared.array((bk, bn), dtype)
        acc = cuda.local.array((tm, tn), dtype)
        a_frag = cuda.local.array(tm, dtype)
        b_frag = cuda.local.array(tn, dtype)
        for i in range(tm):
            for j in range(tn):
                acc[i, j] = zero

        for k0 in range(0, k_total, bk):
            for r in range(la):
                e = tid + r * nthreads
                gi = row0 + e // bk
                gk = k0 + e % bk
                v = a[uza, u64(gi), u64(gk)] if gi < m and gk < k_total else zero
                a_sh[u64(e // bk), u64(e % bk)] = v
            for r in range(lb):
                e = tid + r * nthreads
                gk = k0 + e // bn
                gj = col0 + e % bn
                v = b[uzb, u64(gk), u64(gj)] if gk < k_total and gj < n else zero
                b_sh[u64(e // bn), u64(e % bn)] = v
            cuda.syncthreads()
            for kk in range(bk):
                uk = u64(kk)
                for i in range(tm):
                    a_frag[i] = a_sh[u64(ty + i * rt), uk]
                for j in range(tn):
                    b_frag[j] = b_sh[uk, u64(tx + j * ct)]
                for i in range(tm):
                    for j in range(tn):
                        acc[i, j] += a_frag[i] * b_frag[j]
            cuda.syncthreads()

        for i in range(tm):
            gi = row0 + ty + i * rt
            for j in range(tn):
                gj = col0 + tx + j * ct
                if gi < m and gj < n:
                    c[z, gi, gj] = acc[i, j]

    return kernel


# --------------------------------------------------------------------------------------------- rung 4
@cache
def prefetch_kernel(tiles: Tiles, dtype):
    """``blocked`` with double buffering (siboehm's kernels 11-12; CUTLASS's "global prefetch").

    Same launch, thread ownership and arithmetic as ``blocked_kernel``. The difference is the schedule:
    shared memory holds two buffers, ``[2, bm, bk]`` and ``[2, bk, bn]``. Before multiplying the tile in
    buffer ``s % 2`` the threads issue the global loads of tile s+1 into registers (``la + lb`` values
    per thread) and store them into the other buffer after the math; so the ~500-cycle global latency
    overlaps the FMAs instead of stalling the whole block at a barrier, and one barrier per k-step
    suffices (a thread writes buffer ``1 - s % 2`` only after everyone passed the barrier that ended the
    k-step that read it). Costs: twice the shared memory and ``la + lb`` more registers per thread.
    What it buys depends on occupancy: with several resident blocks per SM the warp scheduler already
    hides the latency (siboehm measured 74 % of cuBLAS against 69-71 % without); it pays most when
    registers limit an SM to one or two blocks. Not yet measured on a GPU here: see ``bench``.
    """
    bm, bn, bk, tm, tn = tiles.bm, tiles.bn, tiles.bk, tiles.tm, tiles.tn
    nthreads = tiles.threads
    rt, ct = bm // tm, bn // tn
    la = bm * bk // nthreads
    lb = bk * bn // nthreads
    zero = np.dtype(dtype).type(0)

    @cuda.jit
    def kernel(a, b, c):
        tid = cuda.threadIdx.x
        ty = tid // ct
        tx = tid % ct
        row0 = cuda.blockIdx.y * bm
        col0 = cuda.blockIdx.x * bn
        z = cuda.blockIdx.z
        za = z % a.shape[0]
        zb = z % b.shape[0]
        uza, uzb = u64(za), u64(zb)
        m, n, k_total = c.shape[1], c.shape[2], a.shape[2]

        a_sh = cuda.shared.array((2, bm, bk), dtype)
        b_sh = cuda.shared.array((2, bk, bn), dtype)
        a_reg = cuda.local.array(la, dtype)
        b_reg = cuda.local.array(lb, dtype)
        acc = cuda.local.array((tm, tn), dtype)
        a_frag = cuda.local.array(tm, dtype)
        b_frag = cuda.local.array(tn, dtype)
        for i in range(tm):
            for j in range(tn):
                acc[i, j] = zero

        n_steps = (k_total + bk - 1) // bk
        for step in range(-1, n_steps):
            buf = step % 2
            if step + 1 < n_steps:  # issue the global loads of tile step+1 before the math on tile step
                k0 = (step + 1) * bk
                for r in range(la):
                    e = tid + r * nthreads
                    gi = row0 + e // bk
                    gk = k0 + e % bk
                    a_reg[r] = a[uza, u64(gi), u64(gk)] if gi < m and gk < k_total else zero
                for r in range(lb):
                    e = tid + r * nthreads
                    gk = k0 + e // bn
                    gj = col0 + e % bn
                    b_reg[r] = b[uzb, u64(gk), u64(gj)] if gk < k_total and gj < n else zero
            if step >= 0:
                ub = u64(buf)
                for kk in range(bk):
                    uk = u64(kk)
                    for i in range(tm):
                        a_frag[i] = a_sh[ub, u64(ty + i * rt), uk]
                    for j in range(tn):
                        b_frag[j] = b_sh[ub, uk, u64(tx + j * ct)]
                    for i in range(tm):
                        for j in range(tn):
                            acc[i, j] += a_frag[i] * b_frag[j]
            if step + 1 < n_steps:
                nxt = 1 - buf
                for r in range(la):
                    e = tid + r * nthreads
                    a_sh[u64(nxt), u64(e // bk), u64(e % bk)] = a_reg[r]
                for r in range(lb):
                    e = tid + r * nthreads
                    b_sh[u64(nxt), u64(e // bn), u64(e % bn)] = b_reg[r]
            cuda.syncthreads()

        for i in range(tm):
            gi = row0 + ty + i * rt
            for j in range(tn):
                gj = col0 + tx + j * ct
                if gi < m and gj < n:
                    c[z, gi, gj] = acc[i, j]

    return kernel


# ------------------------------------------------------------------------------------- host wrappers
def _operands(a, b, name):
    """(a3, b3, c3, c): 3-D C-contiguous views of a and b, an output c3 and the value to return."""
    dtype = check_float_pair(name, a, b)
    sa, sb = tuple(a.shape), tuple(b.shape)  # plain tuples: a simulator array's shape rejects [-1]
    if len(sa) not in (2, 3) or len(sb) not in (2, 3):
        raise ValueError(f"{name}: expected 2-D or 3-D (batched) arrays, got shapes {sa} and {sb}")
    if sa[-1] != sb[-2]:
        raise ValueError(f"{name}: inner dimensions differ: {sa} @ {sb}")
    ba = sa[0] if len(sa) == 3 else 1
    bb = sb[0] if len(sb) == 3 else 1
    if ba != bb and 1 not in (ba, bb):
        raise ValueError(f"{name}: batch sizes {ba} and {bb} do not broadcast")
    m, n = sa[-2], sb[-1]
    a3 = contiguous(a).reshape((ba,) + sa[-2:])
    b3 = contiguous(b).reshape((bb,) + sb[-2:])
    batch = max(ba, bb)
    c3 = empty(a3, (batch, m, n), dtype)
    c = c3 if (len(sa) == 3 or len(sb) == 3) else c3.reshape(m, n)
    return a3, b3, c3, c


def matmul_naive(a, b, *, block=(16, 16)):
    """``a @ b`` with ``naive_kernel``; ``block`` = (threads along N, threads along M)."""
    a3, b3, c3, c = _operands(a, b, "matmul_naive")
    _, m, n = c3.shape
    if 0 not in c3.shape:
        grid = (cdiv(n, block[0]), cdiv(m, block[1]), c3.shape[0])
        naive_kernel(c3.dtype)[grid, block](a3, b3, c3)
    return c


def matmul_tiled(a, b, *, tile=32):
    """``a @ b`` with ``tiled_kernel``: ``tile x tile`` threads per block and shared tiles."""
    a3, b3, c3, c = _operands(a, b, "matmul_tiled")
    _, m, n = c3.shape
    if 0 not in c3.shape:
        grid = (cdiv(n, tile), cdiv(m, tile), c3.shape[0])
        tiled_kernel(tile, c3.dtype)[grid, (tile, tile)](a3, b3, c3)
    return c


def _launch_blocked(factory, a, b, tiles, name):
    a3, b3, c3, c = _operands(a, b, name)
    _, m, n = c3.shape
    if 0 not in c3.shape:
        grid = (cdiv(n, tiles.bn), cdiv(m, tiles.bm), c3.shape[0])
        factory(tiles, c3.dtype)[grid, tiles.threads](a3, b3, c3)
    return c


def matmul_blocked(a, b, *, tiles=Tiles()):
    """``a @ b`` with ``blocked_kernel`` (2-D register blocking) at the given ``Tiles``."""
    return _launch_blocked(blocked_kernel, a, b, tiles, "matmul_blocked")


def matmul_prefetch(a, b, *, tiles=Tiles()):
    """``a @ b`` with ``prefetch_kernel`` (register blocking + double-buffered shared memory)."""
    return _launch_blocked(prefetch_kernel, a, b, tiles, "matmul_prefetch")


LADDER = {
    "naive": matmul_naive,
    "tiled": matmul_tiled,
    "blocked": matmul_blocked,
    "prefetch": matmul_prefetch,
}


def matmul(a, b, *, tiles=Tiles()):
    """``a @ b`` with NumPy ``matmul`` semantics on ``matmul_blocked`` (``minigan.kernels`` dispatches here).

    Mixed float32/float64 operands compute in float64 (NumPy's promotion); other dtypes go to the array
    library's own matmul. 1-D operands are promoted to a row (a) or a column (b) and the added axis removed
    from the result;
    leading batch dimensions broadcast against each other and are flattened onto grid axis z (operands
    whose batch was broadcast are copied to their full batch first).
    """
    sa, sb = tuple(a.shape), tuple(b.shape)
    if not sa or not sb:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes {sa} and {sb}")
    if np.result_type(np.dtype(a.dtype), np.dtype(b.dtype)) not in FLOAT_DTYPES:
        return _array_module(a).matmul(a, b)  # integers, float16: not what these kernels are for
    a, b = promote("matmul", a, b)
    a2 = a.reshape((1,) + sa) if len(sa) == 1 else a
    b2 = b.reshape(sb + (1,)) if len(sb) == 1 else b
    batch_a, batch_b = tuple(a2.shape[:-2]), tuple(b2.shape[:-2])
    if len(batch_a) <= 1 and len(batch_b) <= 1:
        c = matmul_blocked(a2, b2, tiles=tiles)
        batch = tuple(c.shape[:-2])
    else:
        try:
            batch = tuple(np.broadcast_shapes(batch_a, batch_b))
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of {sa} and {sb} do not broadcast") from None
        xp = _array_module(a2)
        m, k, n = a2.shape[-2], a2.shape[-1], b2.shape[-1]
        a3 = xp.ascontiguousarray(xp.broadcast_to(a2, batch + (m, k))).reshape(-1, m, k)
        b3 = xp.ascontiguousarray(xp.broadcast_to(b2, batch + (k, n))).reshape(-1, k, n)
        c = matmul_blocked(a3, b3, tiles=tiles)
    m, n = a2.shape[-2], b2.shape[-1]
    shape = batch + ((m,) if len(sa) > 1 else ()) + ((n,) if len(sb) > 1 else ())
    return c.reshape(shape)


def _array_module(a):
    if kind(a) == "cupy":
        import cupy  # noqa: PLC0415 - only with a CuPy array in hand

        return cupy
    if kind(a) == "numba":
        raise ValueError("matmul: numba device arrays are supported with at most one batch dimension")
    return np
