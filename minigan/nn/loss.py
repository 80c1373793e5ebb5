"""Loss modules: BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, NLLLoss, CrossEntropyLoss. Chapter 05.

Each one holds its options and calls the function of the same loss in ``minigan.nn.functional`` (the
formulas live in ``minigan/ops/losses.py``; chapter 06 derives the GAN ones). As in PyTorch, ``weight``
and ``pos_weight`` are buffers, so they are in the state_dict when given and move with ``.to(device)``,
and the legacy ``size_average`` / ``reduce`` flags still pick a reduction, with PyTorch's warning:
reduce=False gives "none", else size_average=False gives "sum", else "mean".
"""

from __future__ import annotations

import warnings

from ..autograd.tensor import Tensor, as_tensor
from . import functional as F
from .module import Module


def _legacy_reduction(size_average, reduce) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
        UserWarning,
        stacklevel=4,
    )
    return reduction


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor(weight))


class BCELoss(_WeightedLoss):
    """``BCELoss(weight=None, size_average=None, reduce=None, reduction='mean')``: binary cross-entropy
    -w (t log p + (1 - t) log(1 - p)) of probabilities p against targets t of p's shape."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``BCEWithLogitsLoss(weight=None, size_average=None, reduce=None, reduction='mean',
    pos_weight=None)``: binary cross-entropy of sigmoid(x) computed stably from the logits x; pos_weight
    (one per class, along the last dim) scales the positive term."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor(weight))
        self.register_buffer("pos_weight", None if pos_weight is None else as_tensor(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class MSELoss(_Loss):
    """``MSELoss(size_average=None, reduce=None, reduction='mean')``: (x - t)^2."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """``L1Loss(size_average=None, reduce=None, reduction='mean')``: |x - t|."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
        return F.l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """``NLLLoss(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean')``:
    -w[t] x[t] for log-probabilities x (N, C, ...) and class indices t (N, ...)."""

    def __init__(
        self, weight=None, size_average=None, ignore_index: int = -100, reduce=None, reduction="mean"
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """``CrossEntropyLoss(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean',
    label_smoothing=0.0)``: NLL of log_softmax(x) over dim 1 (class indices), or -sum_c t_c log p_c
    (class probabilities t of x's shape)."""

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
            )
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
        return F.cross_entropy(
            input,
            target,
            self.weight,
            self.ignore_index,
            self.reduction,
            label_smoothing=self.label_smoothing,
        )
