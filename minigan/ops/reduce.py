"""Reductions: sum, mean (and, added alongside, max and var). Chapter 01 (autograd).

A reduction's backward spreads the gradient back over the reduced axes: for ``sum`` every input element
gets the same gradient (broadcast), for ``mean`` the same divided by the count. With ``keepdim=False``
the reduced axes are first put back as length-1 axes so that broadcasting lines up.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dims
from .shape import broadcast_to, reshape


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdim)

    def backward(self, gy):
        x = self.inputs[0]
        return broadcast_to(reshape(gy, _kept_shape(x.shape, self.axes)), x.shape)


def sum(x, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - PyTorch's name
    """Sum over ``dim`` (None: all axes; int or tuple). O(numel)."""
    return Sum(normalize_dims(dim, x.ndim), keepdim)(x)


def mean(x, dim=None, keepdim: bool = False) -> Tensor:
    """Arithmetic mean over ``dim`` (None: all axes): sum / count."""
    axes = normalize_dims(dim, x.ndim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    return sum(x, axes, keepdim) / float(count) if x.ndim else x * 1.0
