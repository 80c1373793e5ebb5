"""Padding layers: ZeroPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d. Chapter 05.

Image-to-image generators (pix2pix, CycleGAN) pad with reflection before their 3x3 convolutions, so the
border pixels see a mirror of the image instead of a frame of zeros that the network would learn to
draw. ``padding`` is an int (all four sides) or (left, right, top, bottom), PyTorch's order; the layers
call ``F.pad`` (``minigan/ops/pad.py``) on (N, C, H, W) or unbatched (C, H, W) input.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from . import functional as F
from .module import Module


def _quadruple(padding, name: str) -> tuple[int, int, int, int]:
    pads = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
    if len(pads) != 4 or not all(isinstance(p, int) and not isinstance(p, bool) for p in pads):
        raise TypeError(
            f"{name}: padding must be an int or 4 ints (left, right, top, bottom), got {padding!r}"
        )
    return pads


class _Pad2d(Module):
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _quadruple(padding, type(self).__name__)
        if self.mode != "constant" and min(self.padding) < 0:
            raise ValueError(f"{type(self).__name__}: padding must be non-negative, got {padding!r}")

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad2d(_Pad2d):
    """``ReflectionPad2d(padding)``: mirror the image about its edge rows and columns (each pad < size)."""

    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """``ReplicationPad2d(padding)``: repeat the edge rows and columns outwards."""

    mode = "replicate"


class ConstantPad2d(_Pad2d):
    """``ConstantPad2d(padding, value)``: surround the image with ``value`` (negative padding crops)."""

    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """``ZeroPad2d(padding)``: surround the image with zeros (what a convolution's own padding does)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
