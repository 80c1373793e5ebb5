"""``minigan.nn.functional`` (``import minigan.nn.functional as F``): the stateless ops layers are made of.

Chapter 05 (layers and optimizers). This module gathers, under PyTorch's names, the functions that live
with their Functions in ``minigan.ops`` - layers (linear, conv2d, conv_transpose2d, batch_norm,
instance_norm, dropout, dropout2d, embedding, pad, interpolate, max_pool2d, avg_pool2d), activations,
and losses - so that a Module's forward reads like PyTorch's. Its only code is argument handling that is
PyTorch's convention rather than math: ``embedding``'s argument order and ``softmax`` / ``log_softmax``'s
implicit dim (dim=None: 0 for 0-, 1- and 3-D input, else 1, with PyTorch's deprecation warning).
"""

from __future__ import annotations

import warnings

from ..ops.activations import leaky_relu, logsigmoid, relu, sigmoid, softplus, tanh
from ..ops.activations import log_softmax as _log_softmax
from ..ops.activations import softmax as _softmax
from ..ops.conv import conv2d, conv_transpose2d
from ..ops.dropout import dropout, dropout2d
from ..ops.embedding import embedding as _embedding
from ..ops.instancenorm import instance_norm
from ..ops.interpolate import interpolate
from ..ops.linear import linear
from ..ops.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from ..ops.normalization import batch_norm
from ..ops.pad import pad
from ..ops.pool import avg_pool2d, max_pool2d


def embedding(input, weight, padding_idx=None):  # noqa: A002 - PyTorch's argument name
    """PyTorch's ``F.embedding(input, weight, padding_idx=None)``: rows of ``weight`` picked by ``input``."""
    return _embedding(input, weight, padding_idx)


def _implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
        "argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):  # noqa: A002 - PyTorch's argument name
    """PyTorch's ``F.softmax(input, dim=None, dtype=None)``: exp(x) / sum(exp(x)) along ``dim``; ``dtype``
    casts the input first."""
    if dtype is not None:
        input = input.to(dtype=dtype)  # noqa: A001
    if dim is None:
        dim = _implicit_dim("softmax", input.ndim, _stacklevel)
    return _softmax(input, dim)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):  # noqa: A002 - PyTorch's argument name
    """PyTorch's ``F.log_softmax(input, dim=None, dtype=None)``: x - logsumexp(x) along ``dim``."""
    if dtype is not None:
        input = input.to(dtype=dtype)  # noqa: A001
    if dim is None:
        dim = _implicit_dim("log_softmax", input.ndim, _stacklevel)
    return _log_softmax(input, dim)


__all__ = [
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "conv2d",
    "conv_transpose2d",
    "dropout",
    "dropout2d",
    "embedding",
    "instance_norm",
    "interpolate",
    "leaky_relu",
    "l1_loss",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "pad",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]
