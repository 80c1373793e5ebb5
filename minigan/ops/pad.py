"""Padding: ``pad(x, pad, mode, value)``, PyTorch's ``F.pad``, twice differentiable. Chapter 05.

``pad`` lists (before, after) amounts for the last dimension first, then the one before it, and so on:
(left, right) pads W, (left, right, top, bottom) pads W and H. Three modes, shown on one row [a b c d]
padded by 2 on each side:

    constant   v v | a b c d | v v      (value v, default 0; a negative amount crops instead)
    reflect    c b | a b c d | c b      (mirror about the edge element, which is not repeated; pad < size)
    replicate  a a | a b c d | d d      (the edge element copied outwards)

Each mode acts on one axis at a time, and every output element is either the constant or a copy of one
input element, so each padded axis is a gather y[j] = x[src(j)] with

    reflect:  src(j) = |j - l|, mirrored back once more past the far edge: 2 (n - 1) - |j - l|
    replicate: src(j) = clip(j - l, 0, n - 1)

for j in [0, l + n + r). Its adjoint *folds*: gx[i] = sum of gy[j] over the j with src(j) = i, which is
the centre gy[l : l + n] plus each border element added back onto the element it copied. The two
Functions (``PadAxis`` gathers, ``FoldAxis`` folds) are each other's backward, so every order of
derivative works. Constant padding is its own adjoint up to a sign: padding by (l, r) is undone, as a
linear map, by padding by (-l, -r) with zeros (embedding and cropping are transposes of each other).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import array_module

_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """src(j) for j = 0 .. before + n + after - 1 (see the module docstring)."""
    j = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    j = np.abs(j)
    return np.where(j >= n, 2 * (n - 1) - j, j)


def _crop_or_embed(x, pads, value):
    """Constant padding of the last len(pads) // 2 axes; negative amounts crop (the arrays version)."""
    xp = array_module(x)
    k = len(pads) // 2
    out_shape, src, dst = list(x.shape), [slice(None)] * x.ndim, [slice(None)] * x.ndim
    for i in range(k):
        axis = x.ndim - 1 - i
        before, after = pads[2 * i], pads[2 * i + 1]
        n = x.shape[axis]
        out_shape[axis] = n + before + after
        kept = n - max(-before, 0) - max(-after, 0)  # input elements that survive cropping
        src[axis] = slice(max(-before, 0), max(-before, 0) + max(kept, 0))
        dst[axis] = slice(max(before, 0), max(before, 0) + max(kept, 0))
    y = xp.full(out_shape, value, dtype=x.dtype)
    y[tuple(dst)] = x[tuple(src)]
    return y


class ConstantPad(Function):
    """y = x embedded in a tensor filled with ``value`` (or cropped). backward: ConstantPad(-pads, 0)."""

    def __init__(self, pads, value):
        self.pads, self.value = tuple(pads), value

    def forward(self, x):
        return _crop_or_embed(x, self.pads, self.value)

    def backward(self, gy):
        return ConstantPad(tuple(-p for p in self.pads), 0.0)(gy)


class PadAxis(Function):
    """y = x gathered along ``axis`` by ``index`` (= src(j)); backward: FoldAxis, its adjoint."""

    def __init__(self, axis, index, before):
        self.axis, self.index, self.before = axis, index, before

    def forward(self, x):
        self.n = x.shape[self.axis]
        return array_module(x).take(x, array_module(x).asarray(self.index), axis=self.axis)

    def backward(self, gy):
        return FoldAxis(self.axis, self.index, self.before, self.n)(gy)


class FoldAxis(Function):
    """gx[i] = sum over j with index[j] = i of gy[j] along ``axis``: the centre, plus the borders added
    back onto the elements they copy. backward: PadAxis."""

    def __init__(self, axis, index, before, n):
        self.axis, self.index, self.before, self.n = axis, index, before, n

    def forward(self, gy):
        xp = array_module(gy)
        g = xp.moveaxis(gy, self.axis, 0)
        gx = g[self.before : self.before + self.n].copy()
        for j in [*range(self.before), *range(self.before + self.n, len(self.index))]:
            gx[int(self.index[j])] += g[j]
        return xp.ascontiguousarray(xp.moveaxis(gx, 0, self.axis))

    def backward(self, ggx):
        return PadAxis(self.axis, self.index, self.before)(ggx)


