"""Comparisons and logic on tensors: < > <= >= == != and, or, not. Chapter 01 (autograd).

They return boolean tensors (masks for ``where`` and indexing) and are not differentiable: a comparison is
piecewise constant, so its derivative is zero wherever it exists. Operands broadcast; a Python number is
compared in the tensor's dtype.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import array_module
from ._util import operands


class Compare(Function):
    differentiable = False

    def __init__(self, ufunc_name):
        self.ufunc_name = ufunc_name

    @property
    def name(self) -> str:
        return self.ufunc_name

    def forward(self, a, b):
        return getattr(array_module(a, b), self.ufunc_name)(a, b)


def _compare(name):
    def op(a, b) -> Tensor:
        return Compare(name)(*operands(a, b))

    op.__name__ = name
    return op


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
eq.__doc__ = "a == b elementwise, broadcasting; a bool tensor."
ne.__doc__ = "a != b elementwise, broadcasting; a bool tensor."
lt.__doc__ = "a < b elementwise, broadcasting; a bool tensor."
le.__doc__ = "a <= b elementwise, broadcasting; a bool tensor."
gt.__doc__ = "a > b elementwise, broadcasting; a bool tensor."
ge.__doc__ = "a >= b elementwise, broadcasting; a bool tensor."


def _bools(name, *xs):
    ts = [as_tensor(x) for x in xs]
    for t in ts:
        if t.dtype.kind != "b":
            raise TypeError(f"{name}: expected boolean tensors, got dtype {t.dtype}")
    return ts


logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_and.__doc__ = "a & b for boolean tensors, broadcasting."
logical_or.__doc__ = "a | b for boolean tensors, broadcasting."


class LogicalNot(Function):
    differentiable = False

    def forward(self, a):
        return array_module(a).logical_not(a)


def logical_not(a) -> Tensor:
    """~a for a boolean tensor."""
    (a,) = _bools("logical_not", a)
    return LogicalNot()(a)


def bool_and(a, b) -> Tensor:
    """The ``&`` operator: logical and of boolean tensors."""
    return logical_and(*_bools("&", a, b))


def bool_or(a, b) -> Tensor:
    """The ``|`` operator: logical or of boolean tensors."""
    return logical_or(*_bools("|", a, b))
