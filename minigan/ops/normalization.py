"""Batch normalisation: ``batch_norm`` (PyTorch's ``F.batch_norm``), twice differentiable. Chapter 05.

For x of shape (N, C) or (N, C, *spatial), each channel c is normalised over the M = N * prod(spatial)
values it has in the batch:

    mu = mean(x[:, c]),  var = mean((x[:, c] - mu)^2)  (biased),  x_hat = (x - mu) / sqrt(var + eps)
    y = gamma * x_hat + beta

Training uses the batch's mu and var and updates the running statistics in place (without a graph):
``running_mean <- (1 - momentum) running_mean + momentum mu`` and the same for ``running_var`` with the
*unbiased* variance var * M / (M - 1), as PyTorch does. Evaluation uses the running statistics instead,
so y is an affine function of x per channel: y = x * scale + shift with scale = gamma / sqrt(rv + eps).

Training mode is one fused Function whose backward is the textbook formula

    g_beta = sum(gy),   g_gamma = sum(gy * x_hat),
    gx = (gamma / sqrt(var + eps)) * (gy - mean(gy) - x_hat * mean(gy * x_hat))

(sums and means per channel). When the backward is recorded (``create_graph=True``, for WGAN-GP / R1)
x_hat and 1/sqrt(var + eps) are recomputed from x with differentiable ops, so the formula itself gets
differentiated; otherwise the values saved by forward are used with plain array arithmetic. Both paths
compute the same numbers (tests check it). Fused, forward + backward is faster than the forward composed
from mean / sub / mul / sqrt ops; chapter 05, section 4 times the two.
"""

from __future__ import annotations

from .. import kernels  # the repository's top-level kernels/ folder, installed as minigan.kernels
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.tensor import Tensor, as_tensor
from .elementwise import sqrt
from .reduce import mean, sum
from .shape import reshape


def _channel_axes(ndim: int) -> tuple:
    return (0,) + tuple(range(2, ndim))


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    """(C,) -> (1, C, 1, ...) so that it broadcasts against x."""
    return reshape(t, (1, t.shape[0]) + (1,) * (ndim - 2))


class BatchNormTrain(Function):
    """y = gamma * x_hat + beta with batch statistics; inputs x, gamma (C,), beta (C,)."""

    def __init__(self, eps):
        self.eps = eps

    def forward(self, x, gamma, beta):
        y, x_hat, mu, var, invstd = kernels.batch_norm_forward(x, gamma, beta, self.eps)
        self.save(x_hat, invstd)
        self.batch_mean, self.batch_var = mu, var  # for the running statistics
        return y

    def backward(self, gy):
        x, gamma, beta = self.inputs
        axes = _channel_axes(x.ndim)
        if is_grad_enabled():  # recorded backward: rebuild x_hat from x so that it is differentiated too
            xc = x - mean(x, axes, keepdim=True)
            invstd = 1.0 / sqrt(mean(xc * xc, axes, keepdim=True) + self.eps)
            x_hat = xc * invstd
            gx = g_gamma = g_beta = None
            if self.needs_input_grad[0]:
                g_hat = gy * _per_channel(gamma, x.ndim)
                g_hat_mean = mean(g_hat, axes, keepdim=True)
                gx = invstd * (g_hat - g_hat_mean - x_hat * mean(g_hat * x_hat, axes, keepdim=True))
            if self.needs_input_grad[1]:
                g_gamma = sum(gy * x_hat, axes)
            if self.needs_input_grad[2]:
                g_beta = sum(gy, axes)
            return gx, g_gamma, g_beta
        return self._backward_arrays(gy.array, gamma.array)

    def _backward_arrays(self, gy, gamma):
        """The same formula on raw arrays (no graph is being recorded), in the kernels."""
        x_hat, invstd = self.saved
        need_gx, need_gamma, need_beta = self.needs_input_grad
        gx, g_gamma, g_beta = kernels.batch_norm_backward(gy, x_hat, gamma, invstd, need_gx)
        return (
            Tensor._from_array(gx) if need_gx else None,
            Tensor._from_array(g_gamma) if need_gamma else None,
            Tensor._from_array(g_beta) if need_beta else None,
        )


def update_running_stats(running_mean, running_var, mu, var, m: int, momentum: float) -> None:
    """running <- (1 - momentum) running + momentum * batch statistic, in place, for the batch mean ``mu``
    and the biased variance ``var`` of ``m`` values per channel (stored unbiased: var * m / (m - 1))."""
    with no_grad():
        if running_mean is not None:
            rm = running_mean.array
            rm *= 1.0 - momentum
            rm += (momentum * mu).astype(rm.dtype, copy=False)
            running_mean._bump_version()
        if running_var is not None:
            rv = running_var.array
            rv *= 1.0 - momentum
            rv += (momentum * m / (m - 1) * var).astype(rv.dtype, copy=False)
            running_var._bump_version()


def check_batch_norm(x, running_mean, running_var, weight, bias, training):
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, ...), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"batch_norm: expected a floating-point input, got dtype {x.dtype}")
    c = x.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(
                f"batch_norm: {name} must have shape ({c},) for an input with {c} channels "
                f"(input shape {x.shape}), got {tuple(t.shape)}"
            )
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: evaluation mode (training=False) needs running_mean and running_var")
    if training and x.numel() // c <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input shape {x.shape}"
        )
    return x


def batch_norm(
    x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
) -> Tensor:
    """Batch normalisation over dim 1 of x (N, C) or (N, C, ...), PyTorch's ``F.batch_norm``.

    training=True: normalise with the batch statistics and, if given, update ``running_mean`` and
    ``running_var`` (Tensors of shape (C,)) in place. training=False: normalise with the running
    statistics. ``weight`` (gamma) and ``bias`` (beta) are optional (C,) tensors.
    """
    x = check_batch_norm(x, running_mean, running_var, weight, bias, training)
    xp, c = x.xp, x.shape[1]
    if training:
        gamma = as_tensor(weight) if weight is not None else Tensor._from_array(xp.ones(c, dtype=x.dtype))
        beta = as_tensor(bias) if bias is not None else Tensor._from_array(xp.zeros(c, dtype=x.dtype))
        fn = BatchNormTrain(eps)
        y = fn(x, gamma, beta)
        update_running_stats(running_mean, running_var, fn.batch_mean, fn.batch_var, x.numel() // c, momentum)
        return y
    # evaluation: y = x * scale + shift, an affine map per channel (differentiable in x, weight, bias)
    # as_tensor(...).to(dtype): the running statistics themselves (their version counter included)
    # when the dtypes agree, so an in-place update before backward is caught
    rm = as_tensor(running_mean).detach().to(dtype=x.dtype)
    rv = as_tensor(running_var).detach().to(dtype=x.dtype)
    scale = 1.0 / sqrt(rv + eps)
    if weight is not None:
        scale = scale * weight
    shift = -rm * scale
    if bias is not None:
        shift = shift + bias
    return x * _per_channel(scale, x.ndim) + _per_channel(shift, x.ndim)
