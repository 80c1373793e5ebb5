"""Vector norms: ``x.norm(p=2, dim=None, keepdim=False)``, PyTorch's ``Tensor.norm``. Chapter 01.

    ||x||_p = (sum_i |x_i|^p)^(1/p)          p = 2: sqrt(sum x^2);  p = 1: sum |x|;  p = inf: max |x|

WGAN-GP takes ``((grad.norm(2, dim=1) - 1) ** 2).mean()``, so the 2-norm is its own Function: its
gradient d||x||/dx = x / ||x|| is undefined at x = 0, where PyTorch (and minigan) use the subgradient 0
instead of the 0/0 = NaN that sqrt's chain rule would give. The backward is built of differentiable ops, so
the penalty can be differentiated again.
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import array_module
from ._util import normalize_dims
from .elementwise import abs, pow
from .indexing import where
from .reduce import amax, sum
from .shape import reshape


class Norm2(Function):
    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        return array_module(x).sqrt((x * x).sum(axis=self.axes, keepdims=self.keepdim))

    def backward(self, gy):
        (x,) = self.inputs
        kept = tuple(1 if i in self.axes else n for i, n in enumerate(x.shape))
        n = reshape(norm(x, 2, self.axes, self.keepdim), kept)
        safe = where(n == 0, 1.0, n)  # x / ||x|| with 0 where ||x|| = 0
        return where(n == 0, 0.0, x / safe) * reshape(gy, kept)


def norm(x, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm of x over ``dim`` (None: all elements; an int or a tuple). p: a positive number or
    ``float("inf")``; ``"fro"`` is p = 2. O(numel)."""
    x = as_tensor(x)
    if p == "fro":
        p = 2
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not p > 0:
        raise ValueError(f"norm: p must be a positive number, inf or 'fro', got {p!r}")
    if x.dtype.kind != "f":
        raise TypeError(f"norm: expected a floating-point tensor, got dtype {x.dtype}")
    axes = normalize_dims(dim, x.ndim)
    if p == 2:
        return Norm2(axes, keepdim)(x)
    if p == 1:
        return sum(abs(x), axes, keepdim)
    if math.isinf(p):
        return amax(abs(x), axes, keepdim)
    return pow(sum(pow(abs(x), p), axes, keepdim), 1.0 / p)
