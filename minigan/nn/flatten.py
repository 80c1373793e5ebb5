"""Flatten and Unflatten layers: reshape between images and vectors. Chapter 05.

A DCGAN discriminator ends with Flatten (N, C, H, W) -> (N, C*H*W) before its Linear; a generator starts
with Linear and Unflatten(1, (C, H, W)). Both are views, and their gradient is the inverse reshape.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops._util import normalize_dim
from ..ops.shape import reshape
from .module import Module


class Flatten(Module):
    """``Flatten(start_dim=1, end_dim=-1)``: merges dims start_dim..end_dim into one."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 0:
            return reshape(x, 1)
        s = normalize_dim(self.start_dim, x.ndim, "start_dim")
        e = normalize_dim(self.end_dim, x.ndim, "end_dim")
        if s > e:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim}")
        merged = 1
        for n in x.shape[s : e + 1]:
            merged *= n
        return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """``Unflatten(dim, unflattened_size)``: splits dim into ``unflattened_size`` (one entry may be -1)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        d = normalize_dim(self.dim, x.ndim)
        return reshape(x, x.shape[:d] + self.unflattened_size + x.shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
