"""Dropout: zero each value with probability p during training, scale the rest by 1 / (1 - p). Chapter 05.

``dropout2d`` zeroes whole channels instead: one draw per (sample, channel) of x (N, C, H, W), the mask
(N, C, 1, 1) broadcast over H and W. Neighbouring pixels of a feature map are strongly correlated, so
dropping single values barely regularises a convolutional layer; dropping its channels does.

Inverted dropout keeps E[y] = x, so the layer is the identity at evaluation time and nothing needs
rescaling then. The mask is drawn from ``minigan.random``'s default generator (``manual_seed`` fixes it)
on the CPU and copied to the tensor's device; y = x * mask is an ordinary product with a constant, so
its gradient (gy * mask) and every higher one come for free.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.tensor import Tensor, as_tensor
from ..backend import to_device
from ..random import default_generator


def _masked(x: Tensor, p: float, mask_shape, generator) -> Tensor:
    """x * mask / (1 - p), mask ~ Bernoulli(1 - p) of ``mask_shape`` (broadcast against x)."""
    g = generator or default_generator()
    if p == 1.0:
        mask = np.zeros(mask_shape, dtype=x.dtype)
    else:
        keep = g.random(mask_shape, dtype=np.float32) >= np.float32(p)
        mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return x * Tensor._from_array(to_device(mask, x.device))


def _check(x, p, name):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: probability p must be between 0 and 1, got {p}")
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point input, got dtype {x.dtype}")
    return x


def dropout(x, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """PyTorch's ``F.dropout``: during training, y = x * mask / (1 - p) with mask ~ Bernoulli(1 - p);
    y = x when ``training`` is False or p == 0. ``generator``: a NumPy Generator (default: minigan's)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be between 0 and 1, got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    x = _check(x, p, "dropout")
    return _masked(x, p, x.shape, generator)


def dropout2d(x, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None) -> Tensor:
    """PyTorch's ``F.dropout2d``: zero whole channels of x (N, C, H, W) or (C, H, W) with probability p
    during training, scale the kept ones by 1 / (1 - p); y = x when ``training`` is False or p == 0.

    As PyTorch, a 3-D input is read as (N, C, L) with a warning, and other ranks drop along dim 1 with a
    deprecation warning. ``inplace`` is accepted and ignored (ops never overwrite their inputs)."""
    x = _check(x, p, "dropout2d")
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
            "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
            "will change in a future release to interpret the input as one without a batch dimension, i.e. "
            "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
            "dropout1d instead.",
            stacklevel=2,
        )
    elif x.ndim != 4:
        warnings.warn(
            f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout "
            "instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
            "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if not training or p == 0.0:
        return x
    if x.ndim < 2:
        raise ValueError(f"dropout2d: expected an input with a channel dimension, got shape {x.shape}")
    return _masked(x, p, x.shape[:2] + (1,) * (x.ndim - 2), generator)
