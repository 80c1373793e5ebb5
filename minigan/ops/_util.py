"""Small helpers shared by the op families: operand coercion and dim normalisation. Chapter 01."""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, as_tensor


def operands(a, b):
    """Two Tensors from a binary op's operands; a Python number takes the other operand's dtype and device.

    ``x * 2`` keeps x float32 (as PyTorch does); an int tensor with a float scalar becomes float32; a
    float32 tensor with an int64 tensor stays float32 (NumPy would give float64). Two floats of different
    widths promote to the wider, as in both.
    """
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        return a, _scalar_like(b, a)
    if isinstance(b, Tensor) and not isinstance(a, Tensor):
        return _scalar_like(a, b), b
    a, b = as_tensor(a), as_tensor(b)
    if a.dtype != b.dtype:  # PyTorch's promotion between tensors: a float tensor wins over an integer one
        ka, kb = a.dtype.kind, b.dtype.kind
        if ka == "f" and kb != "f":
            b = Tensor._from_array(b.array.astype(a.dtype))
        elif kb == "f" and ka != "f":
            a = Tensor._from_array(a.array.astype(b.dtype))
    return a, b


def _scalar_like(value, like: Tensor) -> Tensor:
    if isinstance(value, (bool, int, float)) or np.isscalar(value):
        dtype = like.dtype
        if dtype.kind != "f" and isinstance(value, float):
            dtype = np.float32
        return Tensor._from_array(like.xp.asarray(value, dtype=dtype))
    return as_tensor(value)


def normalize_dims(dim, ndim: int, name: str = "dim"):
    """A sorted tuple of non-negative axes from None / int / sequence; a clear error when out of range."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{name}={d} is out of range for a tensor with {ndim} dimensions")
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}={dim} repeats a dimension")
    if ndim == 0:
        return ()  # a 0-d tensor accepts dim 0 / -1 (as in PyTorch) but has no axis to reduce
    return tuple(sorted(out))


def normalize_dim(dim: int, ndim: int, name: str = "dim") -> int:
    """One non-negative axis; IndexError naming the dim and the rank when out of range.

    For a 0-d tensor (which accepts dim 0 or -1) this is 0; ops that reduce over it special-case ndim 0."""
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(dim).__name__}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(
            f"{name}={dim} is out of range for a tensor with {ndim} dimensions "
            f"(expected {-max(ndim, 1)} <= {name} < {max(ndim, 1)})"
        )
    return int(dim) % max(ndim, 1)
