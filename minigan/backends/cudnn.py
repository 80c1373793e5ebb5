"""``minigan.backends.cudnn``: PyTorch's cuDNN switches, kept and checked but doing nothing. Chapter 01.

    benchmark = False       PyTorch: time several cuDNN convolution algorithms per shape, keep the fastest
    deterministic = False   PyTorch: use only deterministic cuDNN algorithms
    enabled = True          PyTorch: use cuDNN at all
    allow_tf32 = True       PyTorch: let cuDNN convolutions round float32 inputs to TF32

(PyTorch's defaults.) minigan never calls cuDNN: its convolutions are its hand-written kernels or
im2col + matmul (``kernels/dispatch.py``, chapter 04), chosen there and not here, so none of these
changes which code runs, a result or a timing. Setting one to a non-bool, or setting any other name,
raises. ``is_available()`` is False and ``version()`` None for the same reason: cuDNN is not used.
"""

from __future__ import annotations

import sys

from .switches import SwitchModule

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available() -> bool:
    """False: minigan does not use cuDNN (what PyTorch's answers is whether it can)."""
    return False


def version() -> None:
    """None, as PyTorch's when cuDNN is not available."""
    return None


class _CudnnModule(SwitchModule):
    _switches = ("benchmark", "deterministic", "enabled", "allow_tf32")
    _where = "minigan.backends.cudnn"


sys.modules[__name__].__class__ = _CudnnModule  # from here on, setting an attribute is checked
