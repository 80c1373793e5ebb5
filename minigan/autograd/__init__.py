"""Reverse-mode automatic differentiation: Tensor, Function, backward, grad. Chapter 01 teaches it.

Layering: this package knows nothing of the individual ops (``minigan.ops`` builds on it and attaches the
operators to Tensor). ``minigan.autograd.grad`` mirrors ``torch.autograd.grad``.
"""

from .engine import backward, grad
from .function import Function, GraphFreedError
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, as_tensor
from .variable import Variable

__all__ = [
    "Function",
    "GraphFreedError",
    "Tensor",
    "as_tensor",
    "backward",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "Variable",
]
