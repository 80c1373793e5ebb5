"""Reductions: sum, mean, max / min / amax / amin, argmax / argmin, var, std; maximum / minimum. Chapter 01.

A reduction's backward spreads the gradient back over the reduced axes: for ``sum`` every input element
gets the same gradient (broadcast), for ``mean`` the same divided by the count. With ``keepdim=False``
the reduced axes are first put back as length-1 axes so that broadcasting lines up.

max and min follow PyTorch. ``x.max()`` and ``amax(x, dims)`` return the values only, and their gradient
is split evenly among tied maxima (a subgradient: any convex combination would do; the even split is
symmetric). ``x.max(dim)`` returns a namedtuple ``(values, indices)`` and its gradient goes to the
element at ``indices`` alone (the first maximum). ``maximum(a, b)`` gives half the gradient to each operand
where they tie. var is the mean squared deviation with Bessel's correction ``N - correction`` (default 1)
in the denominator, built from mean / sub / mul / sum, so its higher derivatives come for free.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim, normalize_dims, operands
from .shape import broadcast_to, reshape, sum_to

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__doc__ = "What ``x.max(dim)`` / ``x.min(dim)`` return: the values and their int64 indices."


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    saves_inputs = ()  # backward needs only shapes

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


def _const(like: Tensor, array) -> Tensor:
    return Tensor._from_array(array.astype(like.dtype, copy=False))


class AMax(Function):
    """max (or min, ``largest=False``) over ``axes``; the gradient is shared evenly among ties."""

    def __init__(self, axes, keepdim, largest):
        self.axes, self.keepdim, self.largest = axes, keepdim, largest

    def forward(self, x):
        pick = x.max if self.largest else x.min
        return pick(axis=self.axes, keepdims=self.keepdim)

    def backward(self, gy):
        x = self.inputs[0]
        pick = x.array.max if self.largest else x.array.min
        hit = x.array == pick(axis=self.axes, keepdims=True)
        share = _const(x, hit / hit.sum(axis=self.axes, keepdims=True))
        return broadcast_to(reshape(gy, _kept_shape(x.shape, self.axes)), x.shape) * share


class MaxDim(Function):
    """(values, indices) of the max (or min) along one axis; the gradient goes to the index only."""

    def __init__(self, axis, keepdim, largest):
        self.axis, self.keepdim, self.largest = axis, keepdim, largest

    def forward(self, x):
        xp = Tensor._from_array(x).xp
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=np.int64)
        arg = xp.argmax if self.largest else xp.argmin
        idx = arg(x, axis=self.axis, keepdims=True)
        values = xp.take_along_axis(x, idx, axis=self.axis)
        self.save(idx)
        if not self.keepdim:
            values, idx = values.squeeze(self.axis), idx.squeeze(self.axis)
        return values, idx.astype(np.int64, copy=False)

    def backward(self, gy, g_indices):
        x = self.inputs[0]
        if x.ndim == 0:
            return gy
        (idx,) = self.saved
        along = [-1 if i == self.axis else 1 for i in range(x.ndim)]
        onehot = _const(x, x.xp.arange(x.shape[self.axis]).reshape(along) == idx)
        kept = list(x.shape)
        kept[self.axis] = 1
        return broadcast_to(reshape(gy, tuple(kept)), x.shape) * onehot


class Maximum(Function):
    """Elementwise max (or min) of two broadcast operands; ties give each operand half the gradient."""

    def __init__(self, largest):
        self.largest = largest

    def forward(self, a, b):
        xp = Tensor._from_array(a).xp
        return (xp.maximum if self.largest else xp.minimum)(a, b)

    def backward(self, gy):
        a, b = self.inputs
        wins = a.array > b.array if self.largest else a.array < b.array
        w = _const(gy, wins + 0.5 * (a.array == b.array))
        w = broadcast_to(w, gy.shape)
        return (
            sum_to(gy * w, a.shape) if self.needs_input_grad[0] else None,
            sum_to(gy * (1.0 - w), b.shape) if self.needs_input_grad[1] else None,
        )


def _extreme(x, dim, keepdim, largest, name):
    if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
        return Maximum(largest)(*operands(x, dim))
    if dim is None:
        if x.array.size == 0:
            raise ValueError(f"{name}(): the tensor is empty (shape {x.shape}), so it has no {name}")
        return AMax(normalize_dims(None, x.ndim), False, largest)(x)
    axis = normalize_dim(dim, x.ndim)
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"{name}(dim={dim}): dimension {axis} of shape {x.shape} is empty")
    values, indices = MaxDim(axis, keepdim, largest)(x)
    return ValuesIndices(values, indices)


def max(x, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    """``max(x)``: the largest value (0-d; gradient split evenly among ties). ``max(x, dim, keepdim)``:
    ``(values, indices)`` along dim, gradient to the index. ``max(x, other_tensor)``: ``maximum``."""
    return _extreme(x, dim, keepdim, True, "max")


def min(x, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    """Like ``max``, for the smallest value."""
    return _extreme(x, dim, keepdim, False, "min")


def amax(x, dim=None, keepdim: bool = False) -> Tensor:
    """Largest values over ``dim`` (None or (): all axes; int or tuple); gradient split evenly among ties."""
    axes = normalize_dims(None if dim == () else dim, x.ndim)
    return AMax(axes, keepdim, True)(x)


def amin(x, dim=None, keepdim: bool = False) -> Tensor:
    """Smallest values over ``dim``; gradient split evenly among ties."""
    axes = normalize_dims(None if dim == () else dim, x.ndim)
    return AMax(axes, keepdim, False)(x)


def maximum(a, b) -> Tensor:
    """Elementwise max of a and b, broadcasting; where they tie each gets half the gradient."""
    return Maximum(True)(*operands(a, b))


def minimum(a, b) -> Tensor:
    """Elementwise min of a and b, broadcasting; where they tie each gets half the gradient."""
    return Maximum(False)(*operands(a, b))


def _arg_extreme(x, dim, keepdim, largest):
    xp = x.xp
    arg = xp.argmax if largest else xp.argmin
    if dim is None:
        return Tensor._from_array(xp.asarray(arg(x.array), dtype=np.int64))
    axis = normalize_dim(dim, x.ndim)
    if x.ndim == 0:
        return Tensor._from_array(xp.zeros((), dtype=np.int64))
    return Tensor._from_array(arg(x.array, axis=axis, keepdims=keepdim).astype(np.int64, copy=False))


def argmax(x, dim=None, keepdim: bool = False) -> Tensor:
    """int64 index of the (first) largest value along ``dim``; dim=None indexes the flattened tensor.
    Not differentiable."""
    return _arg_extreme(x, dim, keepdim, True)


def argmin(x, dim=None, keepdim: bool = False) -> Tensor:
    """int64 index of the (first) smallest value along ``dim``. Not differentiable."""
    return _arg_extreme(x, dim, keepdim, False)


def var(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim``: sum((x - mean)^2) / (N - correction), N the number of reduced elements.

    ``correction`` defaults to 1 (Bessel's unbiased estimate); ``unbiased=False`` means correction 0.
    ``var(x, False)`` is read as ``unbiased=False`` (PyTorch's older signature). N <= correction gives nan.
    """
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise ValueError("var: pass either unbiased or correction, not both")
    c = correction if correction is not None else (0 if unbiased is False else 1)
    axes = normalize_dims(dim, x.ndim)
    n = 1
    for a in axes:
        n *= x.shape[a]
    d = x - mean(x, axes, keepdim=True)
    ss = sum(d * d, axes, keepdim)
    return ss / float(n - c) if n - c > 0 else ss * float("nan")


def std(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation: sqrt of ``var`` (same arguments). Its gradient is infinite where std is 0."""
    return var(x, dim, unbiased, keepdim, correction=correction).sqrt()


def logsumexp(x, dim, keepdim: bool = False) -> Tensor:
    """log sum_i exp(x_i) over ``dim``, computed as m + log sum exp(x - m) with m = max over ``dim``, so
    that no exp overflows. The shift m is a constant of the graph (the result does not depend on it), so
    the gradient is softmax(x) along ``dim``, and the second derivative follows from the ops used."""
    from .elementwise import exp, log

    axes = normalize_dims(dim, x.ndim)
    m = amax(x, axes, keepdim=True).detach()
    out = log(sum(exp(x - m), axes, keepdim=True)) + m
    return out if keepdim else reshape(out, tuple(n for i, n in enumerate(x.shape) if i not in axes))
