"""2-D convolution on the CPU, batch-level and packed: the fast hand-written path (chapter 04, section 6).

Same notation and passes as ``conv.py`` (x (N, C, H, W), w (O, C, kh, kw), y (N, O, Ho, Wo), P = Ho*Wo,
CK = C*kh*kw). The per-image im2col + GEMM of ``conv.py`` spends its time outside the multiply-adds:
im2col copies runs of kw = 4 numbers, the weight gradient's GEMM has an inner dimension of only P = 49,
and col2im scatters. This family keeps the one fast inner kernel of chapter 03, the dot-product register
tile (``gemm_nt_tile``: 4 x 4 dot products in registers; ``gemm_nt_tile_6x4``: 6 x 4, fewer loads per
FMA; its speed when the dot products are long and in cache: kernels/RESULTS.md), and rearranges the
data so that every big pass is long dot products over contiguous memory:

* forward, ``y = conv(x, w)``: x is copied once to a zero-padded **channels-last** (NHWC) array. There a
  patch row ``a`` is one contiguous run of kw*C numbers, so gathering the patches of 6 output positions
  into a (6, CK) panel is kh memcpys each; the panel (L1-sized) is multiplied against every filter of the
  weight, repacked once per call to the same (a, b, c) order. Dot products of length CK, positions of
  all images in one stream (no ragged 49th column per image), split evenly over the threads.
* input gradient, ``gx = conv^T(gy, w)`` (= conv_transpose2d): the **sub-pixel** form. Output pixel
  (u, v) of gx only meets kernel taps a = (u + ph) mod sh + sh*m, so the sh*sw "phases" of gx are
  each a small dense stride-1 convolution of gy with a sub-kernel (for k4 s2: 2 x 2 taps, contraction
  4*O). No multiplication by the zeros a transposed convolution inserts, and no col2im scatter: every
  gx pixel is written once. gy is copied to padded NHWC so a phase's patch is Mh runs of Mw*O numbers.
* weight gradient, ``gw = corr(x, gy)``: **one batch-level GEMM**, gw (O, CK) = gy (O, N*P) . cols
  (CK, N*P)^T, contraction over every position of every image (3136 for the 64 -> 128 layer instead of
  49). The transposed patch matrix is not built: with x copied batch-innermost and split by stride phase
  (``phase_planes``, about kw/sw times the size of x), each of its rows is one contiguous run there,
  read block by block against all O rows of gy. Threads own disjoint columns of gw: no reduction.

Small contractions go elsewhere, where a dot product would be one SIMD vector: a forward pass with
CK < DOT_MIN (the first DCGAN layer, C = 1: CK = 16) runs per image as the axpy-style ``gemm_tile`` of
(O, CK) @ (CK, P); an input gradient with C < SUBPIXEL_MIN_C (gx has one channel) runs the per-image
GEMM + col2im of ``conv.py``. The arrays must be C-contiguous float32 or float64 (``kernels.dispatch``
sees to that); the result has the input's dtype.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .conv import _conv2d_backward_input_gemm, pad_image
from .matmul import STRICT, gemm_nt_tile, gemm_nt_tile_6x4, gemm_tile

DOT_MIN = 64
"""Forward passes with CK = C*kh*kw below this use the per-image axpy GEMM instead of dot products."""
SUBPIXEL_MIN_C = 4
"""Input gradients with fewer than this many channels use the per-image GEMM + col2im of conv.py."""
PANEL_FORWARD = 6
"""Output positions per packed panel in the forward pass: the 6 rows of the 6 x 4 tile (6 x CK floats,
24 KiB at CK = 1024, in L1 while the weight streams past 4 filters at a time)."""
PANEL_SUBPIXEL = 12
"""Output pixels per packed panel of the input gradient (12 x 4*O floats: two 6-row tiles)."""
KC = 1100
"""Most positions per contraction block of the weight gradient (the (O, KC) block of gy stays in L2);
N*P is cut into equal blocks, each one reduction per output: 3136 -> 3 blocks of 1056."""


def _threads(work):
    return max(1, min(numba.get_num_threads(), work))


# -- layout helpers ------------------------------------------------------------------------------------
#
# Numba compiles ``dst[:] = src`` between arrays with an overlap check and a temporary copy; a plain loop
# over two 1-D views is a vectorised memcpy, much faster on the runs copied here (kernels/RESULTS.md).


@njit(**STRICT)
def lead(k):
    """A row length >= k for a buffer whose rows the 4 x 4 tile reads together: a multiple of 16 numbers
    with an odd number of 16-number blocks, so rows 4 KiB apart (k = 1024 float32) do not all land in
    one L1 cache set. Before rows were padded, the forward pass time depended on where the heap put its
    (4, 1024) panel (kernels/RESULTS.md)."""
    ld = k + (-k) % 16
    return ld + 16 if (ld // 16) % 2 == 0 else ld


@njit(**STRICT)
def copy_run(dst, src, count):
    """dst[:count] = src[:count] for 1-D views, as a loop LLVM vectorises."""
    for e in range(count):
        dst[e] = src[e]


@njit(**STRICT)
def transpose_rows(src, dst, rows):
    """dst[j, r] = src[r, j] for r < rows, j < src.shape[1]: 16 source rows at a time, so each dst row
    gets 16 consecutive numbers per visit (a transpose that reads and writes whole cache lines)."""
    cols = src.shape[1]
    r16 = rows - rows % 16
    for r0 in range(0, r16, 16):
        for j in range(cols):
            d = dst[j]
            for rr in range(16):
                d[r0 + rr] = src[r0 + rr, j]
    for r in range(r16, rows):
        for j in range(cols):
            dst[j, r] = src[r, j]


@njit(parallel=True, **STRICT)
def nhwc_padded(x, top, left, hp, wp):
    """x (N, C, H, W) -> zeros (N, hp, wp, C) with x[n, c, i, j] at [n, top + i, left + j, c]
    (channels-last: one pixel's C numbers are contiguous). One image per parallel step."""
    n_img, c_in, h, wd = x.shape
    xh = np.zeros((n_img, hp, wp, c_in), dtype=x.dtype)
    c16 = c_in - c_in % 16
    for n in prange(n_img):
        xn = x[n].reshape(c_in, h * wd)
        for c0 in range(0, c16, 16):  # 16 channels of a pixel per visit, as in transpose_rows
            for j in range(h * wd):
                d = xh[n, top + j // wd, left + j % wd]
                for cc in range(16):
                    d[c0 + cc] = xn[c0 + cc, j]
        for c in range(c16, c_in):
            for j in range(h * wd):
                xh[n, top + j // wd, left + j % wd, c] = xn[c, j]
    return xh


# -- forward ------------------------------------------------------------------------------------------


@njit(parallel=True, **STRICT)
def _conv2d_packed(xh, w, sh, sw, ho, wo, pr, nt):
    """Forward pass on padded NHWC input xh (N, Hp, Wp, C), w (O, C, kh, kw) -> y (N, O, Ho, Wo).

    Positions q = (n, i, j) go ``pr`` at a time: their patches, kh runs of kw*C numbers each, are copied
    into ``panel`` (pr, CK); then ``gemm_nt_tile_6x4`` forms the (pr, O) block of dot products with the
    repacked weight ``wk`` (O, CK), both in (a, b, c) order, and it is written into y. Threads take
    contiguous ranges of panels. Memory: per thread a panel and a (pr, O) block; wk (O*CK) shared.
    """
    n_img, hp, wp, c_in = xh.shape
    o, _, kh, kw = w.shape
    run = kw * c_in
    ck = kh * run
    p = ho * wo
    nq = n_img * p
    wk = np.empty((o, lead(ck)), dtype=w.dtype)
    for q in range(o):
        for a in range(kh):
            for b in range(kw):
                for c in range(c_in):
                    wk[q, (a * kw + b) * c_in + c] = w[q, c, a, b]
    xf = xh.reshape(-1)
    y = np.empty((n_img, o, ho, wo), dtype=xh.dtype)
    yf = y.reshape(-1)
    ng = (nq + pr - 1) // pr
    for t in prange(nt):
        panel = np.zeros((pr, lead(ck)), dtype=xh.dtype)
        blk = np.empty((pr, o), dtype=xh.dtype)
        for g in range(t * ng // nt, (t + 1) * ng // nt):
            for r in range(pr):
                q = g * pr + r
                if q < nq:
                    n, pi = q // p, q % p
                    i, j = pi // wo, pi % wo
                    for a in range(kh):
                        src = ((n * hp + i * sh + a) * wp + j * sw) * c_in
                        copy_run(panel[r, a * run :], xf[src:], run)
                else:
                    panel[r, :] = 0
            blk[:] = 0
            gemm_nt_tile_6x4(panel, 0, 0, wk, 0, 0, blk, 0, 0, pr, o, ck)
            q0 = g * pr
            cnt = min(pr, nq - q0)
            n, p0 = q0 // p, q0 % p
            if p0 + cnt <= p:  # the panel lies in one image: column k of blk is a run of y[n, k]
                for k in range(o):
                    dst = yf[(n * o + k) * p + p0 :]
                    for r in range(cnt):
                        dst[r] = blk[r, k]
            else:
                for r in range(cnt):
                    n, pi = (q0 + r) // p, (q0 + r) % p
                    for k in range(o):
                        yf[(n * o + k) * p + pi] = blk[r, k]
    return y


@njit(parallel=True, **STRICT)
def _conv2d_axpy(x, w, sh, sw, ph, pw, nt):
    """Forward pass for a short contraction (CK < DOT_MIN), one image per thread step:
    y[n] (O, P) = w (O, CK) @ colsT (CK, P) with the axpy tile ``gemm_tile`` (rows of length P).
    colsT[(c, a, b), i*Wo + j] = xpad[c, i*sh + a, j*sw + b] is built per image from a padded copy."""
    n_img, c_in, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    p, ck = ho * wo, c_in * kh * kw
    w2 = w.reshape(o, ck)
    y = np.zeros((n_img, o, ho, wo), dtype=x.dtype)
    for t in prange(nt):
        xpad = np.zeros((c_in, h + 2 * ph, wd + 2 * pw), dtype=x.dtype)
        cols_t = np.empty((ck, p), dtype=x.dtype)
        for n in range(t * n_img // nt, (t + 1) * n_img // nt):
            pad_image(x, n, ph, pw, xpad)
            for c in range(c_in):
                for a in range(kh):
                    for b in range(kw):
                        row = cols_t[(c * kh + a) * kw + b]
                        for i in range(ho):
                            src = xpad[c, i * sh + a]
                            for j in range(wo):
                                row[i * wo + j] = src[j * sw + b]
            gemm_tile(w2, 0, 0, cols_t, y[n].reshape(o, p), 0, 0, o, ck, p)
    return y


def conv2d_packed(x, w, sh, sw, ph, pw):
    """y = conv(x, w): NHWC panels + dot-product tile when CK >= DOT_MIN, else the per-image axpy GEMM."""
    n_img, c_in, h, wd = x.shape
    o, _, kh, kw = w.shape
    if c_in * kh * kw < DOT_MIN:
        return _conv2d_axpy(x, w, sh, sw, ph, pw, _threads(n_img))
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    nt = _threads(n_img * ho * wo // PANEL_FORWARD + 1)
    xh = nhwc_padded(x, ph, pw, h + 2 * ph, wd + 2 * pw)
    return _conv2d_packed(xh, w, sh, sw, ho, wo, PANEL_FORWARD, nt)


# -- input gradient (conv_transpose2d forward) --------------------------------------------------------


@njit(parallel=True, **STRICT)
def _conv2d_backward_input_subpixel(gyh, w, h, wd, sh, sw, ph, pw, pr, nt):
    """Input gradient by phases. gyh: gy (N, O, Ho, Wo) as zero-padded NHWC (N, Hg, Wg, O), gy[n, o, i, j]
    at gyh[n, i + Mh - 1, j + Mw - 1, o], Mh = ceil(kh / sh); w (O, C, kh, kw) -> gx (N, C, H, W).

    gx pixel u (padded coordinate t = u + ph, phase r = t mod sh, T = t div sh) gets the taps
    a = r + sh*m, m < Mr = ceil((kh - r) / sh), from gy row i = T - m: for a fixed phase the taps sit at
    consecutive rows and columns of gyh, so a pixel's patch is Mr_h runs of Mr_w*O contiguous numbers,
    packed ``pr`` pixels at a time and multiplied against the phase's sub-kernel ``wsub`` (C, Mr_h Mr_w O)
    by ``gemm_nt_tile_6x4``. Work 2 N C O kh kw H W / (sh sw), no zeros multiplied, each gx pixel written
    once.
    """
    n_img, hg, wg, o = gyh.shape
    _, c_in, kh, kw = w.shape
    mh, mw = (kh + sh - 1) // sh, (kw + sw - 1) // sw
    kmax = mh * mw * o
    wsub = np.zeros((sh * sw, c_in, lead(kmax)), dtype=w.dtype)
    for rh in range(sh):
        mrh = (kh - rh + sh - 1) // sh
        for rw in range(sw):
            mrw = (kw - rw + sw - 1) // sw
            for c in range(c_in):
                row = wsub[rh * sw + rw, c]
                for m in range(mrh):
                    for bb in range(mrw):  # run position bb holds column tap m_w = mrw - 1 - bb
                        for q in range(o):
                            row[(m * mrw + bb) * o + q] = w[q, c, rh + sh * m, rw + sw * (mrw - 1 - bb)]
    gf = gyh.reshape(-1)
    gx = np.zeros((n_img, c_in, h, wd), dtype=gyh.dtype)
    gxf = gx.reshape(-1)
    for t in prange(nt):
        panel = np.zeros((pr, lead(kmax)), dtype=gyh.dtype)
        blk = np.empty((pr, c_in), dtype=gyh.dtype)
        dst = np.empty(pr, dtype=np.int64)
        for rh in range(min(sh, kh)):
            mrh = (kh - rh + sh - 1) // sh
            fh = (rh - ph) % sh  # first gx row of this phase
            nh = (h - fh + sh - 1) // sh if fh < h else 0
            for rw in range(min(sw, kw)):
                mrw = (kw - rw + sw - 1) // sw
                fw = (rw - pw) % sw
                nw = (wd - fw + sw - 1) // sw if fw < wd else 0
                run, k = mrw * o, mrh * mrw * o
                npix = n_img * nh * nw
                ng = (npix + pr - 1) // pr
                ws = wsub[rh * sw + rw]
                for g in range(t * ng // nt, (t + 1) * ng // nt):
                    for r in range(pr):
                        q = g * pr + r
                        if q < npix:
                            n, rem = q // (nh * nw), q % (nh * nw)
                            th = (fh + sh * (rem // nw) + ph) // sh
                            tw = (fw + sw * (rem % nw) + pw) // sw
                            for m in range(mrh):
                                src = ((n * hg + th - m + mh - 1) * wg + tw - mrw + mw) * o
                                copy_run(panel[r, m * run :], gf[src:], run)
                        else:
                            panel[r, :k] = 0
                    blk[:] = 0
                    gemm_nt_tile_6x4(panel, 0, 0, ws, 0, 0, blk, 0, 0, pr, c_in, k)
                    cnt = min(pr, npix - g * pr)
                    for r in range(cnt):  # where pixel r of the panel goes in gx[:, 0]
                        n, rem = (g * pr + r) // (nh * nw), (g * pr + r) % (nh * nw)
                        dst[r] = (n * c_in * h + fh + sh * (rem // nw)) * wd + fw + sw * (rem % nw)
                    for c in range(c_in):  # channel by channel: the writes stay in a few cache lines
                        for r in range(cnt):
                            gxf[dst[r] + c * h * wd] = blk[r, c]
    return gx


def conv2d_backward_input_packed(gy, w, h, wd, sh, sw, ph, pw):
    """gx = conv^T(gy, w): sub-pixel phases when C >= SUBPIXEL_MIN_C, else per-image GEMM + col2im."""
    n_img, o, ho, wo = gy.shape
    _, c_in, kh, kw = w.shape
    if c_in < SUBPIXEL_MIN_C:
        return _conv2d_backward_input_gemm(gy, w, h, wd, sh, sw, ph, pw, _threads(n_img))
    mh, mw = (kh + sh - 1) // sh, (kw + sw - 1) // sw
    hg = max(ho, (ph + h - 1) // sh + 1) + mh - 1
    wg = max(wo, (pw + wd - 1) // sw + 1) + mw - 1
    gyh = nhwc_padded(gy, mh - 1, mw - 1, hg, wg)
    nt = _threads(n_img * h * wd // (sh * sw * PANEL_SUBPIXEL) + 1)
    return _conv2d_backward_input_subpixel(gyh, w, h, wd, sh, sw, ph, pw, PANEL_SUBPIXEL, nt)


# -- weight gradient ----------------------------------------------------------------------------------


@njit(parallel=True, **STRICT)
def phase_planes(x, kh, kw, sh, sw, ph, pw, ho, wo):
    """The layout that makes every row of the transposed patch matrix one contiguous run.

    First x goes batch-innermost, xt[c, u, v, n] = xpad[n, c, u, v] (CHWN, zero-padded), so that one
    pixel of every image is a contiguous run of N numbers. Then, for phase r < sh and column tap b < kw,
    xs[c, r, b, ((I*Wo + j)*N + n] = xt[c, I*sh + r, j*sw + b, n], I < Ho + ceil(kh/sh) - 1: runs of N
    copied whole. Tap a = r + sh*al meets, at the positions (i, j, n) of the whole batch, exactly
    xs[c, r, b, al*Wo*N : (al + Ho)*Wo*N]: one run of N*P. Size C*sh*kw*(Ho + 1)*Wo*N (about kw/sw times x).
    """
    n_img, c_in, h, wd = x.shape
    hp, wp = h + 2 * ph, wd + 2 * pw
    rows = ho + (kh - 1) // sh
    xs = np.empty((c_in, sh, kw, lead(rows * wo * n_img)), dtype=x.dtype)
    for c in prange(c_in):
        xt = np.zeros((hp, wp, n_img), dtype=x.dtype)
        for i in range(h):
            transpose_rows(x[:, c, i, :], xt[ph + i, pw : pw + wd], n_img)
        for r in range(sh):
            for b in range(kw):
                for i in range(rows):
                    for j in range(wo):
                        dst = xs[c, r, b, (i * wo + j) * n_img : (i * wo + j + 1) * n_img]
                        u, v = i * sh + r, j * sw + b
                        if u < hp and v < wp:
                            copy_run(dst, xt[u, v], n_img)
                        else:
                            dst[:] = 0
    return xs


@njit(parallel=True, **STRICT)
def _conv2d_backward_weight_packed(xs, gy, kh, kw, sh, nt):
    """Weight gradient as one GEMM over the whole batch, from ``phase_planes`` xs and gy (N, O, Ho, Wo).

    gw (O, CK) = gyt (O, N*P) . colsT (CK, N*P)^T with the positions in (i, j, n) order: gyt[o] is gy with
    the batch moved innermost (one copy), and the kw rows of colsT for taps (c, a, 0..kw-1) are a 2-D
    slice of xs (no packing). ``gemm_nt_tile`` (4 x 4: the B side has kw = 4 rows; measured, the 6 x 4
    tile was slower here) takes them a block of <= KC positions at a time: the
    (O, block) part of gyt stays in L2 while every (c, a) block of the thread meets it, dot products of
    the block's length, 4 x 4 per tile. Thread t owns a range of (c, a), i.e. of columns of gw: nothing
    is reduced across threads.
    """
    c_in = xs.shape[0]
    n_img, o, ho, wo = gy.shape
    p = ho * wo
    nq = p * n_img
    gyt = np.empty((o, lead(nq)), dtype=gy.dtype)
    g3 = gy.reshape(n_img, o, p)
    n16 = n_img - n_img % 16
    for q in prange(o):
        d = gyt[q]
        for n0 in range(0, n16, 16):  # as in transpose_rows: 16 images of a position per visit
            for pi in range(p):
                for nn in range(16):
                    d[pi * n_img + n0 + nn] = g3[n0 + nn, q, pi]
        for n in range(n16, n_img):
            for pi in range(p):
                d[pi * n_img + n] = g3[n, q, pi]
    gw = np.zeros((o, c_in * kh * kw), dtype=gy.dtype)
    nca = c_in * kh
    nblk = (nq + KC - 1) // KC
    kb = (nq + nblk - 1) // nblk  # equal blocks of at most KC (3136 -> 3 x 1046, not 3 x 1100 + 36)
    kb += (-kb) % 16
    for t in prange(nt):
        for q0 in range(0, nq, kb):
            kc = min(kb, nq - q0)
            for ca in range(t * nca // nt, (t + 1) * nca // nt):
                c, a = ca // kh, ca % kh
                bk = (a // sh) * wo * n_img + q0
                gemm_nt_tile(gyt, 0, q0, xs[c, a % sh], 0, bk, gw, 0, ca * kw, o, kw, kc)
    return gw.reshape(o, c_in, kh, kw)


def conv2d_backward_weight_packed(x, gy, kh, kw, sh, sw, ph, pw):
    """gw = corr(x, gy) as one batch-level GEMM; threads split the (c, a) blocks of gw's columns."""
    xs = phase_planes(x, kh, kw, sh, sw, ph, pw, gy.shape[2], gy.shape[3])
    return _conv2d_backward_weight_packed(xs, gy, kh, kw, sh, _threads(x.shape[1] * kh))
