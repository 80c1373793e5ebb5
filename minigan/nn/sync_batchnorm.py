"""SyncBatchNorm: batch normalisation over the whole batch of every rank. Chapter 16 (scaling out).

In data-parallel training each rank sees only its shard of the batch (B / p samples). Plain batch norm
then normalises with the shard's statistics: the network computes a different function than it would on
the whole batch, and a GAN's D, which compares a real batch with a fake one by their statistics, plays a
different game. SyncBatchNorm computes the statistics of the whole batch: for each channel, with M the
number of values over all ranks,

    mu  = (1/M) sum over ranks of sum(x_r),      var = (1/M) sum over ranks of sum(x_r^2) - mu^2

(one all-reduce of 2C + 1 numbers, the sums taken in float64 so that the subtraction loses nothing a
float32 layer would keep), then x_hat = (x - mu) / sqrt(var + eps) and y = gamma x_hat + beta as
``BatchNorm``. The
backward needs the same two global sums of the gradient,

    gx_r = gamma / sqrt(var + eps) * (gy_r - (1/M) sum gy - x_hat_r (1/M) sum(gy x_hat))

(sums over all ranks: one all-reduce of 2C numbers), while g_gamma = sum(gy_r x_hat_r) and
g_beta = sum(gy_r) stay each rank's own: the gradient all-reduce of ``DistributedDataParallel`` averages
them like every other parameter's. So p ranks with B / p samples each compute what one process computes on
the batch of B (float rounding aside: the sums are added in another order). With ``create_graph`` (R1,
WGAN-GP through D) the backward is rebuilt from differentiable ops and the differentiable all-reduce
(``minigan.distributed.collectives``), so it can be differentiated again.

Outside a process group, in a group of one, or in evaluation mode, it is ``BatchNorm`` (PyTorch falls back
the same way). ``SyncBatchNorm.convert_sync_batchnorm(model)`` swaps every BatchNorm*d of a model for one,
keeping its parameters and buffers (the same Tensors, so an optimizer made before still holds them).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..backend import array_module
from ..distributed import process_group as pg
from ..distributed.collectives import all_reduce_sum
from ..ops.elementwise import sqrt
from ..ops.normalization import _channel_axes, _per_channel, check_batch_norm, update_running_stats
from ..ops.reduce import sum
from .normalization import _BatchNorm


class SyncBatchNormTrain(Function):
    """y = gamma * x_hat + beta with the statistics of every rank's batch; inputs x, gamma (C,), beta (C,)."""

    def __init__(self, eps: float, group):
        self.eps, self.group = eps, group

    def forward(self, x, gamma, beta):
        xp, axes, c = array_module(x), _channel_axes(x.ndim), x.shape[1]
        # one all-reduce of [sum x, sum x^2, count] in float64: var = E[x^2] - mu^2 loses nothing a float32
        # batch norm would keep, and it halves the forward's collectives (each one waits for every rank)
        local = xp.empty(2 * c + 1, dtype=np.float64)
        x64 = x.astype(np.float64)
        local[:c] = x64.sum(axis=axes)
        local[c : 2 * c] = (x64 * x64).sum(axis=axes)
        local[2 * c] = x.size // c  # the rank's values per channel (ranks may hold different shard sizes)
        self.group.all_reduce(local)
        m = int(local[2 * c])
        mu64 = local[:c] / m
        var64 = xp.maximum(local[c : 2 * c] / m - mu64 * mu64, 0.0)
        mu, var = mu64.astype(x.dtype), var64.astype(x.dtype)
        invstd = (1.0 / xp.sqrt(var64 + self.eps)).astype(x.dtype)
        x_hat = (x - mu.reshape(_shape(x.ndim, c))) * invstd.reshape(_shape(x.ndim, c))
        self.save(x_hat, invstd)
        self.m, self.batch_mean, self.batch_var = m, mu, var
        return gamma.reshape(_shape(x.ndim, c)) * x_hat + beta.reshape(_shape(x.ndim, c))

    def backward(self, gy):
        x, gamma, _ = self.inputs
        axes = _channel_axes(x.ndim)
        if is_grad_enabled():  # recorded: the same formula in differentiable ops, all-reduces included
            s1 = all_reduce_sum(sum(x, axes, keepdim=True))
            xc = x - s1 / self.m
            var = all_reduce_sum(sum(xc * xc, axes, keepdim=True)) / self.m
            x_hat = xc * (1.0 / sqrt(var + self.eps))
            gx = None
            if self.needs_input_grad[0]:
                g_hat = gy * _per_channel(gamma, x.ndim)
                mean_g = all_reduce_sum(sum(g_hat, axes, keepdim=True)) / self.m
                mean_gx = all_reduce_sum(sum(g_hat * x_hat, axes, keepdim=True)) / self.m
                gx = (1.0 / sqrt(var + self.eps)) * (g_hat - mean_g - x_hat * mean_gx)
            g_gamma = sum(gy * x_hat, axes) if self.needs_input_grad[1] else None
            g_beta = sum(gy, axes) if self.needs_input_grad[2] else None
            return gx, g_gamma, g_beta
        return self._backward_arrays(gy.array, gamma.array)

    def _backward_arrays(self, gy, gamma):
        x_hat, invstd = self.saved
        xp, axes, c, nd = array_module(gy), _channel_axes(gy.ndim), gy.shape[1], gy.ndim
        sums = xp.empty(2 * c, dtype=gy.dtype)
        sums[:c] = gy.sum(axis=axes)
        sums[c:] = (gy * x_hat).sum(axis=axes)
        g_beta, g_gamma = sums[:c].copy(), sums[c:].copy()  # this rank's own: DDP averages them
        gx = None
        if self.needs_input_grad[0]:
            self.group.all_reduce(sums)
            mean_g, mean_gx = sums[:c] / self.m, sums[c:] / self.m
            scale = (gamma * invstd).reshape(_shape(nd, c))
            gx = scale * (gy - mean_g.reshape(_shape(nd, c)) - x_hat * mean_gx.reshape(_shape(nd, c)))
        need_gx, need_gamma, need_beta = self.needs_input_grad
        return (
            Tensor._from_array(gx) if need_gx else None,
            Tensor._from_array(g_gamma) if need_gamma else None,
            Tensor._from_array(g_beta) if need_beta else None,
        )


