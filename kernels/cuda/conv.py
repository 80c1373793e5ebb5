"""2-D convolution on an NVIDIA GPU in numba-cuda: all three passes as one implicit GEMM (chapter 04).

Notation (NCHW, float32 or float64): ``x (N, C, H, W)``, ``w (O, C, KH, KW)``, stride ``(SH, SW)``,
padding ``(PH, PW)``, output ``y (N, O, OH, OW)`` with ``OH = (H + 2 PH - KH) // SH + 1`` (same for W).

    y[n, o, oh, ow] = sum_{c, kh, kw} w[o, c, kh, kw] * x[n, c, oh SH - PH + kh, ow SW - PW + kw]

(x is zero outside the image). Each pass is a matrix product ``R[M, Ncols] = P[M, K] @ Q[K, Ncols]`` whose
operands are *gathered* from the tensors on the fly, so the im2col matrix (KH KW times bigger than x) is
never written to memory ("implicit GEMM", as in cuDNN and CUTLASS):

=================  =====  ==============  ==========  =====================  ===========================
pass               M      Ncols           K           P[i, k]                Q[k, j]
=================  =====  ==============  ==========  =====================  ===========================
forward            O      N OH OW         C KH KW     w[o, c, kh, kw]        x[n, c, ih, iw] (im2col)
grad input (gx)    C      N H W           O KH KW     w[o, c, kh, kw]        gy[n, o, oh, ow] if the
 = conv_transpose                                                            tap hits the stride grid
grad weight (gw)   O      C KH KW         N OH OW     gy[n, o, oh, ow]       x[n, c, ih, iw] (im2col^T)
=================  =====  ==============  ==========  =====================  ===========================

The gradient w.r.t. the input is written as a *gather*: ``gx[n, c, ih, iw]`` sums ``w[o, c, kh, kw] *
gy[n, o, oh, ow]`` over the taps with ``ih = oh SH - PH + kh``, i.e. ``oh = (ih + PH - kh) / SH`` when that
division is exact and in range. That is exactly ``conv_transpose2d(gy, w, stride, padding)``, and needs no
atomics. The weight gradient has a short M x Ncols and a very long K (the whole batch), so its K is split
over grid axis z ("split-K") and the partial products are combined with atomic adds; otherwise only a
handful of blocks would run on a 132-SM GPU (``splits=`` forces a split in any pass; the tests do).

The kernel is the register-blocked GEMM of ``matmul.blocked_kernel`` (same ``Tiles``, interleaved thread
ownership, shared tiles of P and Q, ``tm x tn`` accumulators in registers), with the tile loads replaced
by the gathers above and the store by a scatter into NCHW. Which gather runs is a compile-time constant
of the factory (the dead branches are removed by the compiler); no device functions are used, so every
kernel compiles to PTX without a GPU. Cost not yet measured on a GPU: each gathered element costs a few
64-bit integer divisions to turn a flat index into (c, kh, kw) / (n, oh, ow); precomputed offset tables
(cuDNN's IMPLICIT_PRECOMP_GEMM) remove them.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numba import cuda
from numba import uint64 as u64

from ._arrays import cdiv, contiguous, empty, promote, zeros
from .matmul import Tiles

FORWARD, GRAD_INPUT, GRAD_WEIGHT = 0, 1, 2

#: default blocking: 64x64 tiles of the output matrix, 256 threads with 4x4 accumulators each
CONV_TILES = Tiles(bm=64, bn=64, bk=8, tm=4, tn=4)


@cache
def conv_gemm_kernel(pass_: int, tiles: Tiles, dtype, atomic: bool = False):
    """The implicit-GEMM kernel for one pass (``FORWARD``, ``GRAD_INPUT`` or ``GRAD_WEIGHT``).

    Signature ``kernel(p, q, out, g, k_chunk)``: ``p`` and ``q`` are the tensors P and Q are gathered
    from (forward: w, x; grad input: w, gy; grad weight: gy, x), ``out`` the NCHW / OCKK result, ``g`` the
    geometry ``(N, C, H, W, O, KH, KW, OH, OW, SH, SW, PH, PW)``. Launch: grid
    ``(cdiv(Ncols, bn), cdiv(M, bm), splits)``, ``tiles.threads`` threads; block z sums
    ``k in [z k_chunk, (z + 1) k_chunk)``. With one split the result is stored; with several, ``out`` must
    be zero-filled and the partial sums are atomically added (float addition order then varies from run
    to run, in the last bits).
    """
    bm, bn, bk, tm, tn = tiles.bm, tiles.bn, tiles.bk, tiles.tm, tiles.tn
    nthreads = tiles.threads
    rt, ct = bm // tm, bn // tn
    la, lb = bm * bk // nthreads, bk * bn // nthreads  # tile elements each thread loads
    zero = np.dtype(dtype).type(0)

    @cuda.jit
    def kernel(p, q, out, g, k_chunk):
        n_img, n_c, h, w, n_o, kh_, kw_, oh_, ow_, sh, sw, ph, pw = g
        if pass_ == FORWARD:
            m, ncols, k_total = n_o, n_img * oh_ * ow_, n_c * kh_ * kw_
        elif pass_ == GRAD_INPUT:
            m, ncols, k_total = n_c, n_img * h * w, n_o * kh_ * kw_
        else:
            m, ncols, k_total = n_o, n_c * kh_ * kw_, n_img * oh_ * ow_
        kk_ = kh_ * kw_
        tid = cuda.threadIdx.x
        ty = tid // ct
        tx = tid % ct
        row0 = cuda.blockIdx.y * bm
        col0 = cuda.blockIdx.x * bn
        k_begin = cuda.blockIdx.z * k_chunk
        k_end = k_begin + k_chunk
        if k_end > k_total:  # not min(): numba's min is an overload, which needs a GPU to compile
            k_end = k_total

        p_sh = cuda.shared.array((bm, bk), dtype)
        q_sh = cuda.shared.array((bk, bn), dtype)
        acc = cuda.local.array((tm, tn), dtype)
        p_frag = cuda.local.array(tm, dtype)
        q_frag = cuda.local.array(tn, dtype)
        for i in range(tm):
            for j in range(tn):
                acc[i, j] = zero

        for k0 in range(k_begin, k_end, bk):
            # ---- P tile (bm x bk): rows i of the output matrix, reduction index k
            for slot in range(la):
                e = tid + slot * nthreads
                gi = row0 + e // bk
                gk = k0 + e % bk
                v = zero
                if gi < m and gk < k_end:
                    if pass_ == GRAD_WEIGHT:  # P = gy as (O, N OH OW): k -> (n, oh, ow)
                        n = gk // (oh_ * ow_)
                        r = gk % (oh_ * ow_)
                        v = p[u64(n), u64(gi), u64(r // ow_), u64(r % ow_)]
                    else:  # P = w as (O, C KH KW) (forward) or w^T as (C, O KH KW) (grad input)
                        a = gk // kk_
                        r = gk % kk_
                        if pass_ == FORWARD:
                            v = p[u64(gi), u64(a), u64(r // kw_), u64(r % kw_)]
                        else:
                            v = p[u64(a), u64(gi), u64(r // kw_), u64(r % kw_)]
                p_sh[u64(e // bk), u64(e % bk)] = v
            # ---- Q tile (bk x bn): reduction index k, columns j of the output matrix
            for slot in range(lb):
                e = tid + slot * nthreads
                gk = k0 + e // bn
                gj = col0 + e % bn
                v = zero
                if gk < k_end and gj < ncols:
                    if pass_ == FORWARD:  # Q = im2col(x): k -> (c, kh, kw), j -> (n, oh, ow)
                        c = gk // kk_
                        r = gk % kk_
                        n = gj // (oh_ * ow_)
                        s = gj % (oh_ * ow_)
                        ih = (s // ow_) * sh - ph + r // kw_
                        iw = (s % ow_) * sw - pw + r % kw_
                        if 0 <= ih < h and 0 <= iw < w:
                            v = q[u64(n), u64(c), u64(ih), u64(iw)]
                    elif pass_ == GRAD_INPUT:  # Q = gy on the stride grid: k -> (o, kh, kw), j -> (n, ih, iw)
                        o = gk // kk_
                        r = gk % kk_
                        n = gj // (h * w)
                        s = gj % (h * w)
                        th = s // w + ph - r // kw_  # = oh * sh when the tap is real
                        tw = s % w + pw - r % kw_
                        if th >= 0 and tw >= 0 and th % sh == 0 and tw % sw == 0:
                            oh = th // sh
                            ow = tw // sw
                            if oh < oh_ and ow < ow_:
                                v = q[u64(n), u64(o), u64(oh), u64(ow)]
                    else:  # Q = im2col(x)^T: k -> (n, oh, ow), j -> (c, kh, kw)
                        n = gk // (oh_ * ow_)
                        s = gk % (oh_ * ow_)
                        c = gj // kk_
                        r = gj % kk_
                        ih = (s // ow_) * sh - ph + r // kw_
                        iw = (s % ow_) * sw - pw + r % kw_
                        if 0 <= ih < h and 0 <= iw < w:
                            v = q[u64(n), u64(c), u64(ih), u64(iw)]
                q_sh[u64(e // bn), u64(e % bn)] = v
            cuda.syncthreads()
            for kk in range(bk):
                uk = u64(kk)
                for i in range(tm):
                    p_frag[i] = p_sh[u64(ty + i * rt), uk]
                for j in range(tn):
                    q_frag[j] = q_sh[uk, u64(tx + j * ct)]
                for i in range(tm):
                    for j in range(tn):
                        acc[i, j] += p_frag[i] * q_frag[j]
            cuda.syncthreads()

        # scatter: column j of the output matrix -> (n, ., oh, ow) of y, (n, ., ih, iw) of gx or
        # (., c, kh, kw) of gw, decomposed once per column; the row i is the remaining channel index
        for j in range(tn):
            gj = col0 + tx + j * ct
            if pass_ == FORWARD:
                d0, d2, d3 = gj // (oh_ * ow_), (gj // ow_) % oh_, gj % ow_
            elif pass_ == GRAD_INPUT:
                d0, d2, d3 = gj // (h * w), (gj // w) % h, gj % w
            else:
                d0, d2, d3 = gj // kk_, (gj // kw_) % kh_, gj % kw_
            for i in range(tm):
                gi = row0 + ty + i * rt
                if gi < m and gj < ncols:
                    idx = (gi, d0, d2, d3) if pass_ == GRAD_WEIGHT else (d0, gi, d2, d3)
                    if atomic:
                        cuda.atomic.add(out, idx, acc[i, j])
                    else:
                        out[idx] = acc[i, j]

    return kernel


# ------------------------------------------------------------------------------------- host wrappers
def _pair(v, name):
    """(v, v) for an int, (a, b) for a pair: PyTorch's spelling of stride and padding."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    t = tuple(int(u) for u in v)
    if len(t) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return t


