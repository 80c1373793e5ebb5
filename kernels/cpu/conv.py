"""2-D convolution on the CPU with Numba: direct loops, and im2col + GEMM (chapter 04).

Notation as in ``kernels/reference.py``: x (N, C, H, W), w (O, C, kh, kw), y (N, O, Ho, Wo), stride (sh, sw),
padding (ph, pw), P = Ho*Wo output positions per image, CK = C*kh*kw numbers in one patch, and

    y[n, o, i, j] = sum_{c, a, b} w[o, c, a, b] * x[n, c, i*sh - ph + a, j*sw - pw + b]   (0 outside x).

Three passes, each 2 N O CK P flops (chapter 04 shows all three are convolutions):

    forward           y  = conv(x, w)
    backward input    gx = conv^T(gy, w)       (also the forward pass of conv_transpose2d)
    backward weight   gw = corr(x, gy)

Three families of kernels compute them:

* ``*_direct``  the definition as loops, parallel over the output planes a thread owns (so no two threads
  write the same number). No extra memory; each multiply-add re-reads its inputs, so it is memory-bound.
* ``*_gemm``    hand-written im2col + GEMM, one image at a time per thread. Image n's patches are
  unrolled into the (P, CK) matrix ``cols`` (im2col: row p is the patch output position p reads), which
  is small enough to stay in L2 (P*CK*4 B = 200 KiB for the DCGAN 64->128 layer), and the matrix product
  runs on ``gemm_tile``, the register-tiled kernel of ``cpu/matmul.py``:
      forward         y_n^T (P, O)  = cols (P, CK) @ w^T (CK, O)       then transposed into y[n]
      backward input  gcols (P, CK) = gy_n^T (P, O) @ w (O, CK)        then col2im adds patches into gx[n]
      backward weight gw (O, CK)   += gy_n (O, P) @ cols (P, CK)       one partial sum per thread
  Threads take whole images, so col2im never races and the weight gradient needs one final sum.
* ``*_im2col_blas`` the vendor baseline: the same im2col / col2im (Numba) for the whole batch at once,
  with the matrix products done by NumPy's BLAS (OpenBLAS) on (N*P, CK) matrices.

The arrays must be C-contiguous float32 or float64; the wrappers in ``kernels.dispatch`` see to that.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .matmul import FAST, gemm_tile

# -- im2col / col2im for one image ----------------------------------------------------------------------


@njit(**FAST)
def im2col_image(x, n, kh, kw, sh, sw, ph, pw, ho, wo, cols):
    """Fill ``cols`` (P, C*kh*kw) with image n's patches: cols[i*Wo + j, (c*kh + a)*kw + b] =
    x[n, c, i*sh - ph + a, j*sw - pw + b], 0 where that falls in the padding."""
    c_in, h, wd = x.shape[1], x.shape[2], x.shape[3]
    for i in range(ho):
        for j in range(wo):
            row = cols[i * wo + j]
            col = 0
            for c in range(c_in):
                for a in range(kh):
                    ih = i * sh - ph + a
                    inside = 0 <= ih < h
                    for b in range(kw):
                        iw = j * sw - pw + b
                        row[col] = x[n, c, ih, iw] if inside and 0 <= iw < wd else 0
                        col += 1


@njit(**FAST)
def col2im_image(gcols, n, kh, kw, sh, sw, ph, pw, ho, wo, gx):
    """The adjoint of ``im2col_image``: add every patch row of ``gcols`` (P, C*kh*kw) back onto the pixels
    of gx[n] it came from (patches overlap when stride < kernel, so contributions add up)."""
    c_in, h, wd = gx.shape[1], gx.shape[2], gx.shape[3]
    for i in range(ho):
        for j in range(wo):
            row = gcols[i * wo + j]
            col = 0
            for c in range(c_in):
                for a in range(kh):
                    ih = i * sh - ph + a
                    inside = 0 <= ih < h
                    for b in range(kw):
                        iw = j * sw - pw + b
                        if inside and 0 <= iw < wd:
                            gx[n, c, ih, iw] += row[col]
                        col += 1


def _threads(n_img):
    """How many threads the per-image kernels use: Numba's current count, at most one per image."""
    return max(1, min(numba.get_num_threads(), n_img))


