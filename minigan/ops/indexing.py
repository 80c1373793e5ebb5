"""Gathering and joining: ``x[index]``, cat, stack, where. Chapter 01 (autograd).

Indexing follows NumPy (and PyTorch): ints, slices (with steps), None, Ellipsis, integer arrays or
tensors, boolean masks. ``x[index]`` *gathers*; its backward *scatters* the gradient into a zero tensor of
x's shape, adding where an integer index repeats (``x[[0, 0]]`` sends both gradients to ``x[0]``), which
is ``xp.add.at``. The two ops are adjoint, so each one's backward is the other: gather and scatter-add
stand to each other as ``broadcast_to`` and ``sum_to`` do, and both are differentiable to any order.

``cat`` is a gather in reverse: its backward slices the gradient back into pieces. ``where(c, a, b)``
routes the gradient to ``a`` where c holds and to ``b`` elsewhere (``sum_to`` undoes broadcasting).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import array_module, is_cupy_array
from ._util import normalize_dim, operands
from .shape import reshape, sum_to


# -- x[index] --------------------------------------------------------------------------------------
def _normalize_index(index, xp, shape):
    """A tuple index of ints, slices, None, Ellipsis and int arrays (boolean masks become their nonzero()
    integer arrays, which select the same elements in the same order, once checked against ``shape``)."""
    items = []
    for item in index if isinstance(index, tuple) else (index,):
        if isinstance(item, Tensor):
            item = item.array
        elif isinstance(item, list):
            item = np.asarray(item)
            if item.size == 0:
                item = item.astype(np.int64)
        if isinstance(item, np.ndarray) or is_cupy_array(item):
            if item.dtype.kind not in "iub":
                raise IndexError(
                    f"tensors used as indices must be integer or boolean, got dtype {item.dtype}"
                )
            item = xp.asarray(item)
        elif not (item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))):
            raise IndexError(
                f"unsupported index {item!r} of type {type(item).__name__}: use ints, slices, None, "
                "Ellipsis, integer or boolean tensors"
            )
        items.append(item)
    out = []
    for item, dim in zip(items, _positions(items, len(shape))):
        if getattr(item, "dtype", None) is not None and item.dtype.kind == "b":
            covered = tuple(shape[dim : dim + item.ndim])
            if item.shape != covered:
                raise IndexError(
                    f"boolean index of shape {item.shape} does not match the indexed shape {covered} "
                    f"(dimensions {dim}.. of a tensor of shape {tuple(shape)})"
                )
            out.extend(item.nonzero())
        else:
            out.append(item)
    return tuple(out)


def _positions(items, ndim):
    """The tensor dimension each index item starts at (None adds an axis and consumes none)."""

    def width(item):
        if item is None or item is Ellipsis:
            return 0
        if getattr(item, "dtype", None) is not None and item.dtype.kind == "b":
            return item.ndim
        return 1

    used = sum(width(item) for item in items)
    dims, dim = [], 0
    for item in items:
        dims.append(dim)
        dim += max(ndim - used, 0) if item is Ellipsis else width(item)
    return dims


def _is_basic(index) -> bool:
    """True when no integer array appears: the selected elements are then distinct (no accumulation)."""
    return not any(isinstance(item, np.ndarray) or is_cupy_array(item) for item in index)


class GetItem(Function):
    saves_inputs = ()  # backward needs only shapes

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        try:
            y = x[self.index]
        except IndexError as err:
            raise IndexError(f"cannot index a tensor of shape {x.shape}: {err}") from err
        return array_module(x).asarray(y)  # an int index of a 1-D array gives a NumPy scalar

    def backward(self, gy):
        return index_add_into(gy, self.index, self.inputs[0].shape)


class IndexAddInto(Function):
    """zeros(shape) with ``g`` added at ``index``, repeats accumulating: the adjoint of GetItem."""

    saves_inputs = ()  # backward needs only shapes

    def __init__(self, index, shape):
        self.index, self.shape = index, tuple(shape)

    def forward(self, g):
        xp = array_module(g)
        z = xp.zeros(self.shape, dtype=g.dtype)
        if _is_basic(self.index):
            z[self.index] = g  # basic indices select distinct elements: plain assignment
        else:
            xp.add.at(z, self.index, g)
        return z

    def backward(self, gz):
        return GetItem(self.index)(gz)


def getitem(x, index) -> Tensor:
    """``x[index]``: NumPy indexing (basic and advanced); backward scatters with accumulation."""
    x = as_tensor(x)
    return GetItem(_normalize_index(index, x.xp, x.shape))(x)


def index_add_into(g, index, shape) -> Tensor:
    """A zero tensor of ``shape`` with ``g`` added at ``index`` (repeated indices add up); the adjoint of
    ``getitem``: ``<x[index], g> == <x, index_add_into(g, index, x.shape)>``."""
    g = as_tensor(g)
    return IndexAddInto(_normalize_index(index, g.xp, shape), shape)(g)


# -- cat, stack ------------------------------------------------------------------------------------
class Cat(Function):
    saves_inputs = ()  # backward needs only shapes

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return array_module(*xs).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        grads, start = [], 0
        for needs, x in zip(self.needs_input_grad, self.inputs):
            stop = start + x.shape[self.axis]
            if needs:
                piece = [slice(None)] * gy.ndim
                piece[self.axis] = slice(start, stop)
                grads.append(GetItem(tuple(piece))(gy))
            else:
                grads.append(None)
            start = stop
        return tuple(grads)


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty list of tensors")
    return [as_tensor(t) for t in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing axis ``dim``; all other axes must agree."""
    ts = _tensor_list(tensors, "cat")
    ref = ts[0]
    if any(t.ndim == 0 for t in ts):
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated (use stack)")
    axis = normalize_dim(dim, ref.ndim)
    for i, t in enumerate(ts):
        if t.ndim != ref.ndim or any(n != m for k, (n, m) in enumerate(zip(t.shape, ref.shape)) if k != axis):
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape {ref.shape}; all shapes must "
                f"match except in dimension {axis}"
            )
    return Cat(axis)(*ts)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis ``dim`` (so ``stack(ts, 0)[i] == ts[i]``)."""
    ts = _tensor_list(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape {ts[0].shape}")
    ndim = ts[0].ndim + 1
    axis = normalize_dim(dim, ndim)
    new_shape = ts[0].shape[:axis] + (1,) + ts[0].shape[axis:]
    return Cat(axis)(*[reshape(t, new_shape) for t in ts])


# -- where -----------------------------------------------------------------------------------------
class Where(Function):
    saves_inputs = (0,)  # only the condition

    def forward(self, cond, a, b):
        return array_module(a, b).where(cond, a, b)

    def backward(self, gy):
        cond, a, b = self.inputs
        take_a = Tensor._from_array(gy.xp.broadcast_to(cond.array, gy.shape).astype(gy.dtype))
        return (
            None,
            sum_to(gy * take_a, a.shape) if self.needs_input_grad[1] else None,
            sum_to(gy * (1.0 - take_a), b.shape) if self.needs_input_grad[2] else None,
        )


def where(condition, input=None, other=None):  # noqa: A002 - PyTorch's argument names
    """``input`` where ``condition`` is True, else ``other`` (all three broadcast; either value may be a
    Python number). ``where(condition)`` alone returns the indices of the True elements, one int64 tensor
    per axis (as ``nonzero(as_tuple=True)``)."""
    cond = as_tensor(condition)
    if cond.dtype.kind != "b":
        raise TypeError(f"where: condition must be a boolean tensor, got dtype {cond.dtype}")
    if input is None and other is None:
        return tuple(Tensor._from_array(i.astype(np.int64)) for i in cond.array.nonzero())
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither")
    a, b = operands(input, other)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"where: condition {cond.shape}, input {a.shape} and other {b.shape} do not broadcast together"
        ) from None
    return Where()(cond, a, b)
