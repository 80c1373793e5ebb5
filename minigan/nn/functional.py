"""``minigan.nn.functional`` (``import minigan.nn.functional as F``): the stateless ops layers are made of.

Chapter 05 (layers and optimizers). This module holds no code of its own: it gathers, under PyTorch's
names, the functions that live with their Functions in ``minigan.ops`` - layers (linear, conv2d,
conv_transpose2d, batch_norm, dropout, embedding), activations, and losses - so that a Module's forward
reads like PyTorch's.
"""

from __future__ import annotations

from ..ops.activations import leaky_relu, log_softmax, logsigmoid, relu, sigmoid, softmax, softplus, tanh
from ..ops.conv import conv2d, conv_transpose2d
from ..ops.dropout import dropout
from ..ops.embedding import embedding as _embedding
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


def embedding(input, weight, padding_idx=None):  # noqa: A002 - PyTorch's argument name
    """PyTorch's ``F.embedding(input, weight, padding_idx=None)``: rows of ``weight`` picked by ``input``."""
    return _embedding(input, weight, padding_idx)


__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "conv2d",
    "conv_transpose2d",
    "dropout",
    "embedding",
    "leaky_relu",
    "l1_loss",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]
