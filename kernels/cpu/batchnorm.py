"""Batch normalisation in training mode, forward and backward, fused per channel with Numba (chapter 05).

x is viewed as x3 (N, C, L), L = the product of the spatial sizes (1 for BatchNorm1d). Per channel c,
over its M = N*L numbers:

    mu = mean(x),  var = mean((x - mu)^2),  invstd = 1 / sqrt(var + eps),  x_hat = (x - mu) invstd
    y = gamma x_hat + beta                                                              (forward)
    g_beta = sum(gy),  g_gamma = sum(gy x_hat)
    gx = gamma invstd / M * (M gy - g_beta - x_hat g_gamma)                             (backward)

NumPy needs about nine passes over x for the forward pass and writes as many temporaries (a mean over
axes (0, 2, 3) of an NCHW array is itself slow); here it is two reading passes (the mean, then the
centred sum of squares) and one writing pass for x_hat and y, with the channels split over the threads;
the backward pass reads gy and x_hat twice and writes gx once (timings: kernels/RESULTS.md).

Every number is computed in an order fixed by this source (``STRICT`` flags, no fast-math; see
``cpu/matmul.py``), so a seed gives the same bits whether the kernel was just compiled or loaded from
Numba's cache, and whatever the thread count (a channel is always summed by one thread). When L > 1 a
channel's sums run in float64 in two steps: over the batch, position by position (``acc[k] += x[n, c, k]``:
independent sums along the contiguous positions, which vectorise without reordering anything), then over
the L positions in order. Products of two float32 numbers are formed in float64, where they are exact.
When L == 1 (BatchNorm1d) a channel has only N numbers, C apart, so the sums run row by row with the
channels as the unit-stride inner loop, in x's dtype. Results are in x's dtype.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .matmul import STRICT

CHUNK = 512
"""Channels per parallel step when L == 1 (BatchNorm1d): rows of 512 numbers, unit stride."""


@njit(**STRICT)
def _sum_in_order(v):
    """v[0] + v[1] + ... + v[-1], left to right."""
    s = 0.0
    for k in range(v.shape[0]):
        s += v[k]
    return s


@njit(parallel=True, **STRICT)
def batch_norm_forward(x3, gamma, beta, eps):
    """(y3, x_hat3, mean, var, invstd) for x3 (N, C, L); var is the biased batch variance."""
    n_img, c_in, ell = x3.shape
    m = n_img * ell
    mean = np.empty(c_in, dtype=np.float64)
    var = np.empty(c_in, dtype=np.float64)
    if ell == 1:
        # sums of only N numbers per channel here: accumulated in x's dtype, full SIMD width
        x2 = x3.reshape(n_img, c_in)
        nb = (c_in + CHUNK - 1) // CHUNK
        for blk in prange(nb):  # a block of channels per thread step, rows n in turn (unit stride in c)
            c0, c1 = blk * CHUNK, min(c_in, (blk + 1) * CHUNK)
            s = np.zeros(c1 - c0, dtype=x3.dtype)
            for n in range(n_img):
                row = x2[n, c0:c1]
                for c in range(c1 - c0):
                    s[c] += row[c]
            s /= m
            s2 = np.zeros(c1 - c0, dtype=x3.dtype)
            for n in range(n_img):
                row = x2[n, c0:c1]
                for c in range(c1 - c0):
                    d = row[c] - s[c]
                    s2[c] += d * d
            for c in range(c1 - c0):
                mean[c0 + c] = s[c]
                var[c0 + c] = s2[c] / m
    else:
        for c in prange(c_in):
            acc = np.zeros(ell, dtype=np.float64)  # acc[k] = sum over the batch of x[:, c, k]
            for n in range(n_img):
                row = x3[n, c]
                for k in range(ell):
                    acc[k] += row[k]
            mu = _sum_in_order(acc) / m
            acc[:] = 0.0
            for n in range(n_img):
                row = x3[n, c]
                for k in range(ell):
                    d = np.float64(row[k]) - mu
                    acc[k] += d * d
            mean[c] = mu
            var[c] = _sum_in_order(acc) / m
    invstd = 1.0 / np.sqrt(var + eps)
    x_hat = np.empty_like(x3)
    y = np.empty_like(x3)
    if ell == 1:
        x2, xh2, y2 = x3.reshape(n_img, c_in), x_hat.reshape(n_img, c_in), y.reshape(n_img, c_in)
        mu_t, inv_t = mean.astype(x3.dtype), invstd.astype(x3.dtype)
        for n in prange(n_img):
            src, xh, dst = x2[n], xh2[n], y2[n]
            for c in range(c_in):
                v = (src[c] - mu_t[c]) * inv_t[c]
                xh[c] = v
                dst[c] = v * gamma[c] + beta[c]
        return y, x_hat, mean.astype(x3.dtype), var.astype(x3.dtype), inv_t
    for c in prange(c_in):
        mu, inv = x3.dtype.type(mean[c]), x3.dtype.type(invstd[c])
        g, b = gamma[c], beta[c]
        for n in range(n_img):
            src, xh, dst = x3[n, c], x_hat[n, c], y[n, c]
            for k in range(ell):
                v = (src[k] - mu) * inv
                xh[k] = v
                dst[k] = v * g + b
    return y, x_hat, mean.astype(x3.dtype), var.astype(x3.dtype), invstd.astype(x3.dtype)


@njit(parallel=True, **STRICT)
def batch_norm_backward(gy3, x_hat3, gamma, invstd, need_gx):
    """(gx3, g_gamma, g_beta) for gy3, x_hat3 (N, C, L); gx3 is empty (0, 0, 0) unless ``need_gx``."""
    n_img, c_in, ell = gy3.shape
    m = n_img * ell
    sum_gy = np.zeros(c_in, dtype=np.float64)
    sum_gy_xhat = np.zeros(c_in, dtype=np.float64)
    if ell == 1:
        gy2, xh2 = gy3.reshape(n_img, c_in), x_hat3.reshape(n_img, c_in)
        nb = (c_in + CHUNK - 1) // CHUNK
        for blk in prange(nb):
            c0, c1 = blk * CHUNK, min(c_in, (blk + 1) * CHUNK)
            s = np.zeros(c1 - c0, dtype=gy3.dtype)
            s2 = np.zeros(c1 - c0, dtype=gy3.dtype)
            for n in range(n_img):
                g, xh = gy2[n, c0:c1], xh2[n, c0:c1]
                for c in range(c1 - c0):
                    s[c] += g[c]
                    s2[c] += g[c] * xh[c]
            for c in range(c1 - c0):
                sum_gy[c0 + c] = s[c]
                sum_gy_xhat[c0 + c] = s2[c]
    else:
        for c in prange(c_in):
            acc = np.zeros(ell, dtype=np.float64)  # as in the forward pass: over the batch, then along k
            acc2 = np.zeros(ell, dtype=np.float64)
            for n in range(n_img):
                g, xh = gy3[n, c], x_hat3[n, c]
                for k in range(ell):
                    gk = np.float64(g[k])
                    acc[k] += gk
                    acc2[k] += gk * np.float64(xh[k])
            sum_gy[c] = _sum_in_order(acc)
            sum_gy_xhat[c] = _sum_in_order(acc2)
    gx = np.empty((n_img, c_in, ell) if need_gx else (0, 0, 0), dtype=gy3.dtype)
    if need_gx and ell == 1:
        scale = gamma * invstd / m
        mg = (m * scale).astype(gy3.dtype)
        sg = (sum_gy * scale).astype(gy3.dtype)
        sx = (sum_gy_xhat * scale).astype(gy3.dtype)
        gy2, xh2, gx2 = gy3.reshape(n_img, c_in), x_hat3.reshape(n_img, c_in), gx.reshape(n_img, c_in)
        for n in prange(n_img):
            g, xh, dst = gy2[n], xh2[n], gx2[n]
            for c in range(c_in):
                dst[c] = g[c] * mg[c] - sg[c] - xh[c] * sx[c]
    elif need_gx:
        for c in prange(c_in):
            scale = gamma[c] * invstd[c] / m
            mg = gy3.dtype.type(m * scale)
            sg = gy3.dtype.type(sum_gy[c] * scale)
            sx = gy3.dtype.type(sum_gy_xhat[c] * scale)
            for n in range(n_img):
                g, xh, dst = gy3[n, c], x_hat3[n, c], gx[n, c]
                for k in range(ell):
                    dst[k] = g[k] * mg - sg - xh[k] * sx
    return gx, sum_gy_xhat.astype(gy3.dtype), sum_gy.astype(gy3.dtype)
