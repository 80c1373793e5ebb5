"""In-place writes: ``fill_``, ``zero_``, ``normal_``, ``uniform_``, ``copy_``, ``add_`` ..., ``x[i] = v``.

Chapter 01 (autograd), section "In-place writes". An in-place write changes a tensor's storage instead of
making a new tensor, so it is not an op in the graph: it bumps the tensor's version counter (shared with
every view of the same storage), and a later backward that needs the old value refuses (see
``Function.check_versions``) instead of silently using the new one.

Two writes are refused up front, as in PyTorch: into a leaf that requires grad while gradients are
being recorded (the write would be invisible to autograd; do it under ``no_grad()`` or on ``x.data``),
and a result that the tensor's dtype cannot hold (``int_tensor.add_(0.5)``). PyTorch also rewrites the
graph so that in-place ops on *intermediate* tensors are differentiable; minigan does not, and says so:
use the out-of-place form there (``y = y * 2`` instead of ``y.mul_(2)``). Python's augmented assignment
(``y += x``) on such a tensor therefore falls back to ``y = y + x``, which gives the same values and
gradients (only other names bound to the old y do not see the change).
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import _grad_mode
from ..autograd.tensor import Tensor
from ..random import default_generator


def _check_writable(x: Tensor, op: str) -> None:
    if not (_grad_mode.enabled and x.requires_grad):
        return
    if x.is_leaf:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
            "(wrap it in `with minigan.no_grad():`, or write into x.data)"
        )
    raise RuntimeError(
        f"{op}: in-place write into a tensor computed by {x.creator.name} while gradients are recorded; "
        "minigan does not differentiate through in-place ops: use the out-of-place form "
        f"(y = y.{op.rstrip('_')}(...)) or write into a detached tensor"
    )


def _value(x: Tensor, value, op: str):
    """``value`` as an array (or scalar) x's storage can take, with PyTorch's casting rule."""
    v = value.array if isinstance(value, Tensor) else value
    kind = np.asarray(v).dtype.kind if not hasattr(v, "dtype") else v.dtype.kind
    if x.dtype.kind in "iub" and kind == "f":
        raise RuntimeError(f"{op}: result type float can't be cast to the desired output type {x.dtype}")
    if x.dtype.kind == "b" and kind in "iu" and not isinstance(value, (bool, np.bool_)):
        raise RuntimeError(f"{op}: result type int can't be cast to the desired output type bool")
    if hasattr(v, "shape") and v.shape != () and not _fits(tuple(v.shape), x.shape):
        raise RuntimeError(f"{op}: a value of shape {tuple(v.shape)} cannot be written into shape {x.shape}")
    return v


def _fits(shape, target) -> bool:
    """Whether a value of ``shape`` broadcasts to ``target`` without changing it."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _write(x: Tensor, op: str, compute) -> Tensor:
    """Run ``compute(array)`` (which writes into the array) and record the write."""
    _check_writable(x, op)
    compute(x.array)
    return x._bump_version()


def fill_(x: Tensor, value) -> Tensor:
    """Every element <- value (a number or a one-element tensor)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"fill_ only supports a 0-dimension value tensor, got shape {value.shape}")
        value = value.item()
    v = _value(x, value, "fill_")
    return _write(x, "fill_", lambda a: a.fill(v))


def zero_(x: Tensor) -> Tensor:
    """Every element <- 0."""
    return _write(x, "zero_", lambda a: a.fill(0))


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Every element <- a draw from N(mean, std^2) (from minigan's generator, as ``randn``)."""
    if not np.isfinite(mean) or not np.isfinite(std) or std < 0:
        raise ValueError(f"normal_ expects a finite mean and a finite std >= 0, got mean={mean}, std={std}")
    g = generator or default_generator()

    def draw(a):
        a[...] = x.xp.asarray(g.normal(mean, std, a.shape).astype(a.dtype))

    return _write(x, "normal_", draw)


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Every element <- a draw from U[a, b)."""
    if not (np.isfinite(a) and np.isfinite(b)) or a > b:
        raise ValueError(f"uniform_ expects finite a <= b, got a={a}, b={b}")
    g = generator or default_generator()

    def draw(arr):
        arr[...] = x.xp.asarray(g.uniform(a, b, arr.shape).astype(arr.dtype))

    return _write(x, "uniform_", draw)


def copy_(x: Tensor, src, non_blocking: bool = False) -> Tensor:
    """x <- src (broadcast to x's shape, converted to x's dtype, moved to x's device)."""
    from ..backend import to_device

    s = src.array if isinstance(src, Tensor) else np.asarray(src)
    s = to_device(s, x.device) if hasattr(s, "dtype") else s
    if not _fits(tuple(s.shape), x.shape):
        raise RuntimeError(f"copy_: the source's shape {tuple(s.shape)} cannot be broadcast to {x.shape}")

    def assign(a):
        a[...] = s.astype(a.dtype, copy=False)

    return _write(x, "copy_", assign)


def _arith(name, ufunc):
    op = f"{name}_"

    def inplace(x: Tensor, other, alpha=1) -> Tensor:
        v = _value(x, other, op)
        if alpha != 1:
            v = v * alpha
        return _write(x, op, lambda a: ufunc(a, v, out=a, casting="unsafe"))

    inplace.__name__ = op
    inplace.__doc__ = f"x <- x {name} other (``alpha`` scales other, as PyTorch's ``{op}``), in place."
    return inplace


add_ = _arith("add", np.add)
sub_ = _arith("sub", np.subtract)
mul_ = _arith("mul", np.multiply)


def div_(x: Tensor, other) -> Tensor:
    """x <- x / other, in place (x must be floating point: an integer quotient is a float)."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"div_: result type float can't be cast to the desired output type {x.dtype}")
    v = _value(x, other, "div_")
    return _write(x, "div_", lambda a: np.divide(a, v, out=a, casting="unsafe"))


def clamp_(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's argument names
    """x <- min(max(x, min), max), in place."""
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    return _write(x, "clamp_", lambda a: x.xp.clip(a, min, max, out=a))


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value``: NumPy's assignment rules; the index as for ``x[index]``."""
    from .indexing import _normalize_index

    v = _value(x, value, "x[...] =")
    if isinstance(index, Tensor) or (isinstance(index, tuple) and any(isinstance(i, Tensor) for i in index)):
        index = _normalize_index(index, x.xp, x.shape)

    def assign(a):
        a[index] = v

    _write(x, "x[...] = (setitem)", assign)


def augmented(name, out_of_place):
    """``x += y`` and friends: in place (as PyTorch), or ``x = x + y`` for a tensor in the graph."""
    inplace = {"add": add_, "sub": sub_, "mul": mul_, "div": div_}[name]

    def method(x: Tensor, other):
        if _grad_mode.enabled and x.requires_grad and not x.is_leaf:
            return out_of_place(x, other)
        return inplace(x, other)

    method.__name__ = f"__i{name}__"
    return method
