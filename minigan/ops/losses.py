"""Loss functions: binary cross-entropy (on logits and on probabilities), MSE, L1, NLL, cross-entropy.

Chapter 06 (the minimax game) uses the binary cross-entropies: a GAN discriminator is a binary classifier,
and ``binary_cross_entropy_with_logits`` is its loss written the stable way,

    l(x, t) = (1 - t) x - log sigmoid(x)      (= max(x, 0) - x t + log(1 + e^-|x|))

which stays finite for any logit (|x| = 1e4 included) where ``-t log(sigmoid(x))`` would give inf. With
``pos_weight`` p the log sigmoid term is scaled by 1 + (p - 1) t. ``cross_entropy`` picks
``-log_softmax(x)[target]`` per sample, with optional class weights and an ``ignore_index``.

``reduction``: "mean" (default; for weighted NLL the weighted mean sum(w_n l_n) / sum(w_n)), "sum", or
"none" (the per-element losses). Shapes follow PyTorch: the binary cross-entropies need a target of the
input's shape (a mismatch is a ValueError); ``mse_loss`` and ``l1_loss`` broadcast input against target
with PyTorch's UserWarning (a (N, 1) output against a (N,) target gives an (N, N) difference, almost
always a bug); NLL wants the input's shape without the class axis.

``cross_entropy(..., label_smoothing=eps)`` mixes the target with the uniform distribution over the C
classes: for class indices the loss is (1 - eps) nll + eps * mean_c(-w_c log p_c) (summed over classes,
divided by C; "mean" divides by the same sum of target weights as the NLL term); for probabilities the
target becomes (1 - eps) t + eps / C.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import array_module
from .activations import log_softmax, logsigmoid
from .elementwise import abs, clamp, log
from .indexing import getitem
from .reduce import mean, sum
from .shape import broadcast_to, flatten, permute, reshape

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def _check_reduction(reduction, name):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _float_tensor(x, what, name) -> Tensor:
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: {what} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def _pair(input, target, name, reduction, message):
    """input and target as float Tensors of one shape; ``message`` is PyTorch's error on a mismatch."""
    _check_reduction(reduction, name)
    x = _float_tensor(input, "input", name)
    t = _float_tensor(target, "target", name)
    if x.shape != t.shape:
        raise ValueError(f"{name}: " + message.format(t=t.shape, x=x.shape))
    return x, t


def _broadcast_pair(input, target, name, reduction):
    """input and target broadcast to one shape, with PyTorch's warning when their shapes differ."""
    _check_reduction(reduction, name)
    x = _float_tensor(input, "input", name)
    t = _float_tensor(target, "target", name)
    if x.shape == t.shape:
        return x, t
    warnings.warn(
        f"Using a target size ({t.shape}) that is different to the input size ({x.shape}). This will likely "
        "lead to incorrect results due to broadcasting. Please ensure they have the same size.",
        UserWarning,
        stacklevel=3,
    )
    try:
        shape = np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ValueError(
            f"{name}: target shape {t.shape} and input shape {x.shape} cannot be broadcast together"
        ) from None
    return broadcast_to(x, shape), broadcast_to(t, shape)


_BCE_LOGITS_SHAPES = "Target size ({t}) must be the same as input size ({x})"
_BCE_SHAPES = (
    "Using a target size ({t}) that is different to the input size ({x}) is deprecated. Please ensure they "
    "have the same size."
)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None) -> Tensor:
    """BCE of ``sigmoid(input)`` against ``target`` in [0, 1], computed from the logits (stable).

    weight: broadcasts against the per-element loss; pos_weight: weight of the positive term, broadcast
    along the last axis (one per class). Gradient wrt the logits: sigmoid(x) - t (times the weights).
    """
    x, t = _pair(input, target, "binary_cross_entropy_with_logits", reduction, _BCE_LOGITS_SHAPES)
    log_p = logsigmoid(x)  # log sigmoid(x); log(1 - sigmoid(x)) = log_p - x
    if pos_weight is None:
        loss = (1.0 - t) * x - log_p
    else:
        pw = _float_tensor(pos_weight, "pos_weight", "binary_cross_entropy_with_logits")
        loss = (1.0 - t) * x - (1.0 + (pw - 1.0) * t) * log_p
    if weight is not None:
        loss = loss * _float_tensor(weight, "weight", "binary_cross_entropy_with_logits")
    return _reduce(loss, reduction)


