"""Dropout: zero each value with probability p during training, scale the rest by 1 / (1 - p). Chapter 05.

Inverted dropout keeps E[y] = x, so the layer is the identity at evaluation time and nothing needs
rescaling then. The mask is drawn from ``minigan.random``'s default generator (``manual_seed`` fixes it)
on the CPU and copied to the tensor's device; y = x * mask is an ordinary product with a constant, so
its gradient (gy * mask) and every higher one come for free.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, as_tensor
from ..backend import to_device
from ..random import default_generator


def dropout(x, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """PyTorch's ``F.dropout``: during training, y = x * mask / (1 - p) with mask ~ Bernoulli(1 - p);
    y = x when ``training`` is False or p == 0. ``generator``: a NumPy Generator (default: minigan's)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be between 0 and 1, got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating-point input, got dtype {x.dtype}")
    g = generator or default_generator()
    if p == 1.0:
        mask = np.zeros(x.shape, dtype=x.dtype)
    else:
        keep = g.random(x.shape, dtype=np.float32) >= np.float32(p)
        mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return x * Tensor._from_array(to_device(mask, x.device))
