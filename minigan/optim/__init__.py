"""``minigan.optim``: SGD, Adam, RMSprop with PyTorch's update formulas and state_dict layout. Chapter 05."""

from .adam import Adam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "Optimizer", "RMSprop"]
