"""Optimizer arguments: NaN, infinity, wrong types and out-of-range values raise one line naming the argument
and its value - in the constructor, for a param group, and at step() for a value changed since."""

import math

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
from minigan import optim


def param():
    return nn.Parameter(np.zeros(2))


BAD_NUMBERS = [(math.nan, ValueError), (math.inf, ValueError), (-math.inf, ValueError),
               ("0.1", TypeError), (None, TypeError), (True, TypeError), ([0.1], TypeError)]  # fmt: skip

# (optimizer, argument, a value out of range); every argument also gets each of BAD_NUMBERS
CASES = [
    (optim.SGD, "lr", -0.1),
    (optim.SGD, "momentum", -0.5),
    (optim.SGD, "dampening", 1.5),
    (optim.SGD, "weight_decay", -1e-4),
    (optim.Adam, "lr", -1.0),
    (optim.Adam, "eps", -1e-8),
    (optim.Adam, "weight_decay", -1.0),
    (optim.RMSprop, "lr", -1.0),
    (optim.RMSprop, "alpha", 1.01),
    (optim.RMSprop, "alpha", -0.1),
    (optim.RMSprop, "eps", -1.0),
    (optim.RMSprop, "momentum", -0.9),
    (optim.RMSprop, "weight_decay", -0.1),
]


@pytest.mark.parametrize("cls, name, out_of_range", CASES)
def test_constructor_names_the_argument_and_value(cls, name, out_of_range):
    for value, exc in [(out_of_range, ValueError), *BAD_NUMBERS]:
        with pytest.raises(exc, match=rf"{name}={value!r}".replace("[", r"\[").replace("(", r"\(")) as info:
            cls([param()], **{name: value})
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "betas, exc, match",
    [
        ((1.0, 0.9), ValueError, r"index 0: betas\[0\]=1.0"),
        ((0.9, math.nan), ValueError, r"index 1: betas\[1\]=nan"),
        ((0.9, -0.1), ValueError, r"betas\[1\]=-0.1"),
        ((0.9, "0.99"), TypeError, r"betas\[1\]='0.99'"),
        (0.9, TypeError, "betas=0.9, expected a pair"),
        ((0.9,), TypeError, r"betas=\(0.9,\), expected a pair"),
        ((0.5, 0.9, 0.99), TypeError, "expected a pair"),
    ],
)
def test_adam_betas(betas, exc, match):
    with pytest.raises(exc, match=match):
        optim.Adam([param()], betas=betas)


@pytest.mark.parametrize(
    "cls, flag",
    [
        (optim.SGD, "nesterov"),
        (optim.SGD, "maximize"),
        (optim.Adam, "amsgrad"),
        (optim.RMSprop, "centered"),
        (optim.RMSprop, "maximize"),
    ],  # fmt: skip
)
def test_flags_must_be_bools(cls, flag):
    with pytest.raises(TypeError, match=f"{flag}='False' is a str, expected a bool"):
        cls([param()], lr=0.1, **{flag: "False"})  # a string would be truthy


def test_nesterov_needs_momentum_and_no_dampening():
    with pytest.raises(ValueError, match="Nesterov momentum requires .* momentum=0.0"):
        optim.SGD([param()], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="dampening=0.1"):
        optim.SGD([param()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


def test_values_at_the_edges_of_the_ranges_are_accepted():
    optim.SGD([param()], lr=0, momentum=0, dampening=1.0, weight_decay=0)
    optim.Adam([param()], lr=np.float32(1e-3), betas=[0.0, 0.0], eps=0.0)
    optim.RMSprop([param()], lr=np.float64(0.01), alpha=1.0, momentum=5.0)
    optim.RMSprop([param()], alpha=0)


def test_a_param_group_is_checked_and_named():
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['lr'\]=nan"):
        optim.SGD([{"params": [param()]}, {"params": [param()], "lr": math.nan}], lr=0.1)
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['momentum'\]=-1"):
        optim.SGD([{"params": [param()], "momentum": -1}], lr=0.1)
    opt = optim.Adam([param()])
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['betas'\]\[0\]=1.5"):
        opt.add_param_group({"params": [param()], "betas": (1.5, 0.9)})
    assert len(opt.param_groups) == 1  # the bad group was not added


@pytest.mark.parametrize(
    "cls, key, value, exc",
    [
        (optim.SGD, "lr", math.nan, ValueError),
        (optim.SGD, "lr", -0.1, ValueError),
        (optim.SGD, "lr", "0.1", TypeError),
        (optim.Adam, "lr", math.inf, ValueError),
        (optim.Adam, "eps", None, TypeError),
        (optim.RMSprop, "alpha", 2.0, ValueError),
    ],
)
def test_a_value_changed_in_a_group_is_refused_at_step(cls, key, value, exc):
    w = param()
    opt = cls([{"params": [param()]}, {"params": [w]}], lr=0.1)
    w.grad = mg.ones(2, dtype=np.float64)
    opt.param_groups[1][key] = value
    with pytest.raises(exc, match=rf"param_groups\[1\]\['{key}'\]={value!r}"):
        opt.step()
    np.testing.assert_array_equal(w.array, 0.0)  # nothing moved
    assert opt.state == {}


def test_a_good_lr_set_later_is_used():
    w = param()
    opt = optim.SGD([w], lr=0.1)
    opt.param_groups[0]["lr"] = 0.25
    w.grad = mg.ones(2, dtype=np.float64)
    opt.step()
    np.testing.assert_array_equal(w.array, -0.25)
