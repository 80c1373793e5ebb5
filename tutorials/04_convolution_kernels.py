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
# # Chapter 04 — Convolution kernels
#
# A DCGAN is made of strided convolutions (the discriminator, downsampling) and transposed convolutions
# (the generator, upsampling). Training needs three passes of each: the forward pass, the gradient with
# respect to the input, and the gradient with respect to the weight. This chapter shows that all six are
# **the same three computations**, writes them several ways (direct loops, per-image im2col + GEMM, the
# vendor BLAS baseline, and the packed batch-level GEMMs that minigan uses by default), checks that the
# transposed convolution is exactly the adjoint of the convolution, and measures the four DCGAN-MNIST
# layers.
#
# Code (the repository's `kernels/` folder, installed as `minigan.kernels`): `kernels/reference.py` (the
# NumPy definitions), `kernels/cpu/conv.py` and `kernels/cpu/conv_packed.py` (Numba), `kernels/cuda/conv.py`
# (the GPU's implicit GEMM), chosen by `minigan.kernels.dispatch`.
#
# **Run it:** `python tutorials/04_convolution_kernels.py`. `MINIGAN_QUICK=1` shrinks it to seconds
# (batch 2 instead of 64). The full version ran in 2.5 s with a warm Numba cache on the shared 2-core AMD
# EPYC (Zen 5) of `kernels/RESULTS.md` (the first run compiles the Numba kernels: 1-2 minutes); no GPU
# was available.

# %%
import inspect
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import minigan.kernels as K
import numpy as np
from minigan.kernels import reference as R
from minigan.kernels.cpu import conv as cpu_conv
from minigan.kernels.cpu import conv_packed
from minigan.kernels.dispatch import conv_kernels

import minigan as mg
import minigan.nn.functional as F

T0 = time.perf_counter()
QUICK = os.environ.get("MINIGAN_QUICK", "") not in ("", "0")
OUT = Path(os.environ.get("MINIGAN_OUT") or ("_out" if Path.cwd().name == "tutorials" else "tutorials/_out"))
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)


def save(fig, name):
    """Save a figure under OUT; show it too when running the full chapter."""
    fig.savefig(OUT / name, dpi=120, bbox_inches="tight")
    print(f"saved {OUT / name}")
    if not QUICK:
        plt.show()
    plt.close(fig)


# %% [markdown]
# ## 1. The definition
#
# x (N, C, H, W), w (O, C, kh, kw), stride (sh, sw), zero padding (ph, pw):
#
# $$y[n, o, i, j] = \sum_{c, a, b} w[o, c, a, b]\; x[n, c,\; i s_h - p_h + a,\; j s_w - p_w + b]$$
#
# (zero outside x), with Ho = (H + 2 ph - kh) // sh + 1. That is 2 N O C kh kw Ho Wo flops. The NumPy
# reference writes it as a loop over the kh x kw kernel taps, each tap a strided slice times a matrix:

# %%
print(inspect.getsource(R.conv2d_forward))

# %% [markdown]
# ## 2. Three ways to compute it
#
# **Direct.** Loop over outputs and taps (`conv2d_direct`). No extra memory, but every multiply-add
# re-reads its operands: for a 64 -> 128 channel layer, each input pixel is read O kh kw = 2048 times.
#
# **im2col + GEMM.** Copy the patch each output position sees into a row of a matrix `cols` (P, C kh kw),
# P = Ho Wo. Then the convolution is one matrix product, `y[n] (O, P) = w (O, C kh kw) . cols^T`, and
# chapter 03's register-tiled kernel does it at matmul speed. The price is the copy: cols is about
# kh kw / (sh sw) = 4 times bigger than x for the DCGAN layers. minigan does it one image at a time per
# thread, so cols (200 KiB for the 64 -> 128 layer) stays in the L2 cache.
#
# **Implicit GEMM.** Never write cols: the GEMM kernel gathers its tiles straight from x. That is what
# cuDNN, CUTLASS and minigan's CUDA kernel (`kernels/cuda/conv.py`) do; on the CPU the per-image cols is
# already cache-resident, so materialising it costs little.
#
# Here is im2col on a tiny image, 1 channel, 4 x 4, a 2 x 2 kernel with stride 2 and padding 1:

# %%
x_small = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
xpad = np.zeros((1, 6, 6), np.float32)
cpu_conv.pad_image(x_small, 0, 1, 1, xpad)
cols = np.empty((9, 4), np.float32)
cpu_conv.im2col_image(xpad, 2, 2, 2, 2, 3, 3, cols)
print("x =\n", x_small[0, 0])
print("cols (one row per output position, one column per kernel tap) =\n", cols)
assert cols.shape == (3 * 3, 1 * 2 * 2)