# -- hand-written im2col + GEMM, one image per thread step ------------------------------------------------


@njit(parallel=True, **FAST)
def _conv2d_gemm(x, w, sh, sw, ph, pw, nt):
    """Forward pass, im2col + register-tiled GEMM per image. x (N, C, H, W), w (O, C, kh, kw) -> y.

    Memory plan: per thread, one (P, CK) patch buffer and one (P, O) output tile, reused image after image
    (L2-resident); w^T (CK, O) is shared read-only by all threads. Work: 2 N O CK P flops.
    """
    n_img, c_in, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    p, ck = ho * wo, c_in * kh * kw
    wt = np.ascontiguousarray(w.reshape(o, ck).T)  # (CK, O): the packed B operand
    y = np.empty((n_img, o, ho, wo), dtype=x.dtype)
    for t in prange(nt):
        cols = np.empty((p, ck), dtype=x.dtype)
        yt = np.empty((p, o), dtype=x.dtype)
        for n in range(t * n_img // nt, (t + 1) * n_img // nt):
            im2col_image(x, n, kh, kw, sh, sw, ph, pw, ho, wo, cols)
            yt[:] = 0
            gemm_tile(cols, 0, 0, wt, yt, 0, 0, p, ck, o)
            yn = y[n].reshape(o, p)
            for q in range(o):
                for r in range(p):
                    yn[q, r] = yt[r, q]
    return y


def conv2d_gemm(x, w, sh, sw, ph, pw):
    """See ``_conv2d_gemm``; runs on ``numba.get_num_threads()`` threads (one image each)."""
    return _conv2d_gemm(x, w, sh, sw, ph, pw, _threads(x.shape[0]))


@njit(parallel=True, **FAST)
def _conv2d_backward_input_gemm(gy, w, h, wd, sh, sw, ph, pw, nt):
    """Input gradient (= conv_transpose2d forward), GEMM + col2im per image. gy (N, O, Ho, Wo),
    w (O, C, kh, kw) -> gx (N, C, H, W).

    Memory plan: per thread, a (P, CK) patch-gradient buffer, filled by gy_n^T (P, O) @ w (O, CK) (gy_n^T is
    read in place as a strided view), then scattered into gx[n]; a thread owns whole images of gx.
    """
    n_img, o, ho, wo = gy.shape
    _, c_in, kh, kw = w.shape
    p, ck = ho * wo, c_in * kh * kw
    w2 = w.reshape(o, ck)
    gx = np.zeros((n_img, c_in, h, wd), dtype=gy.dtype)
    for t in prange(nt):
        gcols = np.empty((p, ck), dtype=gy.dtype)
        for n in range(t * n_img // nt, (t + 1) * n_img // nt):
            gcols[:] = 0
            gemm_tile(gy[n].reshape(o, p).T, 0, 0, w2, gcols, 0, 0, p, o, ck)
            col2im_image(gcols, n, kh, kw, sh, sw, ph, pw, ho, wo, gx)
    return gx


def conv2d_backward_input_gemm(gy, w, h, wd, sh, sw, ph, pw):
    """See ``_conv2d_backward_input_gemm``; runs on ``numba.get_num_threads()`` threads (one image each)."""
    return _conv2d_backward_input_gemm(gy, w, h, wd, sh, sw, ph, pw, _threads(gy.shape[0]))


@njit(parallel=True, **FAST)
def _conv2d_backward_weight_gemm(x, gy, kh, kw, sh, sw, ph, pw, nt):
    """Weight gradient, im2col + GEMM per image. x (N, C, H, W), gy (N, O, Ho, Wo) -> gw (O, C, kh, kw).

    Memory plan: per thread, a (P, CK) patch buffer and a private (O, CK) partial sum of gy_n (O, P) @ cols;
    the partial sums are added at the end (a reduction over images without atomics).
    """
    n_img, c_in = x.shape[0], x.shape[1]
    _, o, ho, wo = gy.shape
    p, ck = ho * wo, c_in * kh * kw
    partial = np.zeros((nt, o, ck), dtype=x.dtype)
    for t in prange(nt):
        cols = np.empty((p, ck), dtype=x.dtype)
        gw_t = partial[t]
        for n in range(t * n_img // nt, (t + 1) * n_img // nt):
            im2col_image(x, n, kh, kw, sh, sw, ph, pw, ho, wo, cols)
            gemm_tile(gy[n].reshape(o, p), 0, 0, cols, gw_t, 0, 0, o, p, ck)
    gw = partial[0].copy()
    for t in range(1, nt):
        gw += partial[t]
    return gw.reshape(o, c_in, kh, kw)


def conv2d_backward_weight_gemm(x, gy, kh, kw, sh, sw, ph, pw):
    """See ``_conv2d_backward_weight_gemm``; runs on ``numba.get_num_threads()`` threads (one image each)."""
    return _conv2d_backward_weight_gemm(x, gy, kh, kw, sh, sw, ph, pw, _threads(x.shape[0]))


# -- direct loops -----------------------------------------------------------------------------------------


@njit(parallel=True, **FAST)
def conv2d_direct(x, w, sh, sw, ph, pw):
    """Forward pass as the definition. A thread owns output planes y[n, o]; for each tap (c, a, b) the valid
    output range is computed once, so the inner loop over j has no branch. Work 2 N O CK P, no buffers."""
    n_img, c_in, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n_img, o, ho, wo), dtype=x.dtype)
    for no in prange(n_img * o):
        n, q = no // o, no % o
        for c in range(c_in):
            for a in range(kh):
                for b in range(kw):
                    wv = w[q, c, a, b]
                    # j such that 0 <= j*sw - pw + b < W
                    j0 = max(0, (pw - b + sw - 1) // sw)
                    j1 = min(wo, (wd + pw - b + sw - 1) // sw)
                    for i in range(ho):
                        ih = i * sh - ph + a
                        if 0 <= ih < h:
                            for j in range(j0, j1):
                                y[n, q, i, j] += wv * x[n, c, ih, j * sw - pw + b]
    return y


@njit(parallel=True, **FAST)
def conv2d_backward_input_direct(gy, w, h, wd, sh, sw, ph, pw):
    """Input gradient as scatter loops: gx[n, c, i*sh-ph+a, j*sw-pw+b] += w[o, c, a, b] gy[n, o, i, j].
    A thread owns input planes gx[n, c], so the scatter never races."""
    n_img, o, ho, wo = gy.shape
    _, c_in, kh, kw = w.shape
    gx = np.zeros((n_img, c_in, h, wd), dtype=gy.dtype)
    for nc in prange(n_img * c_in):
        n, c = nc // c_in, nc % c_in
        for q in range(o):
            for a in range(kh):
                for b in range(kw):
                    wv = w[q, c, a, b]
                    j0 = max(0, (pw - b + sw - 1) // sw)
                    j1 = min(wo, (wd + pw - b + sw - 1) // sw)
                    for i in range(ho):
                        ih = i * sh - ph + a
                        if 0 <= ih < h:
                            for j in range(j0, j1):
                                gx[n, c, ih, j * sw - pw + b] += wv * gy[n, q, i, j]
    return gx


@njit(parallel=True, **FAST)
def conv2d_backward_weight_direct(x, gy, kh, kw, sh, sw, ph, pw):
    """Weight gradient as loops: gw[o, c, a, b] = sum_{n,i,j} gy[n, o, i, j] x[n, c, i*sh-ph+a, j*sw-pw+b].
    A thread owns the kh*kw taps of one (o, c) pair."""
    n_img, c_in, h, wd = x.shape
    _, o, ho, wo = gy.shape
    gw = np.zeros((o, c_in, kh, kw), dtype=x.dtype)
    for oc in prange(o * c_in):
        q, c = oc // c_in, oc % c_in
        for a in range(kh):
            for b in range(kw):
                j0 = max(0, (pw - b + sw - 1) // sw)
                j1 = min(wo, (wd + pw - b + sw - 1) // sw)
                s = x.dtype.type(0)
                for n in range(n_img):
                    for i in range(ho):
                        ih = i * sh - ph + a
                        if 0 <= ih < h:
                            for j in range(j0, j1):
                                s += gy[n, q, i, j] * x[n, c, ih, j * sw - pw + b]
                gw[q, c, a, b] = s
    return gw


# -- im2col / col2im for the whole batch (the BLAS baseline) -------------------------------------------------


@njit(parallel=True, **FAST)
def im2col(x, kh, kw, sh, sw, ph, pw):
    """(N*P, C*kh*kw) patch matrix of the whole batch, one image per parallel step."""
    n_img, c_in, h, wd = x.shape
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    p = ho * wo
    cols = np.empty((n_img * p, c_in * kh * kw), dtype=x.dtype)
    for n in prange(n_img):
        im2col_image(x, n, kh, kw, sh, sw, ph, pw, ho, wo, cols[n * p : (n + 1) * p])
    return cols


@njit(parallel=True, **FAST)
def col2im(gcols, n_img, c_in, h, wd, kh, kw, sh, sw, ph, pw):
    """The adjoint of ``im2col``: (N*P, C*kh*kw) patch gradients -> gx (N, C, H, W), one image per step."""
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    p = ho * wo
    gx = np.zeros((n_img, c_in, h, wd), dtype=gcols.dtype)
    for n in prange(n_img):
        col2im_image(gcols[n * p : (n + 1) * p], n, kh, kw, sh, sw, ph, pw, ho, wo, gx)
    return gx


def conv2d_im2col_blas(x, w, sh, sw, ph, pw):
    """Forward: y^T (N*P, O) = im2col(x) (N*P, CK) @ w^T (CK, O) by BLAS, then to NCHW."""
    n_img = x.shape[0]
    o, _, kh, kw = w.shape
    ho = (x.shape[2] + 2 * ph - kh) // sh + 1
    wo = (x.shape[3] + 2 * pw - kw) // sw + 1
    yt = im2col(x, kh, kw, sh, sw, ph, pw) @ w.reshape(o, -1).T
    return np.ascontiguousarray(yt.reshape(n_img, ho * wo, o).transpose(0, 2, 1)).reshape(n_img, o, ho, wo)


def conv2d_backward_input_im2col_blas(gy, w, h, wd, sh, sw, ph, pw):
    """Input gradient: gcols (N*P, CK) = gy^T (N*P, O) @ w (O, CK) by BLAS, then col2im."""
    n_img, o, ho, wo = gy.shape
    _, c_in, kh, kw = w.shape
    gyt = np.ascontiguousarray(gy.reshape(n_img, o, ho * wo).transpose(0, 2, 1)).reshape(-1, o)
    return col2im(gyt @ w.reshape(o, -1), n_img, c_in, h, wd, kh, kw, sh, sw, ph, pw)


def conv2d_backward_weight_im2col_blas(x, gy, kh, kw, sh, sw, ph, pw):
    """Weight gradient: gw (O, CK) = gy (O, N*P) @ im2col(x) (N*P, CK) by BLAS."""
    n_img, o, ho, wo = gy.shape
    c_in = x.shape[1]
    gyo = np.ascontiguousarray(gy.reshape(n_img, o, ho * wo).transpose(1, 0, 2)).reshape(o, -1)
    return (gyo @ im2col(x, kh, kw, sh, sw, ph, pw)).reshape(o, c_in, kh, kw)
