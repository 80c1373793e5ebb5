"""Embedding lookup: rows of a weight table picked by integer indices; the op behind ``nn.Embedding``
(chapter 05's layer library).

    y[..., :] = w[idx[...], :]      w: (num_embeddings, dim), idx: ints of any shape -> idx.shape + (dim,)

Its gradient scatters back: gw[k] = sum of gy over the positions where idx == k (an index that occurs
twice gets both contributions, hence a scatter-ADD rather than assignment), O(idx.size * dim), and rows
never looked up get 0. On the CPU the scatter sorts the indices (stably) and sums each run of equal
ones with ``np.add.reduceat``: NumPy's ``add.at`` does the same sums one element at a time and was 20x
slower for a class-conditional layer's (64, 6272) gradient; on a GPU ``cupy.add.at`` is a native
scatter. The scatter is linear in gy and its adjoint is the lookup again, so
EmbeddingBackward's backward is Embedding: gradients of any order work. With ``padding_idx`` that row
gets no gradient (PyTorch's semantics).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import array_module, to_device


def _scatter_add(num_rows, idx, gy, padding_idx):
    """gw (num_rows, dim) with gw[k] = sum of gy rows whose index is k."""
    xp = array_module(gy)
    dim = gy.shape[-1]
    gw = xp.zeros((num_rows, dim), dtype=gy.dtype)
    idx, gy = idx.reshape(-1), gy.reshape(-1, dim)
    if xp is np and idx.size:
        order = np.argsort(idx, kind="stable")  # equal indices keep their order: sums in a fixed order
        sorted_idx = idx[order]
        starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
        gw[sorted_idx[starts]] = np.add.reduceat(gy[order], starts, axis=0)
    else:
        xp.add.at(gw, idx, gy)
    if padding_idx is not None:
        gw[padding_idx] = 0
    return gw


class Embedding(Function):
    """y = w[idx]; backward: gw = scatter-add of gy into the looked-up rows."""

    def __init__(self, idx, padding_idx):
        self.idx, self.padding_idx = idx, padding_idx

    def forward(self, w):
        return w[self.idx]

    def backward(self, gy):
        (w,) = self.inputs
        return EmbeddingBackward(self.idx, w.shape[0], self.padding_idx)(gy)


class EmbeddingBackward(Function):
    """gw = scatter_add(gy at idx); backward: g_gy = ggw[idx] (zero where idx == padding_idx)."""

    def __init__(self, idx, num_rows, padding_idx):
        self.idx, self.num_rows, self.padding_idx = idx, num_rows, padding_idx

    def forward(self, gy):
        return _scatter_add(self.num_rows, self.idx, gy, self.padding_idx)

    def backward(self, ggw):
        g_gy = Embedding(self.idx, None)(ggw)
        if self.padding_idx is not None:
            keep = (self.idx != self.padding_idx)[..., None].astype(ggw.dtype)
            g_gy = g_gy * Tensor._from_array(keep)
        return g_gy


def embedding(idx, w, padding_idx=None) -> Tensor:
    """PyTorch's ``F.embedding(input, weight, padding_idx=None)``: w[idx], shape idx.shape + (dim,).

    ``idx``: a Tensor or array of integers in [0, num_embeddings); ``w``: (num_embeddings, dim).
    """
    w = as_tensor(w)
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got shape {w.shape}")
    idx = as_tensor(idx).array
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    idx = to_device(idx, w.device)
    n = w.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise IndexError(f"embedding: index {bad} is out of range for a table with {n} rows")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {n} rows")
        padding_idx %= n
    return Embedding(idx, padding_idx)(w)
