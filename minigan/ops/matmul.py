"""Matrix multiplication with torch.matmul semantics (``a @ b``). Chapters 01 (autograd) and 03 (kernels).

Cases, as in ``torch.matmul``:

    1-D @ 1-D  (k,) @ (k,)              -> ()          dot product
    2-D @ 2-D  (n, k) @ (k, m)          -> (n, m)
    1-D @ n-D  (k,) @ (..., k, m)       -> (..., m)    a (1, k) row is prepended, then removed
    n-D @ 1-D  (..., n, k) @ (k,)       -> (..., n)    a (k, 1) column is appended, then removed
    n-D @ n-D  (..., n, k) @ (..., k, m) -> (..., n, m) batch axes broadcast

The 1-D cases are reshapes around one batched-matrix Function, ``MatMul``, whose backward is two more
matmuls: for Y = A B, dA = dY B^T and dB = A^T dY, each ``sum_to`` the operand's shape when batch axes were
broadcast. Being matmuls themselves, these are differentiable again.

All the arithmetic goes through ``matmul_arrays`` below, the single place where a hand-written kernel
(chapter 03) can take over from the NumPy / CuPy reference. Cost: 2 n k m flops per matrix product;
backward costs twice the forward.
"""

from __future__ import annotations

import numpy as np

from .. import kernels  # the repository's top-level kernels/ folder, installed as minigan.kernels
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from .shape import reshape, sum_to, transpose


def matmul_arrays(a, b):
    """The array product of two arrays with >= 2 dims each, batch axes broadcast: the kernel dispatch point.

    Routed through ``minigan.kernels.matmul`` (chapter 03): the device comes from the arrays, the
    implementation from ``kernels.use(...)`` / ``kernels.set_default(...)``: "vendor" (NumPy's BLAS /
    cuBLAS, the default, fastest as measured in kernels/RESULTS.md), "kernels" (the hand-written Numba /
    CUDA ladder) or "reference". Callers have already checked the shapes.
    """
    return kernels.matmul(a, b)


class MatMul(Function):
    """Y = A @ B for operands with at least 2 dims (broadcast batch axes)."""

    def forward(self, a, b):
        return matmul_arrays(a, b)

    def backward(self, gy):
        a, b = self.inputs
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to(matmul(gy, transpose(b, -1, -2)), a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to(matmul(transpose(a, -1, -2), gy), b.shape)
        return ga, gb


def _check(a: Tensor, b: Tensor):
    where = f"matmul: {a.shape} @ {b.shape}"
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{where}: both arguments need at least 1 dimension")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"{where}: inner dimensions {k_a} and {k_b} differ")
    batch_a, batch_b = a.shape[:-2], b.shape[:-2]
    try:
        np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise ValueError(f"{where}: batch dimensions {batch_a} and {batch_b} do not broadcast") from None


def matmul(a, b) -> Tensor:
    """The matrix product ``a @ b`` with torch.matmul's rules for 1-D and batched operands (see above)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("matmul: expected tensors")
    a, b = as_tensor(a), as_tensor(b)
    _check(a, b)
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a_vec:
        a = reshape(a, (1, a.shape[0]))
    if b_vec:
        b = reshape(b, (b.shape[0], 1))
    y = MatMul()(a, b)
    if a_vec and b_vec:
        return reshape(y, ())
    if a_vec:
        return reshape(y, y.shape[:-2] + y.shape[-1:])
    if b_vec:
        return reshape(y, y.shape[:-1])
    return y
