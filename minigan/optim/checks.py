"""Argument checks shared by the optimizers and the learning-rate schedulers. Chapter 05.

A hyperparameter that is NaN, infinite, a string, None or out of range would not fail loudly later: NaN
spreads silently through every weight, a string lr fails deep inside an update. So each is checked
where it enters (the constructor, ``add_param_group``, ``Optimizer.step`` for values changed in a param
group, a scheduler's constructor) and a bad one raises one line naming the argument and its value:

    ValueError: Invalid learning rate: lr=nan, expected a finite number >= 0
    TypeError: Invalid momentum value: param_groups[1]['momentum']='0.9' is a str, expected a real number

The ranges are PyTorch's; minigan is stricter where PyTorch lets a value through that can only give a
wrong result (NaN and infinity everywhere, booleans and strings where numbers go, RMSprop's alpha > 1).
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


def label(key: str, where: str = "") -> str:
    """How an error names a hyperparameter: ``lr`` (a constructor argument) or ``param_groups[1]['lr']``."""
    return f"{where}[{key!r}]" if where else key


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if high == math.inf:
        return f"{'>' if low_open else '>='} {low:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def check_number(
    what: str,
    name: str,
    value,
    low: float = 0.0,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise unless ``value`` is a finite real number (not a bool) in the interval from low to high.
    ``what`` opens the message ("Invalid learning rate"), ``name`` names the argument ("lr")."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.integer, np.floating)):
        raise TypeError(f"{what}: {name}={value!r} is a {type(value).__name__}, expected a real number")
    v = float(value)
    out = v < low or v > high or (low_open and v == low) or (high_open and v == high)
    if not math.isfinite(v) or out:
        raise ValueError(
            f"{what}: {name}={value!r}, expected a finite number {_interval(low, high, low_open, high_open)}"
        )


def check_int(what: str, name: str, value, low: int) -> None:
    """Raise unless ``value`` is an int (not a bool) >= low."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what}: {name}={value!r} is a {type(value).__name__}, expected an int")
    if value < low:
        raise ValueError(f"{what}: {name}={value!r}, expected an int >= {low}")


def check_flag(name: str, value) -> None:
    """Raise unless ``value`` is True or False (a string such as "False" would be truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Invalid {name} flag: {name}={value!r} is a {type(value).__name__}, expected a bool")


def check_lr(value, name: str = "lr") -> None:
    check_number("Invalid learning rate", name, value)


def check_betas(value, where: str = "") -> None:
    """(beta1, beta2), each in [0, 1)."""
    name = label("betas", where)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"Invalid betas: {name}={value!r}, expected a pair (beta1, beta2)")
    for i, beta in enumerate(value):
        check_number(f"Invalid beta parameter at index {i}", f"{name}[{i}]", beta, 0.0, 1.0, high_open=True)