# %%
fig, axes = plt.subplots(1, 2, figsize=(7, 3))
axes[0].imshow(xpad[0], cmap="viridis")
axes[0].set_title("padded x (4 x 4 + padding 1)")
axes[1].imshow(cols, cmap="viridis", aspect="auto")
axes[1].set_title("cols: P = 9 patches x 4 taps")
axes[1].set_xlabel("tap (a, b)")
axes[1].set_ylabel("output position")
save(fig, "04_im2col.png")

# %% [markdown]
# ## 3. Both backward passes are convolutions
#
# y is bilinear in (x, w). With `<a, b> = sum(a * b)`, the two gradients of `<conv(x, w), gy>` are
#
# - **gx = conv^T(gy, w)**: every output position scatters `w^T gy` back onto the patch it read; in
#   im2col form `gcols = gy^T w` followed by col2im (the adjoint of im2col: add each patch row back onto
#   its pixels, overlapping patches summing);
# - **gw = corr(x, gy)**: correlate the input with the output gradient; in im2col form `gy (O, P) @ cols`.
#
# and `<conv(x, w), gy> = <x, conv^T(gy, w)> = <w, corr(x, gy)>`. The transposed convolution of a
# generator (`F.conv_transpose2d`) *is* conv^T with its weight read as a conv weight, so the six passes of
# a conv layer and a transposed-conv layer are the same three functions. The dot-product test checks the
# adjoint identity numerically on random tensors:

# %%
x = rng.standard_normal((2, 3, 9, 8))
w = rng.standard_normal((4, 3, 4, 4))
y = R.conv2d_forward(x, w, stride=2, padding=1)
gy = rng.standard_normal(y.shape)
gx = R.conv2d_backward_input(gy, w, x.shape, stride=2, padding=1)
gw = R.conv2d_backward_weight(x, gy, w.shape, stride=2, padding=1)
print(f"<conv(x, w), gy>  = {np.sum(y * gy):.10f}")
print(f"<x, conv^T(gy, w)> = {np.sum(x * gx):.10f}")
print(f"<w, corr(x, gy)>   = {np.sum(w * gw):.10f}")
assert np.isclose(np.sum(y * gy), np.sum(x * gx)) and np.isclose(np.sum(y * gy), np.sum(w * gw))

# %% [markdown]
# Through minigan's autograd, `minigan.testing.gradcheck` compares the backward passes with finite
# differences, on every implementation of the dispatch switch, for the transposed convolution of a
# generator layer (k4, s2, p1):

# %%
from minigan.testing import gradcheck  # noqa: E402

xt = mg.tensor(rng.standard_normal((2, 3, 3, 3)), dtype=np.float64, requires_grad=True)
wt = mg.tensor(rng.standard_normal((3, 2, 4, 4)), dtype=np.float64, requires_grad=True)
for impl in K.IMPLS:
    with K.use(impl):
        out = F.conv_transpose2d(xt, wt, stride=2, padding=1)
        assert out.shape == (2, 2, 6, 6)
        ok = gradcheck(lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1), [xt, wt])
    print(f"{impl:9s}: output {out.shape}, gradcheck {ok}")

# %% [markdown]
# ## 4. The hand-written CPU kernels, first version: one image at a time
#
# The forward pass of the per-image im2col + GEMM family: threads take whole images; each pads its image,
# unrolls it into cols, and runs the dot-product register tile of chapter 03:

# %%
print(inspect.getsource(cpu_conv._conv2d_gemm.py_func))

# %% [markdown]
# The weight gradient sums over images, so each thread keeps a private partial sum and they are added at
# the end (no atomics); the input gradient's col2im writes only into the thread's own images (no races).
# Every family matches the float64 reference (the tests draw hundreds of geometries; here one):

# %%
xs = rng.standard_normal((3, 5, 11, 10)).astype(np.float32)
ws = rng.standard_normal((6, 5, 3, 4)).astype(np.float32)
y_ref = R.conv2d_forward(xs.astype(np.float64), ws.astype(np.float64), (2, 3), (1, 2))
for family in ("packed", "gemm", "direct", "im2col_blas"):
    y_f = conv_kernels(family)["conv2d"](xs, ws, (2, 3), (1, 2))
    assert y_f.shape == y_ref.shape
    print(
        f"{family:12s} y {y_f.shape}: max|y - ref| / max|ref| = {np.abs(y_f - y_ref).max() / np.abs(y_ref).max():.1e}"
    )