def _check_pads(x, pads, mode):
    if not isinstance(pads, (tuple, list)) or not all(isinstance(p, (int, np.integer)) for p in pads):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pads!r}")
    pads = tuple(int(p) for p in pads)
    if len(pads) % 2:
        raise ValueError(f"pad: padding length must be divisible by 2, got {len(pads)} ({pads})")
    if len(pads) // 2 > x.ndim:
        raise ValueError(f"pad: {pads} pads {len(pads) // 2} dimensions, but the input has shape {x.shape}")
    if mode == "constant":
        for i in range(len(pads) // 2):
            n = x.shape[x.ndim - 1 - i]
            if n + pads[2 * i] + pads[2 * i + 1] < 0:
                raise ValueError(
                    f"pad: dimension {x.ndim - 1 - i} of size {n} padded by {pads[2 * i : 2 * i + 2]} "
                    "would have a negative size"
                )
        return pads
    k = len(pads) // 2
    if not (k == 1 and x.ndim in (2, 3)) and not (k == 2 and x.ndim in (3, 4)):
        raise NotImplementedError(
            f"pad: mode {mode!r} pads the last dimension of a 2-D or 3-D input (4 numbers: the last two "
            f"of a 3-D or 4-D input); got pad={pads} for an input of shape {x.shape}"
        )
    for i in range(k):
        axis, (before, after) = x.ndim - 1 - i, pads[2 * i : 2 * i + 2]
        n = x.shape[axis]
        if before < 0 or after < 0:
            raise ValueError(f"pad: mode {mode!r} needs non-negative padding, got {pads}")
        if mode == "reflect" and (before >= n or after >= n):
            raise ValueError(
                f"pad: reflect padding must be less than the size of the padded dimension; got "
                f"({before}, {after}) for dimension {axis} of size {n} (input shape {x.shape})"
            )
        if mode == "replicate" and n == 0 and before + after > 0:
            raise ValueError(f"pad: cannot replicate an empty dimension {axis} (input shape {x.shape})")
    return pads


def pad(input, pad, mode: str = "constant", value=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """PyTorch's ``F.pad(input, pad, mode="constant", value=None)``.

    pad: (before, after) pairs, last dimension first. mode "constant" pads any number of trailing
    dimensions with ``value`` (default 0; negative amounts crop); "reflect" and "replicate" pad the last
    dimension of a 2-D / 3-D input or the last two of a 3-D / 4-D input (N, C, H, W).
    Output: each padded dimension grows from n to before + n + after.
    """
    x = as_tensor(input)
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect' or 'replicate', got {mode!r}")
    if mode == "circular":
        raise NotImplementedError("pad: mode 'circular' is not implemented (constant, reflect, replicate)")
    if mode != "constant" and value not in (None, 0, 0.0):
        raise ValueError(f"pad: value={value} is only used with mode='constant', got mode={mode!r}")
    pads = _check_pads(x, pad, mode)
    if mode == "constant":
        if x.dtype.kind != "f" and value is not None and float(value) != int(value):
            raise TypeError(f"pad: value {value} does not fit the input's dtype {x.dtype}")
        return ConstantPad(pads, 0 if value is None else value)(x)
    if x.dtype.kind != "f":
        raise TypeError(f"pad: mode {mode!r} expects a floating-point input, got dtype {x.dtype}")
    y = x
    for i in range(len(pads) // 2):
        axis, (before, after) = x.ndim - 1 - i, pads[2 * i : 2 * i + 2]
        if before or after:
            y = PadAxis(axis, _source_index(x.shape[axis], before, after, mode), before)(y)
    return y
