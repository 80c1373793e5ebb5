# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 03 — Matrix multiplication kernels
#
# Almost every floating-point operation a GAN performs is a multiply-add inside a matrix product: the
# linear layers are matmuls, and chapter 04 turns every convolution into one. So the speed of a training
# step is, to first order, the speed of `C = A @ B`. This chapter writes that kernel four times in Numba,
# each time fixing the one thing that made the previous version slow, and measures what each step buys
# against OpenBLAS (what `numpy.matmul` calls).
#
# The ladder lives in `kernels/cpu/matmul.py` (installed as `minigan.kernels.cpu.matmul`); the GPU ladder
# (naive -> shared-memory tiles -> register blocking -> double buffering, in numba-cuda) in
# `kernels/cuda/matmul.py`. `minigan.kernels.dispatch` decides which one minigan uses.
#
# **Run it:** `python tutorials/03_matmul_kernels.py`. `MINIGAN_QUICK=1` shrinks it to seconds (small
# matrices, one timing round). The full version takes about 40 s on the 2-core AMD EPYC (Zen 5) the
# numbers in `kernels/RESULTS.md` come from, most of it compiling the kernels once (Numba caches them on
# disk, so a second run is faster; `python -m minigan.kernels.warm --jobs 2` compiles every CPU kernel
# ahead of time, in two processes side by side); no GPU was available, so no GPU timings appear here.

# %%
import inspect
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import minigan.kernels as K
import numba
import numpy as np
from minigan.kernels import reference
from minigan.kernels.cpu import matmul as cpu_matmul

