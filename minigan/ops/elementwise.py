"""Elementwise arithmetic: + - * / neg pow exp log sqrt abs clamp. Chapter 01 (autograd).

Binary ops broadcast like NumPy; their backward passes ``sum_to`` the gradient back to each input's
shape, so ``x.grad.shape == x.shape`` always holds. Each backward is written with the ops of this file,
so it can itself be differentiated (``create_graph=True``). Derivatives used (y = output):

    d(a+b) = da + db        d(a*b) = b da + a db        d(a/b) = da / b - a db / b^2
    d(a^c) = c a^(c-1) da   d(a^b) = b a^(b-1) da + a^b log(a) db
    d exp(a) = y da         d log(a) = da / a            d sqrt(a) = da / (2 y)
    d |a| = sign(a) da      d clamp(a, lo, hi) = [lo <= a <= hi] da
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import array_module
from ._util import operands
from .shape import sum_to


def _const(like: Tensor, array) -> Tensor:
    """A graph-free Tensor for masks and signs (their derivative is zero almost everywhere)."""
    return Tensor._from_array(array.astype(like.dtype, copy=False))


class Add(Function):
    saves_inputs = ()  # backward needs only shapes

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return (
            sum_to(gy, a.shape) if self.needs_input_grad[0] else None,
            sum_to(gy, b.shape) if self.needs_input_grad[1] else None,
        )


class Sub(Function):
    saves_inputs = ()  # backward needs only shapes

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        return (
            sum_to(gy, a.shape) if self.needs_input_grad[0] else None,
            sum_to(-gy, b.shape) if self.needs_input_grad[1] else None,
        )


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return (
            sum_to(gy * b, a.shape) if self.needs_input_grad[0] else None,
            sum_to(gy * a, b.shape) if self.needs_input_grad[1] else None,
        )


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        ga = gy / b
        return (
            sum_to(ga, a.shape) if self.needs_input_grad[0] else None,
            sum_to(-ga * a / b, b.shape) if self.needs_input_grad[1] else None,
        )


class Neg(Function):
    saves_inputs = ()  # backward needs only shapes

    def forward(self, a):
        return -a

    def backward(self, gy):
        return -gy


class PowScalar(Function):
    def __init__(self, c):
        self.c = c

    def forward(self, a):
        return a ** a.dtype.type(self.c) if a.dtype.kind == "f" else a**self.c

    def backward(self, gy):
        (a,) = self.inputs
        if self.c == 0:
            return gy * 0.0
        return gy * (self.c * a ** (self.c - 1))


class Pow(Function):
    def forward(self, a, b):
        return a**b

    def backward(self, gy):
        a, b = self.inputs
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to(gy * b * a ** (b - 1.0), a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to(gy * a**b * log(a), b.shape)
        return ga, gb


class Exp(Function):
    def forward(self, a):
        return array_module(a).exp(a)

    def backward(self, gy):
        return gy * exp(self.inputs[0])


class Log(Function):
    def forward(self, a):
        return array_module(a).log(a)

    def backward(self, gy):
        return gy / self.inputs[0]


class Sqrt(Function):
    def forward(self, a):
        return array_module(a).sqrt(a)

    def backward(self, gy):
        return gy / (2.0 * sqrt(self.inputs[0]))


class Abs(Function):
    def forward(self, a):
        return array_module(a).abs(a)  # not abs(a): the module-level abs below shadows the builtin

    def backward(self, gy):
        (a,) = self.inputs
        return gy * _const(a, a.xp.sign(a.array))


class Clamp(Function):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, a):
        return array_module(a).clip(a, self.lo, self.hi).astype(a.dtype, copy=False)

    def backward(self, gy):
        (a,) = self.inputs
        inside = a.xp.ones(a.shape, dtype=bool)
        if self.lo is not None:
            inside &= a.array >= self.lo
        if self.hi is not None:
            inside &= a.array <= self.hi
        return gy * _const(a, inside)


def add(a, b) -> Tensor:
    """a + b, broadcasting."""
    return Add()(*operands(a, b))


def sub(a, b) -> Tensor:
    """a - b, broadcasting."""
    return Sub()(*operands(a, b))


def mul(a, b) -> Tensor:
    """a * b, broadcasting."""
    return Mul()(*operands(a, b))


def div(a, b) -> Tensor:
    """a / b, broadcasting (true division: integer tensors give float32, as in PyTorch)."""
    a, b = operands(a, b)
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        a, b = (Tensor._from_array(t.array.astype(np.float32)) for t in (a, b))
    return Div()(a, b)


def neg(a) -> Tensor:
    """-a."""
    return Neg()(a)


def pow(a, b) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b: b a Python number (fast path) or a tensor (differentiable in both)."""
    if not isinstance(b, Tensor) and isinstance(a, Tensor):
        return PowScalar(b)(a)
    return Pow()(*operands(a, b))


def exp(a) -> Tensor:
    """e ** a."""
    return Exp()(a)


def log(a) -> Tensor:
    """Natural logarithm (-inf at 0, nan below)."""
    return Log()(a)


def sqrt(a) -> Tensor:
    """Square root."""
    return Sqrt()(a)


def abs(a) -> Tensor:  # noqa: A001 - PyTorch's name
    """|a|; its gradient at 0 is 0 (sign(0) = 0), as in PyTorch."""
    return Abs()(a)


def clamp(a, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's argument names
    """a limited to [min, max] (either may be None); the gradient passes where min <= a <= max."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp(min, max)(a)
