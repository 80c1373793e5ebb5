"""Instance normalisation layers: InstanceNorm1d and InstanceNorm2d. Chapter 05.

Same arguments, parameters and buffers as PyTorch's, with PyTorch's defaults, which differ from batch
norm's: ``affine=False`` (no weight or bias) and ``track_running_stats=False`` (no buffers), so a
default InstanceNorm2d has an empty state_dict. With ``affine=True`` the state_dict holds ``weight`` and
``bias`` (``bias=False``, keyword-only, drops the bias); with ``track_running_stats=True`` it also holds
``running_mean``, ``running_var`` and ``num_batches_tracked``. As in PyTorch, instance norm never counts
batches (num_batches_tracked stays 0) and ``momentum=None`` leaves the running statistics unchanged.
In training mode, or whenever running statistics are not tracked, each sample is normalised with its
own statistics; in evaluation mode with tracked statistics the running ones are used.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import xp_for
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class _InstanceNorm(Module):
    _batched_ndim: int = 0

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=False,
        track_running_stats=False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)):
            raise TypeError(f"{name}: num_features must be an int, got {num_features!r}")
        if num_features <= 0:
            raise ValueError(f"{name}: num_features must be positive, got {num_features}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        xp = xp_for(device or "cpu")
        dtype = np.dtype(dtype) if dtype is not None else np.float32
        if affine:
            self.weight = Parameter(xp.ones(self.num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(xp.zeros(self.num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(xp.zeros(self.num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor._wrap(xp.ones(self.num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(xp.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        name, batched = type(self).__name__, self._batched_ndim
        if x.ndim not in (batched - 1, batched):
            raise ValueError(
                f"{name}: expected {batched - 1}-D (unbatched) or {batched}-D input, got shape {x.shape}"
            )
        channel_dim = x.ndim - batched + 1
        if x.shape[channel_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"{name}: expected input's size at dim={channel_dim} to match num_features "
                    f"({self.num_features}), but got: {x.shape[channel_dim]}."
                )
            warnings.warn(
                f"input's size at dim={channel_dim} does not match num_features. You can silence this "
                "warning by not passing in num_features, which is not used because affine=False",
                UserWarning,
                stacklevel=2,
            )
        unbatched = x.ndim == batched - 1
        if unbatched:
            x = x.unsqueeze(0)
        y = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return y.squeeze(0) if unbatched else y

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    """``InstanceNorm1d(num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False)``:
    normalises (N, C, L) (or unbatched (C, L)) over L, per sample and channel."""

    _batched_ndim = 3


class InstanceNorm2d(_InstanceNorm):
    """``InstanceNorm2d(num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False)``:
    normalises (N, C, H, W) (or unbatched (C, H, W)) over H and W, per sample and channel."""

    _batched_ndim = 4