T0 = time.perf_counter()
QUICK = os.environ.get("MINIGAN_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("MINIGAN_OUT") or ("_out" if Path.cwd().name == "tutorials" else "tutorials/_out"))
OUT.mkdir(parents=True, exist_ok=True)


def save(fig, name):
    """Save a figure under OUT; show it too when running the full chapter."""
    fig.savefig(OUT / name, dpi=120, bbox_inches="tight")
    print(f"saved {OUT / name}")
    if not QUICK:
        plt.show()
    plt.close(fig)


# %% [markdown]
# ## 1. What a matmul costs: FLOPs, bytes and the roofline
#
# For `A (M, K) @ B (K, N) = C (M, N)`, `C[i, j] = sum_k A[i, k] B[k, j]`: M N K multiply-adds, i.e.
# **2 M N K floating-point operations**. The data is only (M K + K N + M N) numbers, 4 bytes each in
# float32. For square n x n matrices that is 2 n^3 flops over 12 n^2 bytes: the *arithmetic intensity*
# (flops per byte that must come from memory at least once) grows like n / 6.
#
# The roofline model turns that into a floor on the time: a kernel can go no faster than
# `max(flops / peak_flops, bytes / memory_bandwidth)`. With n = 1024, 2 GFLOP against 12 MiB: a CPU
# core doing ~100-200 GFLOP/s needs ~10-20 ms for the arithmetic, while 12 MiB at ~20 GB/s takes
# ~0.6 ms. **A big matmul is compute-bound, if the kernel reuses each number it loads many times.**
# The naive kernel does not: it re-reads B from memory for every row of C. Everything below is about
# reuse: in the cache (blocking) and in registers (the register tile).


# %%
def intensity(n, itemsize=4):
    """Flops per byte of compulsory traffic for an n x n x n matmul."""
    return 2 * n**3 / (3 * n * n * itemsize)


for n in (64, 256, 1024, 4096):
    print(
        f"n = {n:5d}: {2 * n**3 / 1e9:8.3f} GFLOP, {3 * n * n * 4 / 2**20:7.1f} MiB, {intensity(n):6.1f} flop/byte"
    )

# %% [markdown]
# ## 2. The ladder
#
# Four kernels, one idea each. All are `@njit(..., error_model="numpy", boundscheck=False, cache=True)`,
# cached on disk, with one of three fast-math sets named in `kernels/cpu/matmul.py`: `DOT`
# (`{reassoc, contract}`: LLVM may reorder a dot product's sum to use SIMD lanes and fused multiply-adds)
# for the dot-product tiles and the naive rung, `FMA` (`{contract}`) for axpy loops, `STRICT` (none) for
# packing and data movement. Only as much licence as each loop needs: reordering is also what can make
# two compilations of one kernel round differently (README, "Determinism"). Here is every rung's source,
# exactly as minigan runs it.

# %%
for name, fn in cpu_matmul.LADDER.items():
    print(f"# ---- rung: {name} " + "-" * 70)
    print(inspect.getsource(fn.py_func))

# %% [markdown]
# **naive (i-j-k)** walks a *column* of B in its inner loop: consecutive `b[k, j]` are N floats apart, so
# every multiply-add pulls a new cache line and nothing can be vectorised.
#
# **ikj** swaps two loops. Now the inner loop is `c[i, :] += a[i, k] * b[k, :]`: two unit-stride rows,
# which LLVM turns into SIMD FMAs. Same arithmetic, different memory order.
#
# **parallel** hands rows of C to threads with `prange`. No two threads write the same row, so there is
# nothing to lock; but both threads stream all of B, so memory bandwidth, not arithmetic, limits it.
#
# **blocked** is the fast one, and it needs two pieces: the *packing* (Goto and van de Geijn's
# "Anatomy of high-performance matrix multiplication") and the *register tile*:

# %%
print(inspect.getsource(cpu_matmul.gemm_nt_tile.py_func))

# %% [markdown]
# A panel of B, KC deep and NC wide, is copied once, **transposed**, into a contiguous buffer that fits
# in the L2 cache; then every row of A is multiplied against it. The register tile computes 16 dot
# products at once (4 rows of A x 4 columns of B): the 16 partial sums are plain local variables, which
# LLVM keeps in 16 SIMD registers while k runs, so each step loads 8 vectors and does 16 vector FMAs,
# and nothing is written back until the end. Why dot products rather than the textbook "outer-product"
# micro-kernel that keeps a tile of C in registers? Numba has no SIMD vector type, and LLVM only keeps a
# *memory* tile in registers if it can prove it does not overlap the inputs, which it cannot for Numba
# arrays; scalar sums in local variables need no such proof. (The axpy-style `gemm_tile`, which keeps 4 x 4
# of A in registers and streams rows of C through L1, is the other kernel in the file; chapter 04 uses it
# where the dot products would be too short.)
#
# ## 3. Every rung is correct
#
# The test suite (`tests/kernels/`) checks every rung against the float64 reference on hypothesis-drawn
# shapes; here is the same check on one awkward shape (no dimension a multiple of the 4 x 4 tile):

# %%
rng = np.random.default_rng(0)
m, k, n = 67, 131, 45
a = rng.standard_normal((m, k)).astype(np.float32)
b = rng.standard_normal((k, n)).astype(np.float32)
ref = reference.matmul(a.astype(np.float64), b.astype(np.float64))
for name, fn in cpu_matmul.LADDER.items():
    c = fn(a, b)
    assert c.shape == (m, n) and c.dtype == np.float32
    err = np.abs(c - ref).max() / np.abs(ref).max()
    print(f"{name:9s} shape {c.shape}  max|c - ref| / max|ref| = {err:.1e}")
    assert err < 1e-5

# %% [markdown]
# ## 4. What each step buys
#
# Timing on a shared machine is noisy, so each kernel gets a warm-up call (compilation) and then the
# best of several runs, candidates taking turns. The full table at 256, 512 and 1024, with 2 threads, is
# produced by `python -m minigan.kernels.bench --only matmul` and recorded in `kernels/RESULTS.md`.

# %%
size = 128 if QUICK else 512
rounds = 1 if QUICK else 5
a = rng.standard_normal((size, size)).astype(np.float32)
b = rng.standard_normal((size, size)).astype(np.float32)
candidates = {"numpy (OpenBLAS)": lambda: a @ b}
candidates.update({name: (lambda fn=fn: fn(a, b)) for name, fn in cpu_matmul.LADDER.items()})
for fn in candidates.values():
    fn()
best = dict.fromkeys(candidates, float("inf"))
for _ in range(rounds):
    for name, fn in candidates.items():
        t0 = time.perf_counter()
        fn()
        best[name] = min(best[name], time.perf_counter() - t0)
flops = 2 * size**3
print(f"n = {size}, {numba.get_num_threads()} Numba threads")
print(f"{'kernel':18s} {'ms':>9s} {'GFLOP/s':>9s} {'vs BLAS':>8s}")
for name, t in best.items():
    print(f"{name:18s} {t * 1e3:9.2f} {flops / t / 1e9:9.1f} {best['numpy (OpenBLAS)'] / t:8.2f}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
names = list(best)
ax.barh(names, [flops / best[k] / 1e9 for k in names], color=["gray"] + ["C0"] * (len(names) - 1))
ax.set_xlabel("GFLOP/s (higher is better)")
ax.set_title(f"float32 matmul, n = {size}")
ax.invert_yaxis()
save(fig, "03_matmul_ladder.png")

# %% [markdown]
# On the machine of `kernels/RESULTS.md` (2 cores, shared, one thread per kernel, CPU time), at n = 1024:
#
# | rung | GFLOP/s | vs OpenBLAS |
# |---|---:|---:|
# | naive | ~2 (n = 512) | 0.01 |
# | ikj | 50 | 0.40 |
# | blocked | 140 | 1.13 |
# | OpenBLAS | 124 | 1.00 |
#
# The loop order alone is a 25x step; the cache blocking with the register tile another ~3x. Parallel
# (rung 3) adds nothing on one thread, and little on two: both threads are waiting on memory.
#
# ## 5. The roofline, measured
#
# Plotting each measured rung at its arithmetic intensity shows which wall it hits. The compute roof is
# what the fastest kernel reached here (a lower bound on the true peak); the memory roof assumes
# ~20 GB/s of DRAM bandwidth for one core.

# %%
peak = max(flops / t for t in best.values()) / 1e9
bandwidth = 20.0  # GB/s, a typical single-core DRAM stream
x = np.logspace(-1, 3, 200)
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.loglog(x, np.minimum(peak, bandwidth * x), "k-", label="roofline")
for name, t in best.items():
    ax.loglog(intensity(size), flops / t / 1e9, "o", label=name)
ax.set_xlabel("arithmetic intensity (flop / byte of compulsory traffic)")
ax.set_ylabel("GFLOP/s")
ax.legend(fontsize=7)
save(fig, "03_roofline.png")

# %% [markdown]
# Every rung has the *same* compulsory intensity; the slow ones fall far below the roof because they
# do not achieve it: their real traffic (re-reading B per row, C per step) is many times the compulsory
# 12 n^2 bytes. Blocking is what closes the gap.
#
# ## 6. The GPU ladder
#
# `kernels/cuda/matmul.py` climbs the same ladder in numba-cuda, after siboehm's SGEMM_CUDA: one thread per
# element of C; shared-memory tiles, so each element of A and B is read from global memory once per tile;
# 2-D register blocking, each thread computing a tm x tn sub-tile in registers; and double-buffered
# shared memory. Its source, when the CUDA package imports here:

# %%
try:
    from minigan.kernels.cuda import matmul as cuda_matmul

    print(inspect.getsource(cuda_matmul.blocked_kernel))
except Exception as err:  # numba-cuda missing, or the CUDA package not there yet
    print(f"(kernels.cuda not importable here: {err})")

# %% [markdown]
# **No GPU was available where this chapter was written, so there are no GPU timings here**; the kernels
# are tested for correctness under Numba's CUDA simulator (`tests/cudasim/`). On a machine with CuPy and a
# GPU, `python -m minigan.kernels.bench --only gpu` measures them against cuBLAS.
#
# ## 7. Which kernel minigan uses
#
# `minigan.kernels.dispatch` picks by device and by a switch you can flip:

# %%
print("CPU matmul default:", K.current("matmul", "cpu"))
with K.use("kernels"):
    c = K.matmul(a, b)
    print("inside use('kernels'):", K.current("matmul", "cpu"), c.shape)
assert np.allclose(c, a @ b, rtol=1e-3, atol=1e-3)

# %% [markdown]
# The CPU default stays OpenBLAS: the blocked kernel matches or beats it on large square matrices, but
# loses on the small and skinny products of a GAN's linear layers (e.g. (64, 100) @ (100, 6272) in the
# DCGAN generator), where starting threads and packing panels costs more than the arithmetic.
#
# ## Summary
#
# - A matmul is 2 M N K flops over O(MK + KN + MN) data: plenty of reuse is available, and speed is a
#   question of whether the kernel achieves it.
# - Loop order decides unit-stride access and vectorisation (25x); cache blocking and a register tile
#   decide reuse (another ~3x); together a page of Numba matches OpenBLAS on one core.
# - Numba has no vector types: keep the register tile in local scalar variables, and let LLVM vectorise
#   the loop over k.
#
# ## Exercises
#
# 1. Change `KC`, `NC` and `MC` in `kernels/cpu/matmul.py` and re-run section 4. Which one matters most,
#    and which cache does each one size?
# 2. Make the register tile 4 x 6 (24 sums). Does it get faster? Count the SIMD registers it needs
#    (x86 with AVX-512 has 32).
# 3. Time `matmul_blocked` and `a @ b` for (64, 100) @ (100, 6272). Where does the time go? (Try
#    `numba.set_num_threads(1)`.)
# 4. Compile `gemm_nt_tile` with `STRICT` instead of `DOT` and measure again. Why can LLVM no longer
#    vectorise the dot products?

# %%
print(f"chapter 03 ran in {time.perf_counter() - T0:.1f} s")
