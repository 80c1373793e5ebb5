"""Pooling: ``max_pool2d`` and ``avg_pool2d``, PyTorch's functions, twice differentiable. Chapter 05.

For x (N, C, H, W) (or unbatched (C, H, W)), kernel (kh, kw), stride (sh, sw) (default: the kernel),
padding (ph, pw) <= half the kernel, the output has, per spatial axis,

    n_out = floor((n + 2 p - k) / s) + 1     (ceil instead of floor with ceil_mode=True, minus one if the
                                             last window would start in the right padding)

and window (i, j) covers rows i sh - ph .. i sh - ph + kh - 1 (columns likewise).

max_pool2d: y = the window's maximum, over real input elements only (padding never wins). Its gradient
goes to the first maximum in the window (row-major order) on ties, as in PyTorch, so the backward is a
scatter-add of gy at the argmax positions (``index_add_into``) and its backward a gather: both are linear,
and every higher derivative follows. ``return_indices=True`` also returns those positions as flat
indices h * W + w into each (H, W) plane (PyTorch's convention).

avg_pool2d: y = (sum of the window) / divisor, with divisor kh * kw clipped to the padded input
(count_include_pad=True, the default), or the number of real input elements in the window
(count_include_pad=False), or ``divisor_override``. Both divisors factorise into a row count times a
column count, so average pooling is a separable linear map y = A_h x A_w^T (``separable.py``).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import array_module
from .indexing import index_add_into
from .separable import axis_map
from .shape import reshape


def _pair(value, name: str, fn: str, minimum: int) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    pair = tuple(pair) * (2 if len(pair) == 1 else 1) if isinstance(pair, (tuple, list)) else ()
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    if not all(v >= minimum for v in pair):
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def pool_output_size(n: int, k: int, s: int, p: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length along one axis (see the module docstring)."""
    span = n + 2 * p - k
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside the input or left pad
        out -= 1
    return out


def _arguments(x, kernel_size, stride, padding, ceil_mode, fn):
    x = as_tensor(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: expected a floating-point input, got dtype {x.dtype}")
    kernel = _pair(kernel_size, "kernel_size", fn, 1)
    stride = kernel if stride is None or stride == () or stride == [] else _pair(stride, "stride", fn, 1)
    padding = _pair(padding, "padding", fn, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(
            f"{fn}: padding should be at most half of the kernel size, got padding={padding} and "
            f"kernel_size={kernel}"
        )
    out = tuple(
        pool_output_size(n, k, s, p, bool(ceil_mode))
        for n, k, s, p in zip(x.shape[-2:], kernel, stride, padding)
    )
    if min(out) < 1:
        raise ValueError(
            f"{fn}: input spatial size {x.shape[-2:]} is too small for kernel_size={kernel}, "
            f"stride={stride}, padding={padding}: output size would be {out}"
        )
    return x, kernel, stride, padding, out


class MaxPool2d(Function):
    """y = window maxima of x (N, C, H, W); also returns the flat argmax index h * W + w per output.
    backward: gx = gy scattered (added) at the argmax positions."""

    def __init__(self, kernel, stride, padding, out_hw):
        self.kernel, self.stride, self.padding, self.out_hw = kernel, stride, padding, out_hw

    def forward(self, x):
        xp = array_module(x)
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw), (ho, wo) = self.kernel, self.stride, self.padding, self.out_hw
        # -inf padding, and enough of it on the far side for ceil_mode's last, partial window
        hp, wp = max(h + 2 * ph, (ho - 1) * sh + kh), max(w + 2 * pw, (wo - 1) * sw + kw)
        xpad = xp.full((n, c, hp, wp), -xp.inf, dtype=x.dtype)
        xpad[:, :, ph : ph + h, pw : pw + w] = x
        s0, s1, s2, s3 = xpad.strides
        windows = xp.lib.stride_tricks.as_strided(
            xpad, (n, c, ho, wo, kh, kw), (s0, s1, s2 * sh, s3 * sw, s2, s3)
        ).reshape(n, c, ho, wo, kh * kw)
        k = windows.argmax(axis=-1)  # the first maximum on ties, as PyTorch
        y = xp.take_along_axis(windows, k[..., None], axis=-1)[..., 0]
        rows = xp.arange(ho).reshape(-1, 1) * sh - ph + k // kw  # position in the unpadded plane
        cols = xp.arange(wo) * sw - pw + k % kw
        flat = (rows * w + cols).astype(np.int64)  # (N, C, Ho, Wo): flat index into each (H, W) plane
        self.save(flat)
        self.x_shape = x.shape
        return y, flat

    def backward(self, gy, _):
        (flat,) = self.saved
        n, c, h, w = self.x_shape
        plane = (gy.xp.arange(n * c) * (h * w)).reshape(n, c, 1, 1)
        index = (flat + plane).reshape(-1)  # into x flattened to (N * C * H * W,)
        return reshape(index_add_into(reshape(gy, (-1,)), index, (n * c * h * w,)), self.x_shape)


def max_pool2d(
    input,  # noqa: A002 - PyTorch's argument name
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """PyTorch's ``F.max_pool2d``: (N, C, H, W) -> (N, C, Ho, Wo) of window maxima.

    return_indices=True returns (y, indices) with indices (int64, y's shape) the flat position
    h * W + w of each maximum in its (H, W) plane. Only dilation=1 is implemented.
    """
    x, kernel, stride, padding, out = _arguments(input, kernel_size, stride, padding, ceil_mode, "max_pool2d")
    if _pair(dilation, "dilation", "max_pool2d", 1) != (1, 1):
        raise NotImplementedError(f"max_pool2d: dilation={dilation!r} is not implemented (only 1)")
    unbatched = x.ndim == 3
    if unbatched:
        x = reshape(x, (1,) + x.shape)
    y, indices = MaxPool2d(kernel, stride, padding, out)(x)
    if unbatched:
        y, indices = reshape(y, y.shape[1:]), reshape(indices, indices.shape[1:])
    return (y, indices) if return_indices else y


def avg_pool_matrix(n, k, s, p, n_out, count_include_pad, divisor_override=None) -> np.ndarray:
    """(n_out, n) matrix of one axis of average pooling: 1 / divisor over each window's real elements."""
    a = np.zeros((n_out, n))
    for i in range(n_out):
        start = i * s - p
        end = min(start + k, n + p)  # the window clipped to the padded input
        lo, hi = max(start, 0), min(end, n)
        if divisor_override is not None:
            divisor = 1.0
        elif count_include_pad:
            divisor = end - start
        else:
            divisor = hi - lo
        a[i, lo:hi] = 1.0 / divisor
    return a


def avg_pool2d(
    input,  # noqa: A002 - PyTorch's argument name
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override=None,
) -> Tensor:
    """PyTorch's ``F.avg_pool2d``: (N, C, H, W) -> (N, C, Ho, Wo) of window means (see the docstring
    of this module for the divisor)."""
    x, kernel, stride, padding, out = _arguments(input, kernel_size, stride, padding, ceil_mode, "avg_pool2d")
    if divisor_override is not None and (
        not isinstance(divisor_override, (int, np.integer)) or divisor_override <= 0
    ):
        raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
    y = x
    for axis, n, k, s, p, n_out in zip((-2, -1), x.shape[-2:], kernel, stride, padding, out):
        a = avg_pool_matrix(n, k, s, p, n_out, count_include_pad, divisor_override)
        y = axis_map(y, a, x.ndim + axis)
    if divisor_override is not None:
        y = y * (1.0 / divisor_override)
    return y
