"""Making tensors: tensor, zeros, ones, full, arange, randn, rand and the *_like forms. Chapter 01.

Floats default to float32 (DESIGN.md §2). Random draws come from ``minigan.random``'s default generator
unless ``generator=`` is given, so ``manual_seed`` fixes them.
"""

from __future__ import annotations

import numpy as np

from .autograd.tensor import DEFAULT_FLOAT, Tensor, to_array
from .backend import normalize_device, to_device
from .random import default_generator


def tensor(data, requires_grad: bool = False, dtype=None, device=None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (lists, numbers, NumPy/CuPy arrays or a Tensor).

    Float data becomes float32 unless ``dtype`` is given; integers become int64.
    """
    a = to_array(data, dtype=dtype, device=device)
    if isinstance(data, Tensor) or a is data or getattr(a, "base", None) is data:
        a = a.copy()
    return Tensor(a, requires_grad=requires_grad)


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
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros."""
    return _new(np.zeros(_shape(shape)), dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones."""
    return _new(np.ones(_shape(shape)), dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``."""
    return _new(np.full(_shape((shape,)), fill_value), dtype, device, requires_grad)


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


def zeros_like(x: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return _new(np.zeros(x.shape), dtype or x.dtype, x.device, requires_grad)


def ones_like(x: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return _new(np.ones(x.shape), dtype or x.dtype, x.device, requires_grad)


def randn_like(x: Tensor, dtype=None, generator=None) -> Tensor:
    return randn(*x.shape, dtype=dtype or x.dtype, device=x.device, generator=generator)


def rand_like(x: Tensor, dtype=None, generator=None) -> Tensor:
    return rand(*x.shape, dtype=dtype or x.dtype, device=x.device, generator=generator)
