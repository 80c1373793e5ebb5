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

from .matmul import FMA, STRICT, gemm_nt_tile, gemm_tile

# -- im2col / col2im for one image ----------------------------------------------------------------------


@njit(**STRICT)
def pad_image(x, n, ph, pw, xpad):
    """Copy image x[n] (C, H, W) into the interior of ``xpad`` (C, H + 2 ph, W + 2 pw), whose border the
    caller keeps at zero: afterwards every patch is in bounds and im2col needs no tests."""
    h, wd = x.shape[2], x.shape[3]
    for c in range(x.shape[1]):
        for i in range(h):
            xpad[c, ph + i, pw : pw + wd] = x[n, c, i]


@njit(**STRICT)
def im2col_image(xpad, kh, kw, sh, sw, ho, wo, cols):
    """Fill ``cols`` (P, C*kh*kw) from a padded image: cols[i*Wo + j, (c*kh + a)*kw + b] =
    xpad[c, i*sh + a, j*sw + b]. Each (c, a) contributes one run of kw neighbouring pixels."""
    for i in range(ho):
        for j in range(wo):
            row = cols[i * wo + j]
            col = 0
            for c in range(xpad.shape[0]):
                for a in range(kh):
                    src = xpad[c, i * sh + a, j * sw : j * sw + kw]
                    for b in range(kw):
                        row[col + b] = src[b]
                    col += kw


@njit(**STRICT)
def col2im_image(gcols, kh, kw, sh, sw, ho, wo, gxpad):
    """The adjoint of ``im2col_image``: add every patch row of ``gcols`` (P, C*kh*kw) onto the pixels of
    the padded gradient ``gxpad`` it came from (patches overlap when stride < kernel: contributions add)."""
    for i in range(ho):
        for j in range(wo):
            row = gcols[i * wo + j]
            col = 0
            for c in range(gxpad.shape[0]):
                for a in range(kh):
                    dst = gxpad[c, i * sh + a, j * sw : j * sw + kw]
                    for b in range(kw):
                        dst[b] += row[col + b]
                    col += kw


def _threads(n_img):
    """How many threads the per-image kernels use: Numba's current count, at most one per image."""
    return max(1, min(numba.get_num_threads(), n_img))


# -- hand-written im2col + GEMM, one image per thread step ------------------------------------------------


