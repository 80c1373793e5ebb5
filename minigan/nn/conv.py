"""Convolution layers: Conv2d and ConvTranspose2d. Chapter 05 (layers), built on chapter 04's ops.

Constructor arguments, parameter names and shapes, and default initialisation match PyTorch:
Conv2d's weight is (out_channels, in_channels, kh, kw), ConvTranspose2d's is (in_channels, out_channels,
kh, kw); both are drawn with kaiming_uniform_(a=sqrt(5)) and their biases from U(+-1/sqrt(fan_in)), where
fan_in = weight.shape[1] * kh * kw - for the transposed layer that is out_channels * kh * kw, exactly
as PyTorch computes it. Only groups=1, dilation=1 and zero padding are implemented; other values are an
error rather than a silent difference. The constructor checks its sizes (channels: non-negative ints;
kernel_size, stride: ints >= 1; padding, output_padding: ints >= 0, output_padding < stride) and names the
argument that is wrong, where PyTorch would fail later, inside forward.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..ops.conv import _pair, conv_transpose2d_output_size
from . import functional as F
from . import init
from .linear import _empty, _reset_fan_in_uniform
from .module import Module


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _size_pair(value, name: str, layer: str, minimum: int) -> tuple[int, int]:
    """(a, b) from an int or a pair of ints >= ``minimum``: TypeError for non-ints, ValueError below it."""
    pair = (value, value) if _is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if pair is None or len(pair) != 2 or not all(_is_int(v) for v in pair):
        raise TypeError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{layer}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _channels(value, name: str, layer: str) -> int:
    if not _is_int(value):
        raise TypeError(f"{layer}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{layer}: {name} must be non-negative, got {value}")
    return int(value)


class _ConvNd(Module):
    def __init__(
        self, name, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
        padding_mode, weight_shape, device, dtype,
    ):  # fmt: skip
        super().__init__()
        if groups != 1:
            raise NotImplementedError(f"{name}: groups={groups} is not implemented (only groups=1)")
        if _pair(dilation, "dilation") != (1, 1):
            raise NotImplementedError(f"{name}: dilation={dilation} is not implemented (only dilation=1)")
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{name}: padding_mode={padding_mode!r} is not implemented (only 'zeros')"
            )
        if isinstance(padding, str):
            raise NotImplementedError(
                f"{name}: string padding {padding!r} is not implemented; give an int or pair"
            )
        self.in_channels = _channels(in_channels, "in_channels", name)
        self.out_channels = _channels(out_channels, "out_channels", name)
        self.kernel_size = _size_pair(kernel_size, "kernel_size", name, 1)
        self.stride = _size_pair(stride, "stride", name, 1)
        self.padding = _size_pair(padding, "padding", name, 0)
        self.dilation, self.groups, self.padding_mode = (1, 1), 1, padding_mode
        self.weight = _empty(weight_shape + self.kernel_size, device, dtype)
        if bias:
            self.bias = _empty((self.out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_fan_in_uniform(self.weight, self.bias, init._calculate_fan_in_and_fan_out(self.weight)[0])

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True, padding_mode='zeros', device=None, dtype=None)``: (N, C_in, H, W) -> (N, C_out, Ho, Wo),
    Ho = (H + 2 padding - kernel_size) // stride + 1."""

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
        padding_mode="zeros", device=None, dtype=None,
    ):  # fmt: skip
        super().__init__(
            "Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, (out_channels, in_channels), device, dtype,
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)


class ConvTranspose2d(_ConvNd):
    """``ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
    groups=1, bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None)``:
    (N, C_in, H, W) -> (N, C_out, Hout, Wout),
    Hout = (H - 1) stride - 2 padding + kernel_size + output_padding.
    ``forward(x, output_size=None)``: output_size (H, W) picks the output_padding that gives that size."""

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
        bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None,
    ):  # fmt: skip
        super().__init__(
            "ConvTranspose2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
            bias, padding_mode, (in_channels, out_channels), device, dtype,
        )  # fmt: skip
        self.output_padding = _size_pair(output_padding, "output_padding", "ConvTranspose2d", 0)
        if any(op >= st for op, st in zip(self.output_padding, self.stride)):
            raise ValueError(
                f"ConvTranspose2d: output_padding {self.output_padding} must be smaller than stride "
                f"{self.stride}"
            )

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        output_padding = self.output_padding
        if output_size is not None:
            size = tuple(output_size)[-2:]
            base = conv_transpose2d_output_size(
                x.shape[2:], self.kernel_size, self.stride, self.padding, (0, 0)
            )
            output_padding = tuple(s - b for s, b in zip(size, base))
            if any(not 0 <= op < st for op, st in zip(output_padding, self.stride)):
                largest = tuple(b + st - 1 for b, st in zip(base, self.stride))
                raise ValueError(
                    f"ConvTranspose2d: requested an output size of {size}, but valid sizes range from {base} "
                    f"to {largest} (for an input of {x.shape[2:]})"
                )
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, output_padding)
