"""2-D convolution and transposed convolution, forward and backward, twice differentiable. Chapter 04.

Notation (PyTorch's): x (N, C, H, W) input, w (O, C, kh, kw) weight, y (N, O, Ho, Wo) output, stride
(sh, sw), zero padding (ph, pw) on each side, and

    y[n, o, i, j] = sum_{c, a, b} w[o, c, a, b] * xpad[n, c, i*sh + a, j*sw + b]
    Ho = (H + 2 ph - kh) // sh + 1            Wo = (W + 2 pw - kw) // sw + 1

Three array-level functions do all the arithmetic, one per pass; everything above them is bookkeeping:

    conv2d_arrays(x, w)                        y   = conv(x, w)                       forward
    conv2d_backward_input_arrays(gy, w)        gx  = conv^T(gy, w)   (= conv_transpose2d)
    conv2d_backward_weight_arrays(x, gy)       gw  = corr(x, gy)

They hand the arithmetic to ``minigan.kernels`` (hand-written Numba / CUDA kernels, NumPy references
and BLAS baselines, chosen per device by ``kernels.use`` / ``kernels.set_default``; chapter 04), each
pass O(N * O * C * kh * kw * Ho * Wo) flops.

y = conv(x, w) is bilinear, so its derivatives are again convolutions. With <a, b> = sum(a * b):

    <conv(x, w), gy> = <x, conv^T(gy, w)> = <w, corr(x, gy)>

Every pass is one of the three, and so is every pass's backward. Three Functions close the set:

    Conv2d(x, w)              -> y    backward: gx = ConvBackwardInput(gy, w), gw = ConvBackwardWeight(x, gy)
    ConvBackwardInput(gy, w)  -> gx   backward: g_gy = Conv2d(ggx, w),  g_w = ConvBackwardWeight(ggx, gy)
    ConvBackwardWeight(x, gy) -> gw   backward: g_x = ConvBackwardInput(gy, ggw), g_gy = Conv2d(x, ggw)

so gradients of gradients (WGAN-GP, R1) work to any order. ``conv_transpose2d(x, w)`` *is*
ConvBackwardInput with w (C_in, C_out, kh, kw) read as a conv weight (O = C_in, C = C_out).
"""

from __future__ import annotations

from .. import kernels  # the repository's top-level kernels/ folder, installed as minigan.kernels
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from .shape import reshape


def _pair(value, name: str) -> tuple[int, int]:
    """(a, b) from an int or a pair of ints, checking they are non-negative ints."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 0 for v in pair):
        raise ValueError(f"{name} must be a non-negative int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv2d_output_size(hw, kernel, stride, padding) -> tuple[int, int]:
    """(Ho, Wo) = ((H + 2 ph - kh) // sh + 1, (W + 2 pw - kw) // sw + 1)."""
    return tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(hw, kernel, stride, padding))


def conv_transpose2d_output_size(hw, kernel, stride, padding, output_padding) -> tuple[int, int]:
    """(Hout, Wout) = ((H - 1) sh - 2 ph + kh + oph, ...), PyTorch's formula."""
    return tuple(
        (n - 1) * s - 2 * p + k + op for n, k, s, p, op in zip(hw, kernel, stride, padding, output_padding)
    )


# -- the three array-level passes -----------------------------------------------------------------------
#
# conv2d_arrays & co. send the arithmetic to minigan.kernels (chapter 04), which picks the implementation
# by device and by kernels.use(...) / kernels.set_default(...); every implementation is registered there.


def conv2d_arrays(x, w, stride, padding):
    """y = conv(x, w), computed by ``minigan.kernels.conv2d``."""
    return kernels.conv2d(x, w, stride, padding)


def conv2d_backward_input_arrays(gy, w, x_shape, stride, padding):
    """gx = conv^T(gy, w) for an input of shape ``x_shape``, computed by ``minigan.kernels``."""
    return kernels.conv2d_backward_input(gy, w, x_shape, stride, padding)


def conv2d_backward_weight_arrays(x, gy, w_shape, stride, padding):
    """gw = corr(x, gy) for a weight of shape ``w_shape``, computed by ``minigan.kernels``."""
    return kernels.conv2d_backward_weight(x, gy, w_shape, stride, padding)


# -- the three Functions ------------------------------------------------------------------------------


class Conv2d(Function):
    """y = conv(x, w). backward: gx = conv^T(gy, w), gw = corr(x, gy)."""

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, w):
        return conv2d_arrays(x, w, self.stride, self.padding)

    def backward(self, gy):
        x, w = self.inputs
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = ConvBackwardInput(x.shape, self.stride, self.padding)(gy, w)
        if self.needs_input_grad[1]:
            gw = ConvBackwardWeight(w.shape, self.stride, self.padding)(x, gy)
        return gx, gw


class ConvBackwardInput(Function):
    """gx = conv^T(gy, w) for an input of shape ``x_shape`` (also conv_transpose2d's forward).

    Linear in gy and in w: <ggx, conv^T(gy, w)> = <conv(ggx, w), gy> = <w, corr(ggx, gy)>, so
    backward: g_gy = conv(ggx, w), g_w = corr(ggx, gy).
    """

    def __init__(self, x_shape, stride, padding):
        self.x_shape, self.stride, self.padding = tuple(x_shape), stride, padding

    def forward(self, gy, w):
        return conv2d_backward_input_arrays(gy, w, self.x_shape, self.stride, self.padding)

    def backward(self, ggx):
        gy, w = self.inputs
        g_gy = g_w = None
        if self.needs_input_grad[0]:
            g_gy = Conv2d(self.stride, self.padding)(ggx, w)
        if self.needs_input_grad[1]:
            g_w = ConvBackwardWeight(w.shape, self.stride, self.padding)(ggx, gy)
        return g_gy, g_w


