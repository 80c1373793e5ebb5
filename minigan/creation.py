"""Making tensors: tensor, as_tensor, from_numpy, zeros, ones, full, empty, arange, linspace, eye, randn,
rand, normal, randint, randperm and the *_like forms. Chapter 01.

Float data given as Python numbers defaults to float32, as in PyTorch; arrays keep their dtype. Random
draws come from ``minigan.random``'s default generator unless ``generator=`` is given, so ``manual_seed``
fixes them.
"""

from __future__ import annotations

import numpy as np

from .autograd.tensor import DEFAULT_FLOAT, Tensor, to_array
from .backend import normalize_device, to_device
from .random import default_generator


def tensor(data, requires_grad: bool = False, dtype=None, device=None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (lists, numbers, NumPy/CuPy arrays or a Tensor).

    As ``torch.tensor``: Python floats become float32 and ints int64 unless ``dtype`` is given; an array
    or Tensor keeps its dtype (a float64 ndarray stays float64).
    """
    a = to_array(data, dtype=dtype, device=device)
    if isinstance(data, Tensor) or a is data or getattr(a, "base", None) is data:
        a = a.copy()
    return Tensor._wrap(a, requires_grad=requires_grad)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"shape must be non-negative ints, got {shape}")
    return tuple(int(s) for s in shape)


def _new(array, dtype, device, requires_grad):
    array = array.astype(np.dtype(dtype) if dtype is not None else DEFAULT_FLOAT, copy=False)
    if device is not None and normalize_device(device) != "cpu":
        array = to_device(array, device)
    return Tensor._wrap(array, requires_grad=requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros."""
    return _new(np.zeros(_shape(shape)), dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones."""
    return _new(np.ones(_shape(shape)), dtype, device, requires_grad)


def _fill_dtype(fill_value, dtype):
    """PyTorch's ``full`` dtype rule: given, else bool / int64 / float32 from the fill value's type."""
    if dtype is not None:
        return dtype
    if isinstance(fill_value, (bool, np.bool_)):
        return np.bool_
    if isinstance(fill_value, (int, np.integer)):
        return np.int64
    return None


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (int64 for an int, bool for a bool)."""
    return _new(np.full(_shape((size,)), fill_value), _fill_dtype(fill_value, dtype), device, requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """PyTorch leaves ``empty``'s values undefined; minigan fills them with zeros, so a run never depends
    on whatever memory held before."""
    return zeros(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a Tensor without a copy where possible: an ndarray of the right dtype and device is
    shared (writes through either show in both); a Tensor of the right dtype and device is returned."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data if device is None or normalize_device(device) == data.device else data.to(device)
    return Tensor._wrap(to_array(data, dtype=dtype, device=device))


def from_numpy(a: np.ndarray) -> Tensor:
    """A Tensor sharing the memory of the NumPy array ``a`` (its dtype kept)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(a).__name__}")
    return Tensor._wrap(a)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Draws from N(mean, std^2): ``normal(0.0, 1.0, (n, 2))`` with numbers and a size, or ``mean`` /
    ``std`` as tensors (the result has their broadcast shape), as ``torch.normal``."""
    g = generator or default_generator()
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean.array if isinstance(mean, Tensor) else mean
        sd = std.array if isinstance(std, Tensor) else std
        like = mean if isinstance(mean, Tensor) else std
        if np.any(np.asarray(sd) < 0):
            raise ValueError("normal: std must be >= 0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(sd))
        z = g.standard_normal(shape) * np.asarray(sd, dtype=np.float64) + np.asarray(m, dtype=np.float64)
        return _new(z, dtype or like.dtype, device or like.device, False)
    if size is None:
        raise TypeError("normal: with a float mean and std, give size= (the shape to draw)")
    if not (std >= 0):
        raise ValueError(f"normal: std must be >= 0, got {std}")
    return _new(g.normal(mean, std, _shape((size,))), dtype, device, False)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Integers drawn uniformly from [low, high) (``randint(high, size)`` starts at 0); int64."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint: expected randint(low, high, size) or randint(high, size)")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    g = generator or default_generator()
    return _new(g.integers(low, high, _shape((size,))), dtype or np.int64, device, False)


def randperm(n: int, *, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    g = generator or default_generator()
    return _new(g.permutation(int(n)), dtype or np.int64, device, False)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included."""
    return _new(np.linspace(start, end, int(steps)), dtype, device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The n x m identity matrix."""
    return _new(np.eye(n, m), dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None) -> Tensor:
    """Evenly spaced values in [start, end); int64 for integer arguments, else float32."""
    a = np.arange(start, end, step) if end is not None else np.arange(start)
    if dtype is None and a.dtype.kind in "iu":
        dtype = np.int64
    return _new(a, dtype, device, False)


def randn(*shape, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Standard normal draws N(0, 1)."""
    g = generator or default_generator()
    return _new(g.standard_normal(_shape(shape)), dtype, device, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Uniform draws on [0, 1)."""
    g = generator or default_generator()
    return _new(g.random(_shape(shape)), dtype, device, requires_grad)


# The *_like forms: x's shape, and x's dtype and device unless given.
def zeros_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _new(np.zeros(x.shape), dtype or x.dtype, device or x.device, requires_grad)


def ones_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _new(np.ones(x.shape), dtype or x.dtype, device or x.device, requires_grad)


def empty_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros_like(x, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _new(np.full(x.shape, fill_value), dtype or x.dtype, device or x.device, requires_grad)


def randn_like(x: Tensor, dtype=None, device=None, generator=None) -> Tensor:
    return randn(*x.shape, dtype=dtype or x.dtype, device=device or x.device, generator=generator)


def rand_like(x: Tensor, dtype=None, device=None, generator=None) -> Tensor:
    return rand(*x.shape, dtype=dtype or x.dtype, device=device or x.device, generator=generator)


def randint_like(x: Tensor, low, high=None, dtype=None, device=None, generator=None) -> Tensor:
    low, high = (0, low) if high is None else (low, high)
    return randint(low, high, x.shape, dtype=dtype or x.dtype, device=device or x.device, generator=generator)
