"""Instance normalisation: ``instance_norm``, PyTorch's ``F.instance_norm``, twice differentiable. Chapter 05.

For x (N, C, *spatial), every (sample n, channel c) plane is normalised over its own M = prod(spatial)
values, so one image's statistics never mix with another's (style-transfer and image-to-image GANs
use it where batch norm would couple the samples):

    mu[n, c] = mean(x[n, c]),  var[n, c] = mean((x[n, c] - mu[n, c])^2)  (biased)
    y[n, c] = gamma[c] (x[n, c] - mu[n, c]) / sqrt(var[n, c] + eps) + beta[c]

That is batch normalisation of x reshaped to (1, N * C, *spatial), with gamma and beta repeated N
times, which is how it is computed here: ``batch_norm``'s fused, twice-differentiable Function does the
work. Running statistics (``track_running_stats``) are updated as PyTorch does: each of the N copies
of running_mean gets batch norm's update with its sample's statistics (momentum, unbiased variance
var * M / (M - 1)), and the N copies are averaged back into the (C,) buffer. With
``use_input_stats=False`` the running statistics normalise instead (evaluation with tracked stats).
"""

from __future__ import annotations

import math

from ..autograd.tensor import Tensor, as_tensor
from .normalization import batch_norm
from .shape import broadcast_to, reshape


def _repeated(t, n: int) -> Tensor:
    """(C,) -> (N * C,): t repeated n times (differentiable: a broadcast and a reshape)."""
    t = as_tensor(t)
    return reshape(broadcast_to(reshape(t, (1, t.shape[0])), (n, t.shape[0])), (-1,))


def instance_norm(
    input,  # noqa: A002 - PyTorch's argument name
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalisation of x (N, C, *spatial) over the spatial dimensions, per sample and channel.

    weight, bias: optional (C,) affine parameters; running_mean, running_var: optional (C,) buffers,
    updated in place when ``use_input_stats`` (and used instead of the input's statistics when not).
    Output: x's shape.
    """
    x = as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *spatial), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"instance_norm: expected a floating-point input, got dtype {x.dtype}")
    n, c = x.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(
                f"instance_norm: {name} must have shape ({c},) for an input with {c} channels "
                f"(input shape {x.shape}), got {tuple(t.shape)}"
            )
    if bias is not None and tuple(bias.shape) != (c,):
        raise ValueError(f"instance_norm: bias must have shape ({c},), got {tuple(bias.shape)}")
    if use_input_stats and math.prod(x.shape[2:]) <= 1:
        raise ValueError(
            f"instance_norm: expected more than 1 spatial element when training, got input shape {x.shape}"
        )
    if not use_input_stats and (running_mean is None or running_var is None):
        raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
    xp = x.xp
    rm = None if running_mean is None else Tensor._from_array(xp.tile(running_mean.array, n))
    rv = None if running_var is None else Tensor._from_array(xp.tile(running_var.array, n))
    y = batch_norm(
        reshape(x, (1, n * c) + x.shape[2:]),
        rm,
        rv,
        None if weight is None else _repeated(weight, n),
        None if bias is None else _repeated(bias, n),
        use_input_stats,
        momentum,
        eps,
    )
    if use_input_stats:  # average the N updated copies back into the buffers
        if running_mean is not None:
            running_mean.array[...] = rm.array.reshape(n, c).mean(axis=0)
        if running_var is not None:
            running_var.array[...] = rv.array.reshape(n, c).mean(axis=0)
    return reshape(y, x.shape)
