"""minigan: Generative Adversarial Networks from scratch, all the way down.

``import minigan as mg`` gives the PyTorch-shaped API of DESIGN.md §2: tensors and autograd (chapter 01),
the ops (chapters 01-04), and, as sub-packages, ``nn``, ``optim``, ``gan``, ``data``, ``metrics``, ``viz``,
``testing`` (chapter 02) and the hand-written ``kernels`` (chapters 03-04; the top-level ``kernels/`` folder
of the repository is installed as ``minigan.kernels``).

Layers import only downward: kernels <- ops <- autograd <- nn / optim <- gan <- cli and tutorials.
"""

from . import autograd, nn, ops, optim  # importing ops attaches the operators to Tensor
from .autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import DeviceError, cuda_is_available
from .creation import (
    arange,
    full,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .ops import *  # noqa: F403 - the op functions are the public API (mg.exp, mg.cat, ...)
from .random import get_rng_state, manual_seed, set_rng_state

float32 = __import__("numpy").float32
float64 = __import__("numpy").float64

__version__ = "0.1.0"