def _clamped_log(p: Tensor) -> Tensor:
    with np.errstate(divide="ignore"):
        return clamp(log(p), min=-100.0)


class BinaryCrossEntropy(Function):
    """-(t log p + (1 - t) log(1 - p)) per element, each log clamped at -100 (PyTorch's convention, so
    p = 0 or 1 gives a finite loss)."""

    def forward(self, p, t):
        xp = array_module(p, t)
        with np.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100.0)
            log_q = xp.maximum(xp.log(1 - p), -100.0)
        return (-(t * log_p + (1 - t) * log_q)).astype(p.dtype, copy=False)

    def backward(self, gy):
        p, t = self.inputs
        gp = gt = None
        if self.needs_input_grad[0]:  # d/dp = (p - t) / (p (1 - p)), denominator kept >= 1e-12 as PyTorch
            gp = gy * (p - t) / clamp(p * (1.0 - p), min=1e-12)
        if self.needs_input_grad[1]:
            gt = gy * (_clamped_log(1.0 - p) - _clamped_log(p))
        return gp, gt


def binary_cross_entropy(input, target, weight=None, reduction="mean") -> Tensor:
    """BCE of probabilities ``input`` in [0, 1] against ``target``: -(t log p + (1 - t) log(1 - p)).

    Prefer ``binary_cross_entropy_with_logits`` on logits: it is stable where sigmoid saturates.
    """
    p, t = _pair(input, target, "binary_cross_entropy", reduction, _BCE_SHAPES)
    lo, hi = float(p.array.min()) if p.array.size else 0.0, float(p.array.max()) if p.array.size else 0.0
    if not (0.0 <= lo and hi <= 1.0):
        raise ValueError(
            f"binary_cross_entropy: input values must be probabilities in [0, 1], got min {lo:g} and max "
            f"{hi:g}; for logits use binary_cross_entropy_with_logits"
        )
    loss = BinaryCrossEntropy()(p, t)
    if weight is not None:
        loss = loss * _float_tensor(weight, "weight", "binary_cross_entropy")
    return _reduce(loss, reduction)


def mse_loss(input, target, reduction="mean") -> Tensor:
    """Mean squared error (x - t)^2 (x and t broadcast together, with a warning if their shapes differ)."""
    x, t = _broadcast_pair(input, target, "mse_loss", reduction)
    d = x - t
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean") -> Tensor:
    """Mean absolute error |x - t| (gradient sign(x - t), 0 where x == t); broadcasts as ``mse_loss``."""
    x, t = _broadcast_pair(input, target, "l1_loss", reduction)
    return _reduce(abs(x - t), reduction)


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction="mean") -> Tensor:
    """Negative log-likelihood: ``-input[n, target[n]]`` for log-probabilities ``input``.

    input: (C,) with target (), or (N, C, d1, ...) with int target (N, d1, ...) of class indices in
    [0, C) (or ``ignore_index``: those elements contribute 0 and are left out of the mean).
    weight: (C,) class weights w; "mean" is sum(w[t_n] l_n) / sum(w[t_n]).
    """
    name = "nll_loss"
    _check_reduction(reduction, name)
    x = _float_tensor(input, "input", name)
    t = as_tensor(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {t.dtype}")
    if x.ndim == 0:
        raise ValueError(f"{name}: input needs a class dimension, got shape {x.shape}")
    class_dim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_dim]
    expected = x.shape[:class_dim] + x.shape[class_dim + 1 :]
    if t.shape != expected:
        raise ValueError(
            f"{name}: target shape {t.shape} does not match input shape {x.shape}; expected {expected} "
            f"(the input's shape without its class dimension {class_dim})"
        )
    xp = x.xp
    valid = t.array != ignore_index
    bad = valid & ((t.array < 0) | (t.array >= n_classes))
    if bool(bad.any()):
        value = int(t.array[bad].ravel()[0])
        raise IndexError(f"{name}: target {value} is out of bounds for {n_classes} classes")
    safe = xp.where(valid, t.array, 0).reshape(-1)
    # rows of class scores: (M, C) with M = number of target elements
    rows = reshape(x, (1, n_classes)) if x.ndim == 1 else flatten(permute(x, 0, *range(2, x.ndim), 1), 0, -2)
    picked = getitem(rows, (xp.arange(safe.size), safe))
    w = valid.reshape(-1).astype(x.dtype)
    if weight is not None:
        wt = _float_tensor(weight, "weight", name)
        if wt.shape != (n_classes,):
            raise ValueError(f"{name}: weight must have shape ({n_classes},), got {wt.shape}")
        w = w * wt.array[safe]
    w = Tensor._from_array(w)
    losses = -picked * w
    if reduction == "none":
        return reshape(losses, t.shape)
    if reduction == "sum":
        return sum(losses)
    return sum(losses) / sum(w)


