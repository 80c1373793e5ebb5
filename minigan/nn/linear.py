"""Linear (fully connected) layer and Identity. Chapter 05 (layers and optimizers).

y = x @ w^T + b with w of shape (out_features, in_features) and b of shape (out_features,), applied to the
last dimension of x (any leading dimensions are batch dimensions). Parameter names, shapes and the default
initialisation match ``torch.nn.Linear``: w, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
Feature counts must be ints (a float or a string is a TypeError, as in PyTorch) and positive (PyTorch
also accepts 0, a layer that only outputs its bias; here that is an error, as is a negative count).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import xp_for
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _empty(shape, device=None, dtype=None) -> Parameter:
    """An uninitialised Parameter of ``shape`` (filled by ``reset_parameters``)."""
    xp = xp_for(device or "cpu")
    return Parameter(xp.zeros(shape, dtype=np.dtype(dtype) if dtype is not None else np.float32))


def _reset_fan_in_uniform(weight: Parameter, bias: Parameter | None, fan_in: int) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)) for w, U(+-1/sqrt(fan_in)) for b."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def _features(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Linear: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"Linear: {name} must be positive, got {value}")
    return int(value)


class Identity(Module):
    """Returns its input unchanged (accepts and ignores constructor arguments, as PyTorch's does)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """``Linear(in_features, out_features, bias=True, device=None, dtype=None)``: (*, in) -> (*, out)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features = _features(in_features, "in_features")
        self.out_features = _features(out_features, "out_features")
        self.weight = _empty((self.out_features, self.in_features), device, dtype)
        if bias:
            self.bias = _empty((self.out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_fan_in_uniform(self.weight, self.bias, init._calculate_fan_in_and_fan_out(self.weight)[0])

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )
