"""``minigan.optim``: SGD, Adam, RMSprop with PyTorch's update formulas and state_dict layout. Chapter 05.

``minigan.optim.lr_scheduler``: PyTorch's learning-rate schedulers (LambdaLR, StepLR, MultiStepLR,
ExponentialLR, LinearLR); ``minigan.optim.swa_utils``: weight averaging (``AveragedModel``, EMA / SWA) and
``update_bn``; ``minigan.optim.schedule``: the linear learning-rate decay of ``minigan train``. Chapter 08.
``checks`` holds the argument checks they share.
"""

from . import lr_scheduler, schedule, swa_utils
from .adam import Adam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "Optimizer", "RMSprop", "lr_scheduler", "schedule", "swa_utils"]
