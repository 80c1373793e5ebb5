"""Activations: tanh, sigmoid, relu, leaky_relu, softplus, logsigmoid, softmax, log_softmax. Chapter 01.

Each forward is written to be numerically stable for any finite input, and each backward is written with
differentiable ops (so ``create_graph=True`` works). Derivatives used (y = output, s = sigmoid):

    tanh'(x) = 1 - y^2              sigmoid'(x) = y (1 - y)
    relu'(x) = [x > 0]              leaky_relu'(x) = [x > 0] + a [x <= 0]
    softplus_b'(x) = s(b x)         (1 where b x > threshold: the linear branch, as in PyTorch)
    logsigmoid'(x) = s(-x) = 1 - s(x)
    softmax:     gx = y * (gy - sum(gy * y))          log_softmax: gx = gy - exp(y) * sum(gy)

Stability: sigmoid(x) = 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0, both from e = e^-|x| <= 1;
log sigmoid(x) = min(x, 0) - log1p(e^-|x|), finite for all finite x (-1e4 gives -1e4, not -inf);
softmax subtracts the row maximum before exponentiating.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import array_module
from ._util import normalize_dim
from .reduce import sum


def _const(like: Tensor, array) -> Tensor:
    """A graph-free Tensor (masks, slopes): its derivative is zero almost everywhere."""
    return Tensor._from_array(array.astype(like.dtype, copy=False))


def _output(fn: Function, recompute):
    """The op's own output if the caller still holds it unchanged, else recomputed from the input (both
    carry the graph back to the input, which double backward needs). An output written in place since
    forward (``y.mul_(2)``) is not the output any more, so it is recomputed too."""
    y = fn.output_tensors()[0]
    if y is None or y._version_counter[0] != fn.saved_output_versions[0]:
        return recompute(fn.inputs[0])
    return y


def _sigmoid_array(x):
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Tanh(Function):
    def forward(self, x):
        return array_module(x).tanh(x)

    def backward(self, gy):
        y = _output(self, tanh)
        return gy * (1.0 - y * y)


class Sigmoid(Function):
    def forward(self, x):
        return _sigmoid_array(x)

    def backward(self, gy):
        y = _output(self, sigmoid)
        return gy * y * (1.0 - y)


class ReLU(Function):
    def forward(self, x):
        return array_module(x).maximum(x, 0).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * _const(x, x.array > 0)


class LeakyReLU(Function):
    def __init__(self, negative_slope):
        self.negative_slope = negative_slope

    def forward(self, x):
        xp = array_module(x)
        a = x.dtype.type(self.negative_slope)
        if 0 < self.negative_slope <= 1:  # max(x, a x) = leaky_relu(x): branch-free, unlike NumPy's
            return xp.maximum(x, x * a)  # where, which is many times slower on random signs
        return xp.where(x > 0, x, x * a).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.inputs[0]
        if 0 < self.negative_slope <= 1:  # max([x > 0], a) is 1 or a, exactly, in x's dtype
            slope = x.xp.maximum((x.array > 0).astype(x.dtype), x.dtype.type(self.negative_slope))
            return gy * Tensor._from_array(slope)
        return gy * _const(x, x.xp.where(x.array > 0, 1.0, self.negative_slope))


class Softplus(Function):
    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = array_module(x)
        z = x * x.dtype.type(self.beta)
        soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / x.dtype.type(self.beta)
        return xp.where(z > self.threshold, x, soft).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.inputs[0]
        linear = _const(x, x.array * self.beta > self.threshold)
        return gy * (sigmoid(x * self.beta) * (1.0 - linear) + linear)


class LogSigmoid(Function):
    def forward(self, x):
        xp = array_module(x)
        return (xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)

    def backward(self, gy):
        return gy * sigmoid(-self.inputs[0])


class Softmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = _output(self, lambda x: softmax(x, self.axis))
        return y * (gy - sum(gy * y, self.axis, keepdim=True))


class LogSoftmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))

    def backward(self, gy):
        y = _output(self, lambda x: log_softmax(x, self.axis))
        return gy - y.exp() * sum(gy, self.axis, keepdim=True)


def _float_input(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {x.dtype}")
    return x


def tanh(x) -> Tensor:
    """Hyperbolic tangent, values in (-1, 1)."""
    return Tanh()(_float_input(x, "tanh"))


def sigmoid(x) -> Tensor:
    """1 / (1 + e^-x), computed without overflow for any finite x."""
    return Sigmoid()(_float_input(x, "sigmoid"))


def relu(x) -> Tensor:
    """max(x, 0); gradient 0 at x = 0 (as in PyTorch)."""
    return ReLU()(_float_input(x, "relu"))


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    return LeakyReLU(float(negative_slope))(_float_input(x, "leaky_relu"))


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's linear branch)."""
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus(float(beta), float(threshold))(_float_input(x, "softplus"))


def logsigmoid(x) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for any finite x (no log of an underflowed 0)."""
    return LogSigmoid()(_float_input(x, "logsigmoid"))


def softmax(x, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``; each slice along dim sums to 1."""
    x = _float_input(x, "softmax")
    return Softmax(normalize_dim(dim, x.ndim))(x)


def log_softmax(x, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along ``dim``, the stable way (better than ``softmax(x).log()``)."""
    x = _float_input(x, "log_softmax")
    return LogSoftmax(normalize_dim(dim, x.ndim))(x)
