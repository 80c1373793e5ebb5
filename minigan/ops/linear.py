"""The affine map of a fully connected layer, y = x @ w^T + b (PyTorch's ``F.linear``). Chapter 05.

x (*, in), w (out, in), b (out,) or None -> y (*, out); O(numel(x) * out) flops, one matrix product.
One Function, LinearMap, computes y = x @ w^T and is closed under differentiation:

    gx = gy @ w   = LinearMap(gy, w^T)                        (*, out) @ (out, in)
    gw = gy^T @ x = LinearMap(gy2^T, x2^T)                    (out, M) @ (M, in), M = numel(x) / in

(gy2, x2: gy and x flattened to 2-D), so gradients of any order are again LinearMaps, transposes and
reshapes. The bias is a broadcast add, whose gradient ``sum_to`` sums gy over the batch dimensions. The
product itself is ``matmul_arrays`` of ``ops/matmul.py``, i.e. ``minigan.kernels.matmul``: the kernel
switch (``kernels.use`` / ``set_default``, chapter 03) reaches Linear layers as it reaches ``a @ b``.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from .matmul import matmul_arrays
from .shape import reshape, transpose


class LinearMap(Function):
    """y = x @ w^T for x (*, in), w (out, in)."""

    def forward(self, x, w):
        y2 = matmul_arrays(x.reshape(-1, x.shape[-1]), w.T)  # (M, in) @ (in, out), M = numel(x) / in
        return y2.reshape(*x.shape[:-1], w.shape[0])

    def backward(self, gy):
        x, w = self.inputs
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = LinearMap()(gy, transpose(w, 0, 1))
        if self.needs_input_grad[1]:
            gy2 = reshape(gy, -1, gy.shape[-1])
            x2 = reshape(x, -1, x.shape[-1])
            gw = LinearMap()(transpose(gy2, 0, 1), transpose(x2, 0, 1))
        return gx, gw


def linear(x, w, b=None) -> Tensor:
    """y = x @ w^T + b: x (*, in_features), w (out_features, in_features), b (out_features,) or None."""
    x, w = as_tensor(x), as_tensor(w)
    b = None if b is None else as_tensor(b)
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim < 1:
        raise ValueError(
            "linear: input must have at least 1 dimension (its last is in_features), got a 0-d tensor"
        )
    for label, t in (("input", x), ("weight", w), ("bias", b)):
        if t is not None and t.dtype.kind != "f":
            raise TypeError(f"linear: expected a floating-point {label}, got dtype {t.dtype}")
    if w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        dtypes = f"input {x.dtype}, weight {w.dtype}" + ("" if b is None else f", bias {b.dtype}")
        raise TypeError(f"linear: input, weight and bias must have the same dtype, got {dtypes}")
    if x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (last dim of shape {x.shape}) but weight expects "
            f"{w.shape[1]} (weight shape {w.shape})"
        )
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"linear: bias must have shape ({w.shape[0]},), got {b.shape}")
    y = LinearMap()(x, w)
    return y if b is None else y + b