# %% [markdown]
# ## 5. The DCGAN-MNIST layers
#
# All four layers of the DCGAN of chapter 08 are 4 x 4 kernels with stride 2 and padding 1. For each, the
# forward pass and both gradients, per implementation (best of a few runs; the machine is shared).
# `packed` is minigan's default family, the subject of section 6.

# %%
from minigan.kernels.bench import DCGAN_LAYERS, best_times, conv_passes  # noqa: E402

batch = 2 if QUICK else 64
rounds = 1 if QUICK else 3
families = ("packed", "gemm", "im2col_blas") if not QUICK else ("packed", "gemm", "im2col_blas", "direct")
results = {}
for name, kind, cin, cout, h in DCGAN_LAYERS:
    xl = rng.standard_normal((batch, cin, h, h)).astype(np.float32)
    if kind == "conv":
        wl, out = rng.standard_normal((cout, cin, 4, 4)).astype(np.float32), h // 2
    else:
        wl, out = rng.standard_normal((cin, cout, 4, 4)).astype(np.float32), 2 * h
    gyl = rng.standard_normal((batch, cout, out, out)).astype(np.float32)
    cands = {}
    for fam in families:
        for i, fn in enumerate(conv_passes(kind, xl, wl, gyl, conv_kernels(fam))):
            cands[(fam, i)] = fn
    times = best_times(cands, rounds, burst=1)
    results[name] = {fam: [times[(fam, i)] * 1e3 for i in range(3)] for fam in families}
    cells = "  ".join(f"{fam} {sum(results[name][fam]):7.2f} ms" for fam in families)
    print(f"{name:22s} {cells}")

# %%
fig, ax = plt.subplots(figsize=(8, 3.4))
width = 0.8 / len(families)
for k, fam in enumerate(families):
    ax.bar(np.arange(len(results)) + k * width, [sum(results[n][fam]) for n in results], width, label=fam)
ax.set_xticks(np.arange(len(results)) + width * (len(families) - 1) / 2, list(results), fontsize=8)
ax.set_ylabel("forward + both gradients (ms)")
ax.set_title(f"DCGAN-MNIST layers, batch {batch}")
ax.legend()
save(fig, "04_dcgan_layers.png")

# %% [markdown]
# ## 6. Rearranging the data: the packed family (minigan's default)
#
# The per-image version loses to PyTorch by about 2x on the big layers, and not in its multiply-adds
# (its register tile runs at ~180-240 GFLOP/s in cache): im2col copies runs of only kw = 4 numbers, the
# weight gradient's GEMM is 64 small products whose inner dimension is P = 49, the input gradient's
# col2im scatters, and a 49th column of every image falls outside the 4 x 4 tiles. `kernels/cpu/conv_packed.py`
# keeps the tile and changes what it is fed, one idea per pass:
#
# - **Forward: channels last.** Copy x once to a padded NHWC array. A patch row `a` is then one
#   contiguous run of kw*C numbers (256 for the 64 -> 128 layer), so a panel of 6 patches is 24 memcpys;
#   positions of all images form one stream, and the weight is repacked once to the same (a, b, c) order.
# - **Input gradient: sub-pixel phases.** With stride 2 and a 4 x 4 kernel, gx pixel (u, v) only meets
#   the taps a = (u + 1) mod 2 + 2m, b = (v + 1) mod 2 + 2m': gx splits into 4 interleaved "phases",
#   each a dense stride-1 convolution of gy with a 2 x 2 sub-kernel. No multiplications by the zeros a
#   transposed convolution inserts, no col2im: each gx pixel is written once. In NumPy:


# %%
def subpixel_backward_input(gy, w, h, wd):
    """gx = conv^T(gy, w) for k4, s2, p1, phase by phase (the idea of conv_packed's input gradient)."""
    n, o, ho, wo = gy.shape
    gyp = np.pad(gy, ((0, 0), (0, 0), (1, 1), (1, 1)))  # gy[i] at gyp[i + 1]: taps past the edge read 0
    gx = np.zeros((n, w.shape[1], h, wd))
    for r in (0, 1):
        for s in (0, 1):
            us, vs = np.arange(1 - r, h, 2), np.arange(1 - s, wd, 2)  # the pixels with (u + 1) % 2 == r
            T, V = (us + 1) // 2, (vs + 1) // 2
            for m in (0, 1):
                for mm in (0, 1):  # tap (r + 2m, s + 2mm) reads gy at (T - m, V - mm)
                    patch = gyp[:, :, T - m + 1][:, :, :, V - mm + 1]
                    tap = w[:, :, r + 2 * m, s + 2 * mm]
                    gx[:, :, us[:, None], vs[None, :]] += np.einsum("nouv,oc->ncuv", patch, tap)
    return gx


