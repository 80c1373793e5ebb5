"""Collectives on Tensors: PyTorch's ``torch.distributed.all_reduce`` / ``broadcast`` / ``barrier``, and a
differentiable all-reduce. Chapter 16 (scaling out).

``all_reduce(t)`` and ``broadcast(t, src)`` write into ``t`` in place, as PyTorch's do (its version counter
moves, so a graph that saved ``t`` refuses to use the new value). They run on the default group
(``process_group.py``) and act on ``t.array``; a NumPy or CuPy array may be passed as well.

``all_reduce_sum(t)`` is the differentiable one (PyTorch's ``torch.distributed.nn.functional.all_reduce``):
y = sum over ranks r of t_r, the same on every rank. Its backward is the same collective on the gradients:
rank r's input t_r reaches every rank's y, so

    dL/dt_r = sum over ranks q of dL_q/dy  = all_reduce_sum(gy)

where L_q is the loss rank q differentiates. Batch norm across ranks (``nn.SyncBatchNorm``) builds its
statistics with it, so its gradient, and the gradient of that gradient (R1, WGAN-GP), come out right.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import process_group as pg


def _array(t):
    return t.array if isinstance(t, Tensor) else t


def all_reduce(t, op: str = "sum"):
    """t <- the reduction over ranks of t, in place ("sum", "avg", "max", "min"); returns None like
    PyTorch's. With no process group initialised this is an error, as in PyTorch."""
    pg.group().all_reduce(_array(t), op)
    if isinstance(t, Tensor):
        t._bump_version()


def broadcast(t, src: int = 0):
    """t <- rank ``src``'s t on every rank, in place."""
    pg.group().broadcast(_array(t), src)
    if isinstance(t, Tensor):
        t._bump_version()


def barrier() -> None:
    pg.group().barrier()


class AllReduceSum(Function):
    """y = sum over ranks of x (a new array; x is not written); backward: the same sum of the gradients."""

    saves_inputs = ()

    def forward(self, x):
        y = x.copy()
        return pg.group().all_reduce(y) if pg.is_initialized() else y

    def backward(self, gy):
        return all_reduce_sum(gy)


def all_reduce_sum(t: Tensor) -> Tensor:
    """The differentiable sum over ranks of ``t`` (identity outside a process group, or in a group of one)."""
    return AllReduceSum()(t)
