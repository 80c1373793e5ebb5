"""Embedding layer: a learned lookup table (class labels in a conditional GAN). Part of chapter 05's layer
library, though the chapter does not cover it.

``Embedding(num_embeddings, embedding_dim, padding_idx=None)`` holds ``weight`` of shape
(num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch (the ``padding_idx`` row, if any,
starts at zero and never receives a gradient). Input: integer indices of any shape; output: that shape
+ (embedding_dim,).
"""

from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .linear import _empty
from .module import Module


class Embedding(Module):
    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx=None,
        max_norm=None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if max_norm is not None:
            raise NotImplementedError("Embedding: max_norm is not implemented")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"padding_idx {padding_idx} must be within num_embeddings {self.num_embeddings}"
                )
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        self.weight = _empty((self.num_embeddings, self.embedding_dim), device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight.array[self.padding_idx] = 0
                self.weight._bump_version()

    def forward(self, idx) -> Tensor:
        return F.embedding(idx, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
