"""Attach the ops to Tensor as operators and methods (``x + y``, ``x @ w``, ``x.sum()``). Chapter 01.

Tensor itself (``autograd/tensor.py``) knows nothing of the ops, so that the autograd layer stands alone;
this table is the one place that binds them, in the manner of DeZero's ``setup_variable``.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from . import elementwise as ew
from . import reduce as rd
from . import shape as sh


def _swap(fn):
    return lambda a, b: fn(b, a)


def install():
    """Bind operators and methods onto Tensor. Idempotent."""
    table = {
        "__add__": ew.add,
        "__radd__": _swap(ew.add),
        "__sub__": ew.sub,
        "__rsub__": _swap(ew.sub),
        "__mul__": ew.mul,
        "__rmul__": _swap(ew.mul),
        "__truediv__": ew.div,
        "__rtruediv__": _swap(ew.div),
        "__neg__": ew.neg,
        "__pow__": ew.pow,
        "__rpow__": _swap(ew.pow),
        "__abs__": ew.abs,
        "exp": ew.exp,
        "log": ew.log,
        "sqrt": ew.sqrt,
        "abs": ew.abs,
        "clamp": ew.clamp,
        "pow": ew.pow,
        "sum": rd.sum,
        "mean": rd.mean,
        "reshape": lambda x, *shape: sh.reshape(x, *shape),
        "view": lambda x, *shape: sh.reshape(x, *shape),
        "permute": lambda x, *dims: sh.permute(x, *dims),
        "transpose": sh.transpose,
        "broadcast_to": sh.broadcast_to,
        "sum_to": sh.sum_to,
    }
    for name, fn in table.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda x: sh.permute(x, *reversed(range(x.ndim))))
