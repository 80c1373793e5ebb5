"""The vendor-library baseline on the GPU: explicit im2col + cuBLAS through CuPy (chapter 04).

The same three convolution passes as ``conv.py``, done the way Caffe and Chainer did them: materialise
the im2col matrix ``cols (N, C KH KW, OH OW)`` (KH KW times the size of x) with strided copies, then one
batched GEMM in cuBLAS (``xp.matmul`` / ``xp.tensordot``); the input gradient multiplies back into
columns and scatters them with col2im (overlapping windows add). ``matmul`` is ``xp.matmul``.

Written against the array module of its inputs, so it runs on CuPy (cuBLAS) and, for tests, on NumPy
(BLAS). CuPy computes float32 GEMMs in full FP32 unless ``CUPY_TF32=1`` is set, so this is also the
accuracy baseline the hand-written kernels are compared with.
"""

from __future__ import annotations

import numpy as np

from ._arrays import kind
from .conv import output_size


def _xp(a):
    if kind(a) == "cupy":
        import cupy  # noqa: PLC0415 - only with a CuPy array in hand

        return cupy
    return np


def _taps(kh, kw, sh, sw, oh, ow):
    """(a, b, slice of rows, slice of columns) of the padded input read by kernel tap (a, b)."""
    for a in range(kh):
        for b in range(kw):
            yield a, b, slice(a, a + sh * (oh - 1) + 1, sh), slice(b, b + sw * (ow - 1) + 1, sw)


def im2col(x, kh, kw, stride, padding):
    """``cols (N, C KH KW, OH OW)`` with ``cols[n, (c, a, b), (i, j)] = xpad[n, c, i SH + a, j SW + b]``."""
    xp = _xp(x)
    (sh, sw), (ph, pw) = _pairs(stride, padding)
    n, c, h, w = x.shape
    oh, ow = output_size(h, w, kh, kw, stride, padding)
    xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = xp.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for a, b, rows, columns in _taps(kh, kw, sh, sw, oh, ow):
        cols[:, :, a, b] = xpad[:, :, rows, columns]
    return cols.reshape(n, c * kh * kw, oh * ow)


def col2im(gcols, x_shape, kh, kw, stride, padding):
    """The adjoint of ``im2col``: ``gx (x_shape)``, each column scattered back onto its window (adds)."""
    xp = _xp(gcols)
    (sh, sw), (ph, pw) = _pairs(stride, padding)
    n, c, h, w = x_shape
    oh, ow = output_size(h, w, kh, kw, stride, padding)
    g6 = gcols.reshape(n, c, kh, kw, oh, ow)
    gxpad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=gcols.dtype)
    for a, b, rows, columns in _taps(kh, kw, sh, sw, oh, ow):
        gxpad[:, :, rows, columns] += g6[:, :, a, b]
    return xp.ascontiguousarray(gxpad[:, :, ph : ph + h, pw : pw + w])


def _pairs(stride, padding):
    s = (stride, stride) if np.isscalar(stride) else tuple(stride)
    p = (padding, padding) if np.isscalar(padding) else tuple(padding)
    return (int(s[0]), int(s[1])), (int(p[0]), int(p[1]))


def matmul(a, b):
    """``a @ b`` in the vendor library (cuBLAS for CuPy arrays)."""
    return _xp(a).matmul(a, b)


def conv2d(x, w, stride=1, padding=0):
    """``y = w (O, C KH KW) @ im2col(x)``: one batched GEMM, ``(N, O, OH, OW)``."""
    o, _, kh, kw = w.shape
    n, _, h, wd = x.shape
    oh, ow = output_size(h, wd, kh, kw, stride, padding)
    y = _xp(x).matmul(w.reshape(o, -1), im2col(x, kh, kw, stride, padding))
    return y.reshape(n, o, oh, ow)


def conv2d_backward_input(gy, w, x_shape, stride=1, padding=0):
    """``gx = col2im(w^T @ gy)``, the adjoint of ``conv2d`` in x."""
    o, _, kh, kw = w.shape
    n = gy.shape[0]
    gcols = _xp(gy).matmul(w.reshape(o, -1).T, gy.reshape(n, o, -1))
    return col2im(gcols, tuple(x_shape), kh, kw, stride, padding)


def conv2d_backward_weight(x, gy, w_shape, stride=1, padding=0):
    """``gw = sum_n gy[n] @ im2col(x)[n]^T``: one GEMM contracting the batch and the pixels."""
    o, _, kh, kw = w_shape
    n = gy.shape[0]
    cols = im2col(x, kh, kw, stride, padding)
    gw = _xp(x).tensordot(gy.reshape(n, o, -1), cols, axes=([0, 2], [0, 2]))
    return gw.reshape(tuple(w_shape))
