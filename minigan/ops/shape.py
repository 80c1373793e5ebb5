"""Shape ops: broadcasting and its adjoint, reshape (flatten, unsqueeze, squeeze), expand, transpose, permute,
casts and device moves.

Chapter 01 (autograd) uses ``broadcast_to`` / ``sum_to``: broadcasting copies a value along new or
length-1 axes, so its backward sums the gradient back over those axes; ``sum_to`` is the adjoint of
``broadcast_to`` and vice versa, which is why each one's backward is the other (as in DeZero).
Every backward here is built from ops in this file, so all of them are twice differentiable.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import array_module, normalize_device
from ..backend import to_device as _move_array
from ._util import normalize_dim, normalize_dims


def _sum_to_array(a, shape):
    """Sum array ``a`` down to ``shape`` (the reverse of NumPy broadcasting)."""
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and a.shape[i + lead] != 1
    )
    if axes:
        a = a.sum(axis=axes, keepdims=True)
    if lead:
        a = a.reshape(shape)
    return a


class BroadcastTo(Function):
    saves_inputs = ()  # backward needs only shapes

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


class SumTo(Function):
    saves_inputs = ()  # backward needs only shapes

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return _sum_to_array(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


def broadcast_to(x, shape) -> Tensor:
    """x repeated (as a view) to ``shape`` under NumPy broadcasting rules. backward: ``sum_to``."""
    shape = tuple(shape)
    if isinstance(x, Tensor) and x.shape == shape:
        return x
    return BroadcastTo(shape)(x)


def sum_to(x, shape) -> Tensor:
    """Sum x over the axes that broadcasting added or stretched, giving ``shape``.

    backward: ``broadcast_to``."""
    shape = tuple(shape)
    if isinstance(x, Tensor) and x.shape == shape:
        return x
    return SumTo(shape)(x)


class Reshape(Function):
    saves_inputs = ()  # backward needs only shapes

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


def reshape(x, *shape) -> Tensor:
    """x with a new shape of the same size (one entry may be -1). A view where the layout allows."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if isinstance(x, Tensor) and x.shape == shape:
        return x
    size = int(np.prod(x.shape))
    known = int(np.prod([s for s in shape if s != -1]))
    if (
        shape.count(-1) > 1
        or (-1 in shape and (known == 0 or size % known))
        or (-1 not in shape and known != size)
    ):
        raise ValueError(f"reshape: cannot view a tensor of shape {x.shape} ({size} elements) as {shape}")
    return Reshape(shape)(x)


view = reshape


class Permute(Function):
    saves_inputs = ()  # backward needs only shapes

    def __init__(self, axes):
        self.axes = tuple(axes)

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        return permute(gy, *np.argsort(self.axes))


def permute(x, *dims) -> Tensor:
    """x with its axes reordered: ``y.shape[i] = x.shape[dims[i]]``. A view; backward permutes back."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if len(dims) != x.ndim:
        raise ValueError(
            f"permute: got {len(dims)} dims {dims} for a tensor with {x.ndim} dimensions (shape {x.shape})"
        )
    given, n = dims, x.ndim
    if all(type(d) is int and -n <= d < n for d in dims):  # the common case, without per-dim calls
        dims = tuple(d % n for d in dims)
    else:
        dims = tuple(normalize_dim(d, n, "permute dim") for d in dims)
    if len(set(dims)) != len(dims):
        raise ValueError(f"permute: dims {given} repeat a dimension (tensor shape {x.shape})")
    if dims == tuple(range(x.ndim)):
        return x
    return Permute(dims)(x)


def transpose(x, dim0: int = -2, dim1: int = -1) -> Tensor:
    """x with axes dim0 and dim1 swapped (PyTorch's ``transpose``)."""
    if x.ndim < 2 and (dim0, dim1) == (-2, -1):
        return x
    d0, d1 = normalize_dims(dim0, x.ndim, "dim0")[0], normalize_dims(dim1, x.ndim, "dim1")[0]
    axes = list(range(x.ndim))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(x, *axes)


class AsType(Function):
    saves_inputs = ()  # backward needs only shapes

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return astype(gy, self.inputs[0].dtype)


def astype(x, dtype) -> Tensor:
    """x converted to ``dtype``; the gradient is converted back to x's dtype."""
    if np.dtype(dtype) == x.dtype:
        return x
    return AsType(dtype)(x)


class Clone(Function):
    saves_inputs = ()

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


def clone(x) -> Tensor:
    """A copy of x with its own storage (and version counter); differentiable: the gradient passes
    through unchanged. Use it to keep a value that an in-place write would otherwise change."""
    return Clone()(x)


class ToDevice(Function):
    saves_inputs = ()  # backward needs only shapes
    cross_device = True  # the one op whose input and output live on different devices

    def __init__(self, device):
        self.device = device

    def forward(self, x):
        return _move_array(x, self.device)

    def backward(self, gy):
        return to_device(gy, self.inputs[0].device)


def to_device(x, device) -> Tensor:
    """x copied to ``device`` ('cpu' or 'cuda'); the gradient is copied back."""
    device = normalize_device(device)
    if x.device == device:
        return x
    return ToDevice(device)(x)


def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim..end_dim`` (inclusive) into one; a 0-d tensor becomes shape (1,)."""
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = normalize_dim(start_dim, x.ndim, "start_dim"), normalize_dim(end_dim, x.ndim, "end_dim")
    if s > e:
        raise ValueError(
            f"flatten: start_dim={start_dim} comes after end_dim={end_dim} for a tensor of shape {x.shape}"
        )
    merged = int(np.prod(x.shape[s : e + 1]))
    return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1 :])


def unsqueeze(x, dim: int) -> Tensor:
    """x with a new length-1 axis at position ``dim`` (``-ndim-1 <= dim <= ndim``)."""
    d = normalize_dim(dim, x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def squeeze(x, dim=None) -> Tensor:
    """x without length-1 axes: all of them (dim=None), or those among ``dim`` (int or tuple) that have
    length 1 -- a named axis of another length is left alone, as in PyTorch."""
    axes = set(range(x.ndim)) if dim is None else set(normalize_dims(dim, x.ndim))
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1)))


def expand(x, *sizes) -> Tensor:
    """x broadcast (as a view) to ``sizes``; -1 keeps an axis' length; new axes may be added in front.
    Only length-1 axes can grow. backward: ``sum_to``."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(n) for n in sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's dimensions "
            f"({x.ndim}, shape {x.shape})"
        )
    target = []
    for i, n in enumerate(sizes):
        if i < lead:
            if n < 0:
                raise ValueError(f"expand: -1 is not allowed for the new leading dimension {i} ({sizes})")
            target.append(n)
            continue
        old = x.shape[i - lead]
        if n == -1:
            n = old
        if n != old and old != 1:
            raise ValueError(
                f"expand: the expanded size {n} must match the existing size {old} at dimension {i} "
                f"(tensor shape {x.shape}, requested {sizes}); only length-1 dimensions can be expanded"
            )
        target.append(n)
    return broadcast_to(x, tuple(target))
