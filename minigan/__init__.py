"""minigan: Generative Adversarial Networks from scratch, all the way down.

``import minigan as mg`` gives an API with PyTorch's names and semantics: tensors and autograd (chapter 01),
the ops (chapters 01-04), and, as sub-packages, ``nn``, ``optim``, ``gan``, ``data``, ``metrics``, ``viz``,
``testing`` (chapter 02) and the hand-written ``kernels`` (chapters 03-04; the top-level ``kernels/`` folder
of the repository is installed as ``minigan.kernels``).

Layers import only downward: kernels <- ops <- autograd <- nn / optim <- gan <- cli and tutorials. The
book's architecture page (``docs/architecture.md``; ``minigan docs build``) says what each layer and
folder holds and follows a tensor from a chapter cell down to a kernel and back.
"""

from . import autograd, backends, cuda, nn, ops, optim  # importing ops attaches the operators to Tensor
from .autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.tensor_types import CPU_TYPES as _CPU_TYPES
from .backend import DeviceError, cuda_is_available
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .device import device
from .ops import *  # noqa: F403 - the op functions are the public API (mg.exp, mg.cat, ...)
from .random import get_rng_state, manual_seed, set_rng_state
from .serialization import load, save  # torch.save / torch.load, without pickle

# dtypes under PyTorch's names (they are NumPy's scalar types, which every minigan dtype= accepts)
float32 = float = __import__("numpy").float32
float64 = double = __import__("numpy").float64
float16 = half = __import__("numpy").float16
int64 = long = __import__("numpy").int64
int32 = int = __import__("numpy").int32
int16 = short = __import__("numpy").int16
int8 = __import__("numpy").int8
uint8 = __import__("numpy").uint8
bool = __import__("numpy").bool_

# the legacy typed constructors (FloatTensor, LongTensor, ...); their CUDA twins are minigan.cuda.*
globals().update(_CPU_TYPES)

# `from minigan import *` must not shadow Python's bool / int / float
__all__ = [n for n in dir() if not n.startswith("_") and n not in ("bool", "int", "float", "annotations")]

__version__ = "0.1.0"