def cross_entropy(
    input,  # noqa: A002 - PyTorch's argument name
    target,
    weight=None,
    ignore_index: int = -100,
    reduction="mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits ``input`` (N, C) (or (C,), or (N, C, d1, ...)) against ``target``.

    Integer target: class indices, the loss is ``nll_loss(log_softmax(input, class_dim), target)``.
    Float target of the input's shape: class probabilities, the loss per sample is
    ``-sum_c target_c log_softmax(input)_c`` (times ``weight[c]`` if given) and "mean" averages over samples.
    label_smoothing in [0, 1]: see the module docstring.
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    x = _float_tensor(input, "input", name)
    if x.ndim == 0:
        raise ValueError(f"{name}: input needs a class dimension, got shape {x.shape}")
    class_dim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_dim]
    log_p = log_softmax(x, class_dim)
    t = as_tensor(target)
    wt = None if weight is None else _float_tensor(weight, "weight", name)
    if wt is not None and wt.shape != (n_classes,):
        raise ValueError(f"{name}: weight must have shape ({n_classes},), got {wt.shape}")
    w_bcast = None if wt is None else reshape(wt, (-1,) + (1,) * (x.ndim - class_dim - 1))
    if t.dtype.kind in "iu":
        loss = nll_loss(log_p, t, weight, ignore_index, reduction)
        if label_smoothing == 0.0:
            return loss
        return (1.0 - label_smoothing) * loss + (label_smoothing / n_classes) * _smoothing_term(
            log_p, t, wt, w_bcast, class_dim, ignore_index, reduction
        )
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: target must be class indices (int) or probabilities (float), got {t.dtype}")
    if t.shape != x.shape:
        raise ValueError(
            f"{name}: probability target shape {t.shape} differs from input shape {x.shape}; integer class "
            f"targets have shape {x.shape[:class_dim] + x.shape[class_dim + 1 :]}"
        )
    if label_smoothing > 0.0:
        t = t * (1.0 - label_smoothing) + label_smoothing / n_classes
    terms = t * log_p
    if w_bcast is not None:
        terms = terms * w_bcast
    losses = -sum(terms, class_dim)
    return _reduce(losses, reduction)


def _smoothing_term(log_p, t, wt, w_bcast, class_dim, ignore_index, reduction):
    """The uniform-target part of label smoothing, before its factor eps / C: per element
    -sum_c w_c log p_c (0 where the target is ignored), reduced like the NLL term."""
    terms = log_p if w_bcast is None else log_p * w_bcast
    valid = t.array != ignore_index
    smooth = -sum(terms, class_dim) * Tensor._from_array(valid.astype(log_p.dtype))
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return sum(smooth)
    if wt is None:
        return sum(smooth) / float(valid.sum())
    safe = t.xp.where(valid, t.array, 0)
    return sum(smooth) / float((wt.array[safe] * valid).sum())
