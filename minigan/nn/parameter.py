"""Parameter: a Tensor that a Module owns and an optimizer updates. Chapter 05 (layers and optimizers).

A Parameter is a leaf Tensor with ``requires_grad=True``. Assigning one to a Module attribute registers
it, so ``module.parameters()`` finds it and ``state_dict()`` saves it under the attribute's name.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, to_array
from ..backend import is_cupy_array


class Parameter(Tensor):
    """``Parameter(data, requires_grad=True)``: data is a Tensor, an array, or a nested list of numbers.

    A Tensor or array is wrapped without a copy (as ``torch.nn.Parameter`` does); results of ops on a
    Parameter are plain Tensors.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.zeros(0, dtype=np.float32)
        if isinstance(data, Tensor):
            array = data.array
        elif isinstance(data, np.ndarray) or is_cupy_array(data):
            array = data  # keep the dtype (float64 stays float64), no copy
        else:
            array = to_array(data)
        self._init_leaf(array, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