gy8 = rng.standard_normal((2, 5, 4, 4))
w8 = rng.standard_normal((5, 3, 4, 4))
gx_phases = subpixel_backward_input(gy8, w8, 8, 8)
gx_ref = R.conv2d_backward_input(gy8, w8, (2, 3, 8, 8), stride=2, padding=1)
print(f"sub-pixel phases vs conv^T: max |difference| = {np.abs(gx_phases - gx_ref).max():.1e}")
assert np.allclose(gx_phases, gx_ref)

# %% [markdown]
# - **Weight gradient: one GEMM over the batch.** gw (O, CK) = gy (O, N*P) . cols (CK, N*P)^T, a single
#   contraction over all 3136 positions of the batch instead of 49 per image. Each row of the transposed
#   patch matrix must be contiguous for the dot-product tile; `phase_planes` copies x batch-innermost and
#   split by stride phase so that it is, without building the matrix (about kw/sw = 2 times the size of x).
# - Threads own disjoint outputs in every pass (positions, phases' pixels, columns of gw): no reductions.
#
# Two details cost as much as the ideas: Numba compiles `dst[:] = src` with an overlap check and a
# temporary (a loop over 1-D views is ~8x faster), and buffers whose rows are exactly 4 KiB apart made the
# run time flip between 3.9 and 5.3 ms with the heap's layout (rows are padded by `lead`). The sub-pixel
# kernel as minigan runs it:

# %%
print(inspect.getsource(conv_packed._conv2d_backward_input_subpixel.py_func))

# %% [markdown]
# Measured on the machine of `kernels/RESULTS.md` (one thread, CPU time, batch 64; forward + both
# gradients, ms):
#
# | layer | kernels: packed | per-image im2col + GEMM | vendor: im2col + BLAS | direct | PyTorch CPU |
# |---|---:|---:|---:|---:|---:|
# | Conv 1->64, 28->14 | 1.65 | 2.67 | 2.08 | 26 | 2.41 |
# | Conv 64->128, 14->7 | 14.8 | 26.5 | 34.0 | 997 | 12.1 |
# | ConvT 128->64, 7->14 | 14.4 | 26.1 | 32.7 | 998 | 11.8 |
# | ConvT 64->1, 14->28 | 1.64 | 2.65 | 2.13 | 26 | 2.38 |
#
# The packed family is minigan's CPU default: 1.22x PyTorch on the big layers (the per-image version:
# 2.2x) and 0.69x on the small ones. PyTorch (oneDNN's JIT-compiled AVX-512 kernels) keeps a tile of
# outputs in vector registers and never reduces across a vector; the dot-product tile pays one horizontal
# reduction per output per dot product (~10% of the loop at length 1024, ~20% at the input gradient's
# 512). Direct loops are 40-80x slower than any GEMM: the reuse that the register tile gets from each
# load is exactly what they lack.
#
# ## Summary
#
# - Forward, input gradient and weight gradient are three contractions of the same product; the
#   transposed convolution is the input gradient, i.e. the adjoint, checked by `<Ax, y> = <x, A^T y>`.
# - im2col turns each pass into a matmul at the price of a kh kw / (sh sw)-times larger copy; doing it
#   per image keeps that copy in cache. Implicit GEMM (the GPU kernel) removes the copy altogether.
# - What makes the CPU kernels fast is the layout, not new arithmetic: channels-last panels, sub-pixel
#   phases for the transposed convolution, and one batch-wide GEMM for the weight gradient, each feeding
#   the same register tile long contiguous dot products.
#
# ## Exercises
#
# 1. Write `conv2d_backward_input` as a *gather* (for each input pixel, sum over the taps that reach it)
#    and check it against the reference. Which (a, b) taps reach pixel (ih, iw) when the stride is 2?
# 2. Generalise `subpixel_backward_input` to any kernel, stride and padding (how many taps does a phase
#    have when the kernel is not a multiple of the stride? which phases have none?) and compare with
#    `conv_packed._conv2d_backward_input_subpixel`, which does it.
# 3. The packed forward pass spends ~0.3 ms on the NCHW -> NHWC copy of x. In a network, the backward
#    pass needs the same copy again; sketch a cache that would let the two share it, and the ways it
#    could go stale.

# %%
print(f"chapter 04 ran in {time.perf_counter() - T0:.1f} s")
