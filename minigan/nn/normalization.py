"""Batch normalisation layers: BatchNorm1d and BatchNorm2d. Chapter 05 (layers and optimizers).

Same arguments, parameters (weight = gamma, bias = beta), buffers and state_dict keys as PyTorch:
``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked`` (int64). In training
mode the layer normalises with the batch's statistics and updates the running ones; in evaluation mode
(``model.eval()``) it uses the running ones, so one sample's output no longer depends on the rest of the
batch. ``momentum=None`` gives a cumulative average (1 / num_batches_tracked), as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import xp_for
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class _NormBase(Module):
    """What batch and instance norm share: the affine parameters (weight = gamma, bias = beta), the
    running statistics buffers, and resetting them (each reset is an in-place write: versions bumped)."""

    def __init__(
        self, num_features, eps, momentum, affine, track_running_stats, device=None, dtype=None, bias=True
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
        self.register_parameter(
            "weight", Parameter(xp.ones(self.num_features, dtype=dtype)) if affine else None
        )
        has_bias = affine and bias
        self.register_parameter(
            "bias", Parameter(xp.zeros(self.num_features, dtype=dtype)) if has_bias else None
        )
        for key, make in (("running_mean", xp.zeros), ("running_var", xp.ones)):
            stats = Tensor._wrap(make(self.num_features, dtype=dtype)) if track_running_stats else None
            self.register_buffer(key, stats)
        count = Tensor._wrap(xp.zeros((), dtype=np.int64)) if track_running_stats else None
        self.register_buffer("num_batches_tracked", count)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            for t, value in ((self.running_mean, 0), (self.running_var, 1), (self.num_batches_tracked, 0)):
                t.array[...] = value
                t._bump_version()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)


class _BatchNorm(_NormBase):
    _accepted_ndim: tuple = ()

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def _check_ndim(self, x: Tensor) -> None:
        if x.ndim not in self._accepted_ndim:
            expected = " or ".join(f"{n}-D" for n in self._accepted_ndim)
            raise ValueError(f"{type(self).__name__}: expected {expected} input, got shape {x.shape}")

    def _step_momentum(self) -> float:
        """This forward's momentum; in training with running statistics, counts the batch first."""
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            self.num_batches_tracked._bump_version()
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / int(self.num_batches_tracked.array)
        return momentum

    def forward(self, x: Tensor) -> Tensor:
        self._check_ndim(x)
        momentum = self._step_momentum()
        # without running statistics the batch's own are used in evaluation mode too
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """``BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)``:
    normalises (N, C) or (N, C, L) over N (and L) per channel C."""

    _accepted_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """``BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)``:
    normalises (N, C, H, W) over N, H, W per channel C."""

    _accepted_ndim = (4,)
