"""Dropout layers: Dropout and Dropout2d. Chapter 05 (layers and optimizers).

In training mode each value (Dropout) or each whole channel of an (N, C, H, W) feature map (Dropout2d)
is zeroed with probability p and the survivors are scaled by 1 / (1 - p) (inverted dropout); in
evaluation mode the layers are the identity. Masks come from minigan's default generator, so
``mg.manual_seed`` fixes them.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    """``Dropout(p=0.5, inplace=False)``; ``inplace`` is accepted and ignored (ops never overwrite inputs)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = float(p), inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """``Dropout2d(p=0.5, inplace=False)``: zeroes whole channels of (N, C, H, W) or (C, H, W) input."""

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout2d(x, self.p, self.training)
