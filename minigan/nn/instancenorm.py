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

from ..autograd.tensor import Tensor
from . import functional as F
from .normalization import _NormBase


class _InstanceNorm(_NormBase):
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
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

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
