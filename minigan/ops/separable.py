"""A linear map along one axis, y = A x: the op behind interpolation and average pooling. Chapter 05.

Nearest and bilinear interpolation and average pooling are *separable* linear maps of an image: each
output pixel is a weighted sum of input pixels whose weight factorises into a row weight times a column
weight, so for x (..., H, W)

    y = A_h x A_w^T          A_h (H_out, H), A_w (W_out, W)

and the whole op is two ``axis_map`` calls, one per spatial axis. The matrices say everything: nearest
puts a single 1 in each row, linear interpolation two weights summing to 1, average pooling 1 / divisor
across each window. The gradient of a linear map is the transposed map, gx = A^T gy, whose gradient is
the map again, so one Function covers every order of derivative.

Cost: A is stored dense, O(out * in) multiply-adds per line instead of the O(out) of a gather. For the
image sizes of this library (up to 64 x 64) that is a few matmuls BLAS does in microseconds, and it keeps
the forward and the backward the same one line on the CPU and the GPU.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import array_module, device_of, to_device


class AxisMap(Function):
    """y = A x along ``axis`` (y's axis has length A.shape[0]); backward: AxisMap(A^T)."""

    def __init__(self, matrix, axis):
        self.matrix, self.axis = matrix, axis  # matrix: float64 NumPy array (out, in)

    def forward(self, x):
        xp = array_module(x)
        a = to_device(self.matrix.astype(x.dtype), device_of(x))
        y = xp.moveaxis(x, self.axis, -1) @ a.T
        return xp.ascontiguousarray(xp.moveaxis(y, -1, self.axis))

    def backward(self, gy):
        return AxisMap(self.matrix.T, self.axis)(gy)


def axis_map(x: Tensor, matrix: np.ndarray, axis: int) -> Tensor:
    """y = ``matrix`` @ x along ``axis``; matrix (out, x.shape[axis]) as a NumPy array."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != x.shape[axis]:
        raise ValueError(
            f"axis_map: matrix of shape {matrix.shape} cannot map axis {axis} of length {x.shape[axis]}"
        )
    return AxisMap(matrix, axis)(x)
