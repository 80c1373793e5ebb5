"""The differentiable ops, one file per family; each Function's forward and backward side by side.

Chapters 01 (autograd) and 02 (gradient checking) teach them; matmul and conv (chapters 03, 04) dispatch to
``minigan.kernels``. Importing this package attaches the operators to Tensor (see ``methods.py``).
"""

from . import methods
from .elementwise import abs, add, clamp, div, exp, log, mul, neg, pow, sqrt, sub
from .reduce import mean, sum
from .shape import astype, broadcast_to, permute, reshape, sum_to, to_device, transpose, view

methods.install()

__all__ = [
    "abs",
    "add",
    "astype",
    "broadcast_to",
    "clamp",
    "div",
    "exp",
    "log",
    "mean",
    "mul",
    "neg",
    "permute",
    "pow",
    "reshape",
    "sqrt",
    "sub",
    "sum",
    "sum_to",
    "to_device",
    "transpose",
    "view",
]