@njit(parallel=True, **STRICT)
def _conv2d_gemm(x, w, sh, sw, ph, pw, nt):
    """Forward pass, im2col + dot-product register tile per image. x (N, C, H, W), w (O, C, kh, kw) -> y.

    y[n] (O, P) = w (O, CK) . cols (P, CK)^T: ``gemm_nt_tile`` takes 4 filters x 4 patches at a time, each
    a dot product of length CK. Memory plan: per thread, a padded image and a (P, CK) patch buffer,
    reused image after image (L2-resident); w is shared read-only. Work: 2 N O CK P flops.
    """
    n_img, c_in, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    p, ck = ho * wo, c_in * kh * kw
    w2 = w.reshape(o, ck)
    y = np.zeros((n_img, o, ho, wo), dtype=x.dtype)
    for t in prange(nt):
        xpad = np.zeros((c_in, h + 2 * ph, wd + 2 * pw), dtype=x.dtype)
        cols = np.empty((p, ck), dtype=x.dtype)
        for n in range(t * n_img // nt, (t + 1) * n_img // nt):
            pad_image(x, n, ph, pw, xpad)
            im2col_image(xpad, kh, kw, sh, sw, ho, wo, cols)
            gemm_nt_tile(w2, 0, 0, cols, 0, 0, y[n].reshape(o, p), 0, 0, o, p, ck)
    return y


def conv2d_gemm(x, w, sh, sw, ph, pw):
    """See ``_conv2d_gemm``; runs on ``numba.get_num_threads()`` threads (one image each)."""
    return _conv2d_gemm(x, w, sh, sw, ph, pw, _threads(x.shape[0]))


@njit(parallel=True, **STRICT)
def _conv2d_backward_input_gemm(gy, w, h, wd, sh, sw, ph, pw, nt):
    """Input gradient (= conv_transpose2d forward), GEMM + col2im per image. gy (N, O, Ho, Wo),
    w (O, C, kh, kw) -> gx (N, C, H, W).

    gcols (P, CK) = gy_n^T (P, O) . w^T (CK, O)^T with ``gemm_nt_tile`` (dot products of length O), then
    col2im adds the patch gradients into a padded image whose interior is gx[n]. Memory plan: per thread,
    gy_n^T, gcols and the padded gradient (all L2-sized); w^T is made once and shared; a thread owns
    whole images of gx, so the scatter never races.
    """
    n_img, o, ho, wo = gy.shape
    _, c_in, kh, kw = w.shape
    p, ck = ho * wo, c_in * kh * kw
    wt = np.ascontiguousarray(w.reshape(o, ck).T)  # (CK, O)
    gx = np.empty((n_img, c_in, h, wd), dtype=gy.dtype)
    for t in prange(nt):
        gyt = np.empty((p, o), dtype=gy.dtype)
        gcols = np.empty((p, ck), dtype=gy.dtype)
        gxpad = np.empty((c_in, h + 2 * ph, wd + 2 * pw), dtype=gy.dtype)
        for n in range(t * n_img // nt, (t + 1) * n_img // nt):
            gyt[:] = gy[n].reshape(o, p).T
            gcols[:] = 0
            gemm_nt_tile(gyt, 0, 0, wt, 0, 0, gcols, 0, 0, p, ck, o)
            gxpad[:] = 0
            col2im_image(gcols, kh, kw, sh, sw, ho, wo, gxpad)
            gx[n] = gxpad[:, ph : ph + h, pw : pw + wd]
    return gx


def conv2d_backward_input_gemm(gy, w, h, wd, sh, sw, ph, pw):
    """See ``_conv2d_backward_input_gemm``; runs on ``numba.get_num_threads()`` threads (one image each)."""
    return _conv2d_backward_input_gemm(gy, w, h, wd, sh, sw, ph, pw, _threads(gy.shape[0]))


@njit(parallel=True, **STRICT)
def _conv2d_backward_weight_gemm(x, gy, kh, kw, sh, sw, ph, pw, nt):
    """Weight gradient, im2col + GEMM per image. x (N, C, H, W), gy (N, O, Ho, Wo) -> gw (O, C, kh, kw).

    gw (O, CK) += gy_n (O, P) @ cols (P, CK): the inner dimension P is short (49 for a 7 x 7 output), so
    this uses the axpy-style ``gemm_tile`` (long unit-stride rows of length CK) rather than dot products.
    Memory plan: per thread, a padded image, a (P, CK) patch buffer and a private (O, CK) partial sum; the
    partial sums are added at the end (a reduction over images without atomics).
    """
    n_img, c_in, h, wd = x.shape
    _, o, ho, wo = gy.shape
    p, ck = ho * wo, c_in * kh * kw
    partial = np.zeros((nt, o, ck), dtype=x.dtype)
    for t in prange(nt):
        xpad = np.zeros((c_in, h + 2 * ph, wd + 2 * pw), dtype=x.dtype)
        cols = np.empty((p, ck), dtype=x.dtype)
        gw_t = partial[t]
        for n in range(t * n_img // nt, (t + 1) * n_img // nt):
            pad_image(x, n, ph, pw, xpad)
            im2col_image(xpad, kh, kw, sh, sw, ho, wo, cols)
            gemm_tile(gy[n].reshape(o, p), 0, 0, cols, gw_t, 0, 0, o, p, ck)
    gw = partial[0].copy()
    for t in range(1, nt):
        gw += partial[t]
    return gw.reshape(o, c_in, kh, kw)


def conv2d_backward_weight_gemm(x, gy, kh, kw, sh, sw, ph, pw):
    """See ``_conv2d_backward_weight_gemm``; runs on ``numba.get_num_threads()`` threads (one image each)."""
    return _conv2d_backward_weight_gemm(x, gy, kh, kw, sh, sw, ph, pw, _threads(x.shape[0]))


# -- direct loops -----------------------------------------------------------------------------------------


@njit(parallel=True, **FMA)
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


@njit(parallel=True, **FMA)
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


@njit(parallel=True, **FMA)
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


@njit(parallel=True, **STRICT)
def im2col(x, kh, kw, sh, sw, ph, pw):
    """(N*P, C*kh*kw) patch matrix of the whole batch, one image per parallel step."""
    n_img, c_in, h, wd = x.shape
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    p = ho * wo
    cols = np.empty((n_img * p, c_in * kh * kw), dtype=x.dtype)
    for n in prange(n_img):
        xpad = np.zeros((c_in, h + 2 * ph, wd + 2 * pw), dtype=x.dtype)
        pad_image(x, n, ph, pw, xpad)
        im2col_image(xpad, kh, kw, sh, sw, ho, wo, cols[n * p : (n + 1) * p])
    return cols


@njit(parallel=True, **STRICT)
def col2im(gcols, n_img, c_in, h, wd, kh, kw, sh, sw, ph, pw):
    """The adjoint of ``im2col``: (N*P, C*kh*kw) patch gradients -> gx (N, C, H, W), one image per step."""
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    p = ho * wo
    gx = np.empty((n_img, c_in, h, wd), dtype=gcols.dtype)
    for n in prange(n_img):
        gxpad = np.zeros((c_in, h + 2 * ph, wd + 2 * pw), dtype=gcols.dtype)
        col2im_image(gcols[n * p : (n + 1) * p], kh, kw, sh, sw, ho, wo, gxpad)
        gx[n] = gxpad[:, ph : ph + h, pw : pw + wd]
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
