"""Plain-NumPy reference versions of every kernel: the readable definitions the fast kernels are tested
against (chapters 03 and 04; batch norm, chapter 05). They work in any float dtype (tests run them in
float64), and on CuPy arrays too: the array module is read off the operands, so ``kernels.dispatch``
registers these same functions as the "reference" implementations on the GPU.

Notation (PyTorch's): x (N, C, H, W) input, w (O, C, kh, kw) weight, y (N, O, Ho, Wo) output, stride
(sh, sw), zero padding (ph, pw) on each side, xpad the zero-padded x, and

    y[n, o, i, j] = sum_{c, a, b} w[o, c, a, b] * xpad[n, c, i*sh + a, j*sw + b]
    Ho = (H + 2 ph - kh) // sh + 1,   Wo = (W + 2 pw - kw) // sw + 1.

Each convolution is written as a loop over the kh*kw kernel taps: tap (a, b) multiplies the strided slice
xpad[:, :, a : a + sh*Ho : sh, b : b + sw*Wo : sw] (shape N, C, Ho, Wo) by the matrix w[:, :, a, b]. The three
passes are the three ways to contract the same product (see chapter 04):

    forward          y  = sum_ab  slice_ab(xpad) . w[:, :, a, b]      (contract c)
    backward input   slice_ab(gxpad) += gy . w[:, :, a, b]            (contract o; overlapping slices add)
    backward weight  gw[:, :, a, b]  = sum_{n,i,j} gy * slice_ab(xpad) (contract n, i, j)
"""

from __future__ import annotations

import numpy as np


def _xp(*arrays):
    """numpy, or cupy when an operand is a CuPy array (checked without importing CuPy)."""
    if any(type(a).__module__.startswith("cupy") for a in arrays):
        import cupy  # noqa: PLC0415 - only reached with CuPy arrays in hand

        return cupy
    return np


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def conv_output_size(h, w, kh, kw, stride, padding):
    """(Ho, Wo) of a convolution: ((H + 2 ph - kh) // sh + 1, (W + 2 pw - kw) // sw + 1)."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1


def matmul(a, b):
    """``a @ b`` by its definition, c[..., i, j] = sum_k a[..., i, k] b[..., k, j] (batch dims broadcast;
    a 1-D ``a`` is a row, a 1-D ``b`` a column, and that axis is dropped from the result, as in NumPy)."""
    xp = _xp(a, b)
    a, b = xp.asarray(a), xp.asarray(b)
    if a.ndim == 1:
        return matmul(a[None, :], b)[..., 0, :]
    if b.ndim == 1:
        return matmul(a, b[:, None])[..., 0]
    return xp.einsum("...ik,...kj->...ij", a, b)


def _tap(xpad, a, b, sh, sw, ho, wo):
    """The strided slice that kernel tap (a, b) multiplies: shape (N, C, Ho, Wo)."""
    return xpad[:, :, a : a + sh * (ho - 1) + 1 : sh, b : b + sw * (wo - 1) + 1 : sw]


def conv2d_forward(x, w, stride=1, padding=0):
    """y (N, O, Ho, Wo) = conv(x (N, C, H, W), w (O, C, kh, kw)), cross-correlation as in PyTorch."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho, wo = conv_output_size(h, wd, kh, kw, (sh, sw), (ph, pw))
    xp = _xp(x, w)
    xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = xp.zeros((n, o, ho, wo), dtype=xp.result_type(x, w))
    for a in range(kh):
        for b in range(kw):
            y += xp.einsum("nchw,oc->nohw", _tap(xpad, a, b, sh, sw, ho, wo), w[:, :, a, b])
    return y


def conv2d_backward_input(gy, w, x_shape, stride=1, padding=0):
    """gx (x_shape) = the gradient of sum(gy * conv(x, w)) with respect to x: the adjoint of conv in x.

    Every output position scatters w^T gy back onto the patch it read; patches overlap when stride < k, so
    their contributions add. Input pixels that no window reads get 0.
    """
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    _, _, ho, wo = gy.shape
    _, c, kh, kw = w.shape
    n, _, h, wd = x_shape
    xp = _xp(gy, w)
    gxpad = xp.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=xp.result_type(gy, w))
    for a in range(kh):
        for b in range(kw):
            _tap(gxpad, a, b, sh, sw, ho, wo)[...] += xp.einsum("nohw,oc->nchw", gy, w[:, :, a, b])
    return gxpad[:, :, ph : ph + h, pw : pw + wd].copy()


def conv2d_backward_weight(x, gy, w_shape, stride=1, padding=0):
    """gw (w_shape) = the gradient of sum(gy * conv(x, w)) with respect to w: correlate x with gy."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    _, _, ho, wo = gy.shape
    o, c, kh, kw = w_shape
    xp = _xp(x, gy)
    xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    gw = xp.zeros((o, c, kh, kw), dtype=xp.result_type(x, gy))
    for a in range(kh):
        for b in range(kw):
            gw[:, :, a, b] = xp.einsum("nohw,nchw->oc", gy, _tap(xpad, a, b, sh, sw, ho, wo))
    return gw


def conv_transpose2d(x, w, stride=1, padding=0, output_padding=0):
    """Transposed convolution (PyTorch's ``conv_transpose2d``): x (N, C_in, H, W), w (C_in, C_out, kh, kw)
    -> (N, C_out, Hout, Wout), Hout = (H - 1) sh - 2 ph + kh + oph. It is ``conv2d_backward_input`` with w
    read as a conv weight (O = C_in, C = C_out): the adjoint of the convolution that maps back."""
    (sh, sw), (ph, pw), (oph, opw) = _pair(stride), _pair(padding), _pair(output_padding)
    n, _, h, wd = x.shape
    _, cout, kh, kw = w.shape
    hout = (h - 1) * sh - 2 * ph + kh + oph
    wout = (wd - 1) * sw - 2 * pw + kw + opw
    return conv2d_backward_input(x, w, (n, cout, hout, wout), (sh, sw), (ph, pw))


def batch_norm_forward(x3, gamma, beta, eps):
    """Batch norm in training mode for x3 (N, C, L), per channel over its M = N*L numbers:
    mean, biased var, invstd = 1 / sqrt(var + eps), x_hat = (x - mean) invstd, y = gamma x_hat + beta.
    Returns (y, x_hat, mean, var, invstd), all in x3's dtype."""
    mean = x3.mean(axis=(0, 2))
    xc = x3 - mean[None, :, None]
    var = (xc * xc).mean(axis=(0, 2))
    invstd = (var + x3.dtype.type(eps)) ** -0.5
    x_hat = xc * invstd[None, :, None]
    return x_hat * gamma[None, :, None] + beta[None, :, None], x_hat, mean, var, invstd


def batch_norm_backward(gy3, x_hat3, gamma, invstd, need_gx):
    """The gradient of ``batch_norm_forward``: g_beta = sum(gy), g_gamma = sum(gy x_hat) per channel and
    gx = gamma invstd / M * (M gy - g_beta - x_hat g_gamma). Returns (gx or None, g_gamma, g_beta)."""
    m = gy3.shape[0] * gy3.shape[2]
    g_beta = gy3.sum(axis=(0, 2))
    g_gamma = (gy3 * x_hat3).sum(axis=(0, 2))
    if not need_gx:
        return None, g_gamma, g_beta
    scale = (gamma * invstd / gy3.dtype.type(m))[None, :, None]
    gx = (gy3 * gy3.dtype.type(m) - g_beta[None, :, None] - x_hat3 * g_gamma[None, :, None]) * scale
    return gx, g_gamma, g_beta
