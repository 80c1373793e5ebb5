"""``minigan.nn``: Module, Parameter, layers, ``functional`` (F) and ``init``. Chapter 05.

Names, constructor arguments, parameter names and shapes, state_dict keys and default initialisations
follow ``torch.nn``, so a model written for one is written for the other and weights move both ways.
"""

from . import functional, init
from .activation import LeakyReLU, LogSigmoid, ReLU, Sigmoid, Softplus, Tanh
from .container import ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .module import IncompatibleKeys, Module
from .normalization import BatchNorm1d, BatchNorm2d
from .parameter import Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "ConvTranspose2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "Module",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "Unflatten",
    "functional",
    "init",
]