def output_size(h, w, kh, kw, stride, padding):
    """(OH, OW) of a convolution: ``(H + 2 PH - KH) // SH + 1`` per axis."""
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1


def _geometry(name, x_shape, w_shape, stride, padding):
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError(f"{name}: expected x (N, C, H, W) and w (O, C, KH, KW), got {x_shape} and {w_shape}")
    n, c, h, w = (int(s) for s in x_shape)
    o, cw, kh, kw = (int(s) for s in w_shape)
    if c != cw:
        raise ValueError(f"{name}: x has {c} channels but w expects {cw} (x {x_shape}, w {w_shape})")
    if sh < 1 or sw < 1 or ph < 0 or pw < 0:
        raise ValueError(
            f"{name}: stride must be >= 1 and padding >= 0, got stride {stride}, padding {padding}"
        )
    oh, ow = output_size(h, w, kh, kw, (sh, sw), (ph, pw))
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{name}: kernel {kh}x{kw} is larger than the padded input {h + 2 * ph}x{w + 2 * pw}"
        )
    return (n, c, h, w, o, kh, kw, oh, ow, sh, sw, ph, pw)


def _gemm_dims(pass_, g):
    n, c, h, w, o, kh, kw, oh, ow = g[:9]
    if pass_ == FORWARD:
        return o, n * oh * ow, c * kh * kw
    if pass_ == GRAD_INPUT:
        return c, n * h * w, o * kh * kw
    return o, c * kh * kw, n * oh * ow