def _shape(ndim: int, c: int) -> tuple:
    return (1, c) + (1,) * (ndim - 2)


def sync_batch_norm(x, running_mean, running_var, weight, bias, momentum: float, eps: float, group) -> Tensor:
    """Training-mode batch norm with the statistics of every rank of ``group`` (see the module docstring);
    updates the running statistics with the global mean and unbiased variance, identically on every rank."""
    x = check_batch_norm(x, running_mean, running_var, weight, bias, True)
    xp, c = x.xp, x.shape[1]
    gamma = weight if weight is not None else Tensor._from_array(xp.ones(c, dtype=x.dtype))
    beta = bias if bias is not None else Tensor._from_array(xp.zeros(c, dtype=x.dtype))
    fn = SyncBatchNormTrain(eps, group)
    y = fn(x, gamma, beta)
    update_running_stats(running_mean, running_var, fn.batch_mean, fn.batch_var, fn.m, momentum)
    return y


class SyncBatchNorm(_BatchNorm):
    """``SyncBatchNorm(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
    process_group=None)``: batch norm of (N, C, ...) over the batches of every rank (module docstring).
    ``process_group`` None: the default group, looked up at each forward."""

    _accepted_ndim = (2, 3, 4, 5)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _group(self):
        if self.process_group is not None:
            return self.process_group
        return pg.group() if pg.is_initialized() else None

    def forward(self, x: Tensor) -> Tensor:
        group = self._group()
        if not self.training or group is None or group.world_size == 1:
            return super().forward(x)
        self._check_ndim(x)
        momentum = self._step_momentum()
        rm, rv = (self.running_mean, self.running_var) if self.track_running_stats else (None, None)
        return sync_batch_norm(x, rm, rv, self.weight, self.bias, momentum, self.eps, group)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d / 2d replaced by a SyncBatchNorm holding the same parameters
        and buffers (PyTorch's classmethod); the module itself when it is a BatchNorm."""
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)  # fmt: skip
            for name in ("weight", "bias"):
                out._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out._buffers[name] = module._buffers[name]
            out.train(module.training)
            return out
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module
