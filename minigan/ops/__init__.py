"""The differentiable ops, one file per family; each Function's forward and backward side by side.

Chapters 01 (autograd) and 02 (gradient checking) teach them; matmul and conv (chapters 03, 04) dispatch to
``minigan.kernels``. Importing this package attaches the operators to Tensor (see ``methods.py``).
"""

from . import methods
from .activations import leaky_relu, log_softmax, logsigmoid, relu, sigmoid, softmax, softplus, tanh
from .compare import eq, ge, gt, le, logical_and, logical_not, logical_or, lt, ne
from .conv import conv2d, conv_transpose2d
from .dropout import dropout, dropout2d
from .elementwise import abs, add, clamp, div, exp, log, mul, neg, pow, sqrt, sub
from .indexing import cat, getitem, index_add_into, stack, where
from .instancenorm import instance_norm
from .interpolate import interpolate
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .matmul import matmul
from .norm import norm
from .pad import pad
from .pool import avg_pool2d, max_pool2d
from .reduce import amax, amin, argmax, argmin, logsumexp, max, maximum, mean, min, minimum, std, sum, var
from .shape import (
    astype,
    broadcast_to,
    clone,
    expand,
    flatten,
    permute,
    reshape,
    squeeze,
    sum_to,
    to_device,
    transpose,
    unsqueeze,
    view,
)

methods.install()

__all__ = [
    "pad",
    "norm",
    "max_pool2d",
    "interpolate",
    "instance_norm",
    "dropout2d",
    "dropout",
    "clone",
    "avg_pool2d",
    "abs",
    "add",
    "amax",
    "logsumexp",
    "amin",
    "argmax",
    "argmin",
    "astype",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "broadcast_to",
    "cat",
    "clamp",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "div",
    "eq",
    "exp",
    "expand",
    "flatten",
    "ge",
    "getitem",
    "gt",
    "index_add_into",
    "l1_loss",
    "le",
    "leaky_relu",
    "log",
    "log_softmax",
    "logical_and",
    "logical_not",
    "logical_or",
    "logsigmoid",
    "lt",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mse_loss",
    "mul",
    "ne",
    "neg",
    "nll_loss",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "softplus",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "sum_to",
    "tanh",
    "to_device",
    "transpose",
    "unsqueeze",
    "var",
    "view",
    "where",
]