class ConvBackwardWeight(Function):
    """gw = corr(x, gy) for a weight of shape ``w_shape``.

    Linear in x and in gy: <ggw, corr(x, gy)> = <conv(x, ggw), gy> = <x, conv^T(gy, ggw)>, so
    backward: g_x = conv^T(gy, ggw), g_gy = conv(x, ggw).
    """

    def __init__(self, w_shape, stride, padding):
        self.w_shape, self.stride, self.padding = tuple(w_shape), stride, padding

    def forward(self, x, gy):
        return conv2d_backward_weight_arrays(x, gy, self.w_shape, self.stride, self.padding)

    def backward(self, ggw):
        x, gy = self.inputs
        g_x = g_gy = None
        if self.needs_input_grad[0]:
            g_x = ConvBackwardInput(x.shape, self.stride, self.padding)(gy, ggw)
        if self.needs_input_grad[1]:
            g_gy = Conv2d(self.stride, self.padding)(x, ggw)
        return g_x, g_gy


# -- public functions -----------------------------------------------------------------------------------


def _check_operands(name, x, w, b, w_channels_axis, out_channels_axis):
    """Tensors for x, w, b, with errors that name the argument and the shapes."""
    x, w = as_tensor(x), as_tensor(w)
    b = None if b is None else as_tensor(b)
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D weight, got shape {w.shape}")
    for label, t in (("input", x), ("weight", w), ("bias", b)):
        if t is not None and t.dtype.kind != "f":
            raise TypeError(f"{name}: expected a floating-point {label}, got dtype {t.dtype}")
    if w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        dtypes = f"input {x.dtype}, weight {w.dtype}" + ("" if b is None else f", bias {b.dtype}")
        raise TypeError(f"{name}: input, weight and bias must have the same dtype, got {dtypes}")
    if x.shape[1] != w.shape[w_channels_axis]:
        raise ValueError(
            f"{name}: input has {x.shape[1]} channels but weight expects {w.shape[w_channels_axis]} "
            f"(weight shape {w.shape})"
        )
    out_channels = w.shape[out_channels_axis]
    if b is not None and b.shape != (out_channels,):
        raise ValueError(f"{name}: bias must have shape ({out_channels},), got {b.shape}")
    return x, w, b


def _add_bias(y, b):
    return y if b is None else y + reshape(b, 1, b.shape[0], 1, 1)


def conv2d(x, w, b=None, stride=1, padding=0) -> Tensor:
    """2-D cross-correlation, PyTorch's ``F.conv2d``: x (N, C, H, W), w (O, C, kh, kw), b (O,) or None
    -> (N, O, Ho, Wo) with Ho = (H + 2 ph - kh) // sh + 1. ``stride``, ``padding``: int or (h, w) pair."""
    x, w, b = _check_operands("conv2d", x, w, b, w_channels_axis=1, out_channels_axis=0)
    stride, padding = _pair(stride, "conv2d: stride"), _pair(padding, "conv2d: padding")
    if 0 in stride:
        raise ValueError(f"conv2d: stride must be positive, got {stride}")
    kernel = w.shape[2:]
    padded = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(
            f"conv2d: kernel size {kernel} is larger than the padded input {padded} "
            f"(input shape {x.shape}, padding {padding})"
        )
    return _add_bias(Conv2d(stride, padding)(x, w), b)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0) -> Tensor:
    """Transposed convolution, PyTorch's ``F.conv_transpose2d``: x (N, C_in, H, W),
    w (C_in, C_out, kh, kw), b (C_out,) or None -> (N, C_out, Hout, Wout) with
    Hout = (H - 1) sh - 2 ph + kh + oph. It is the gradient of conv2d with respect to its input:
    every input pixel scatters a weighted copy of the kernel into the output, stride pixels apart."""
    name = "conv_transpose2d"
    x, w, b = _check_operands(name, x, w, b, w_channels_axis=0, out_channels_axis=1)
    stride, padding = _pair(stride, f"{name}: stride"), _pair(padding, f"{name}: padding")
    output_padding = _pair(output_padding, f"{name}: output_padding")
    if 0 in stride:
        raise ValueError(f"{name}: stride must be positive, got {stride}")
    if output_padding[0] >= stride[0] or output_padding[1] >= stride[1]:
        raise ValueError(f"{name}: output_padding {output_padding} must be smaller than stride {stride}")
    out_hw = conv_transpose2d_output_size(x.shape[2:], w.shape[2:], stride, padding, output_padding)
    if out_hw[0] <= 0 or out_hw[1] <= 0:
        raise ValueError(
            f"{name}: the output size {out_hw} is not positive (input shape {x.shape}, kernel "
            f"{w.shape[2:]}, stride {stride}, padding {padding}, output_padding {output_padding})"
        )
    x_shape = (x.shape[0], w.shape[1], *out_hw)
    return _add_bias(ConvBackwardInput(x_shape, stride, padding)(x, w), b)
