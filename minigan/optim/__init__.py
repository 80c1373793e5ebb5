"""``minigan.optim``: SGD, Adam, RMSprop with PyTorch's update formulas and state_dict layout. Chapter 05.

``minigan.optim.swa_utils``: weight averaging (``AveragedModel``, EMA / SWA) and ``update_bn``;
``minigan.optim.schedule``: the linear learning-rate decay of ``minigan train``. Chapter 08.
"""

from . import schedule, swa_utils
from .adam import Adam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "Optimizer", "RMSprop", "schedule", "swa_utils"]
