"""Pooling layers: MaxPool2d and AvgPool2d. Chapter 05.

A pooling layer summarises each kernel-sized window of every channel by its maximum or its mean, so the
image shrinks by the stride (default: the kernel size). DCGAN's discriminator downsamples with strided
convolutions instead (chapter 08); U-Net encoders and many classifiers pool. The formulas are in
``minigan/ops/pool.py``.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops.pool import _pair
from . import functional as F
from .module import Module


class MaxPool2d(Module):
    """``MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)``:
    (N, C, H, W) -> (N, C, Ho, Wo), Ho = floor((H + 2 padding - kernel_size) / stride) + 1."""

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False, ceil_mode=False
    ):
        super().__init__()
        _pair(kernel_size, "kernel_size", "MaxPool2d", 1)
        if stride is not None:
            _pair(stride, "stride", "MaxPool2d", 1)
        _pair(padding, "padding", "MaxPool2d", 0)
        if _pair(dilation, "dilation", "MaxPool2d", 1) != (1, 1):
            raise NotImplementedError(f"MaxPool2d: dilation={dilation!r} is not implemented (only 1)")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor):
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """``AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None)``: window means, same output size as MaxPool2d."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override=None,
    ):
        super().__init__()
        _pair(kernel_size, "kernel_size", "AvgPool2d", 1)
        if stride is not None:
            _pair(stride, "stride", "AvgPool2d", 1)
        _pair(padding, "padding", "AvgPool2d", 0)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
