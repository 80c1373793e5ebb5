"""``Variable``: PyTorch's deprecated wrapper, kept so that older programs run. Chapter 01 (autograd).

Since PyTorch 0.4 a Variable *is* a Tensor: ``Variable(x)`` returns x and ``Variable(x, requires_grad=True)``
returns x with gradients switched on. Many GAN repositories still write ``Variable(imgs.type(Tensor))``;
minigan gives them the same meaning. New code should use tensors directly.
"""

from __future__ import annotations

from .tensor import Tensor, as_tensor


def Variable(data, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802 - PyTorch's name
    """``data`` as a Tensor (the same object when it is one); ``requires_grad=True`` turns gradients on
    (only for a leaf, as ``requires_grad_``). ``volatile`` is accepted and ignored, as in PyTorch >= 0.4."""
    x = as_tensor(data)
    if requires_grad:
        x.requires_grad_(True)
    return x
