"""Attach the ops to Tensor as operators and methods (``x + y``, ``x @ w``, ``x.sum()``). Chapter 01.

Tensor itself (``autograd/tensor.py``) knows nothing of the ops, so that the autograd layer stands alone;
this table is the one place that binds them, in the manner of DeZero's ``setup_variable``.
"""

from __future__ import annotations

from .. import creation as cr
from ..autograd.tensor import Tensor
from . import activations as act
from . import compare as cmp
from . import elementwise as ew
from . import indexing as ix
from . import inplace as ip
from . import matmul as mm
from . import norm as nm
from . import reduce as rd
from . import shape as sh


def _swap(fn):
    return lambda a, b: fn(b, a)


def _iterate(x):
    """Iterate over the first axis, as PyTorch does (each item is a differentiable ``x[i]``)."""
    if x.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (ix.getitem(x, i) for i in range(x.shape[0]))


def _new_like(make):
    """``x.new_zeros(size)`` and friends: a new tensor with x's dtype and device unless given."""

    def method(x, *size, dtype=None, device=None, requires_grad=False, **kw):
        return make(
            *size, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad, **kw
        )

    return method


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
        # added with the activation, reduction, shape, indexing and matmul families
        "__matmul__": mm.matmul,
        "__rmatmul__": _swap(mm.matmul),
        "matmul": mm.matmul,
        "__getitem__": ix.getitem,
        "__iter__": _iterate,
        "__lt__": cmp.lt,
        "__le__": cmp.le,
        "__gt__": cmp.gt,
        "__ge__": cmp.ge,
        "__eq__": cmp.eq,
        "__ne__": cmp.ne,
        "__and__": cmp.bool_and,
        "__or__": cmp.bool_or,
        "__invert__": cmp.logical_not,
        "eq": cmp.eq,
        "ne": cmp.ne,
        "lt": cmp.lt,
        "le": cmp.le,
        "gt": cmp.gt,
        "ge": cmp.ge,
        "where": lambda x, condition, other: ix.where(condition, x, other),
        "tanh": act.tanh,
        "sigmoid": act.sigmoid,
        "relu": act.relu,
        "softmax": act.softmax,
        "log_softmax": act.log_softmax,
        "max": rd.max,
        "min": rd.min,
        "amax": rd.amax,
        "logsumexp": rd.logsumexp,
        "amin": rd.amin,
        "argmax": rd.argmax,
        "argmin": rd.argmin,
        "maximum": rd.maximum,
        "minimum": rd.minimum,
        "var": rd.var,
        "std": rd.std,
        "flatten": sh.flatten,
        "unsqueeze": sh.unsqueeze,
        "squeeze": sh.squeeze,
        "expand": lambda x, *sizes: sh.expand(x, *sizes),
        "expand_as": lambda x, other: sh.expand(x, other.shape),
        "view_as": lambda x, other: sh.reshape(x, other.shape),
        "reshape_as": lambda x, other: sh.reshape(x, other.shape),
        "type_as": lambda x, other: x.to(other.device, other.dtype),
        "clone": sh.clone,
        "norm": nm.norm,
        "mul": ew.mul,
        "add": lambda x, other, alpha=1: ew.add(x, other if alpha == 1 else other * alpha),
        "sub": lambda x, other, alpha=1: ew.sub(x, other if alpha == 1 else other * alpha),
        "div": ew.div,
        "neg": ew.neg,
        "softplus": act.softplus,
        "leaky_relu": act.leaky_relu,
        "new_zeros": _new_like(cr.zeros),
        "new_ones": _new_like(cr.ones),
        "new_empty": _new_like(cr.empty),
        "new_full": lambda x, size, fill_value, dtype=None, device=None, requires_grad=False: cr.full(
            size, fill_value, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad
        ),
        "new_tensor": lambda x, data, dtype=None, device=None, requires_grad=False: cr.tensor(
            data, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad
        ),
        # in-place writes (they bump the version counter; see inplace.py)
        "fill_": ip.fill_,
        "zero_": ip.zero_,
        "normal_": ip.normal_,
        "uniform_": ip.uniform_,
        "copy_": ip.copy_,
        "add_": ip.add_,
        "sub_": ip.sub_,
        "mul_": ip.mul_,
        "div_": ip.div_,
        "clamp_": ip.clamp_,
        "__setitem__": ip.setitem,
        "__iadd__": ip.augmented("add", ew.add),
        "__isub__": ip.augmented("sub", ew.sub),
        "__imul__": ip.augmented("mul", ew.mul),
        "__itruediv__": ip.augmented("div", ew.div),
    }
    for name, fn in table.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda x: sh.permute(x, *reversed(range(x.ndim))))