def choose_splits(m, ncols, k, tiles, target_blocks=264, min_chunk=256):
    """How many K-splits: enough blocks to fill a GPU (``target_blocks``, 2 per SM of an H100), each
    split still summing at least ``min_chunk`` terms so the atomics stay a small part of the work."""
    blocks = cdiv(m, tiles.bm) * cdiv(ncols, tiles.bn)
    return max(1, min(cdiv(target_blocks, blocks), k // min_chunk))


def _run(pass_, p, q, out_shape, g, tiles, splits):
    m, ncols, k = _gemm_dims(pass_, g)
    if splits is None:
        splits = choose_splits(m, ncols, k, tiles) if pass_ == GRAD_WEIGHT else 1
    k_chunk = cdiv(cdiv(k, splits), tiles.bk) * tiles.bk  # whole bk-steps per split
    splits = max(1, cdiv(k, k_chunk))
    dtype = np.dtype(p.dtype)
    out = zeros(p, out_shape, dtype) if (splits > 1 or k == 0) else empty(p, out_shape, dtype)
    if m and ncols and k:
        grid = (cdiv(ncols, tiles.bn), cdiv(m, tiles.bm), splits)
        conv_gemm_kernel(pass_, tiles, dtype, splits > 1)[grid, tiles.threads](p, q, out, g, k_chunk)
    return out


def conv2d(x, w, stride=1, padding=0, *, tiles=CONV_TILES, splits=None):
    """Forward convolution ``y (N, O, OH, OW)`` of ``x (N, C, H, W)`` with ``w (O, C, KH, KW)`` (no bias)."""
    x, w = promote("conv2d", x, w)
    g = _geometry("conv2d", x.shape, w.shape, stride, padding)
    n, _, _, _, o, _, _, oh, ow = g[:9]
    return _run(FORWARD, contiguous(w), contiguous(x), (n, o, oh, ow), g, tiles, splits)


def conv2d_backward_input(gy, w, x_shape, stride=1, padding=0, *, tiles=CONV_TILES, splits=None):
    """``gx (N, C, H, W)``, the gradient of ``conv2d`` w.r.t. its input, = ``conv_transpose2d(gy, w)``."""
    gy, w = promote("conv2d_backward_input", gy, w)
    g = _geometry("conv2d_backward_input", tuple(x_shape), w.shape, stride, padding)
    _check_gy("conv2d_backward_input", gy, g)
    return _run(GRAD_INPUT, contiguous(w), contiguous(gy), tuple(g[:4]), g, tiles, splits)


def conv2d_backward_weight(x, gy, w_shape, stride=1, padding=0, *, tiles=CONV_TILES, splits=None):
    """``gw (O, C, KH, KW)``, the gradient of ``conv2d`` w.r.t. its weight (split-K with atomics)."""
    x, gy = promote("conv2d_backward_weight", x, gy)
    g = _geometry("conv2d_backward_weight", x.shape, tuple(w_shape), stride, padding)
    _check_gy("conv2d_backward_weight", gy, g)
    return _run(GRAD_WEIGHT, contiguous(gy), contiguous(x), tuple(int(s) for s in w_shape), g, tiles, splits)


def _check_gy(name, gy, g):
    n, _, _, _, o, _, _, oh, ow = g[:9]
    if tuple(gy.shape) != (n, o, oh, ow):
        raise ValueError(
            f"{name}: gy has shape {tuple(gy.shape)}, expected (N, O, OH, OW) = {(n, o, oh, ow)}"
        )
