"""The linear learning-rate decay of ``minigan train`` and chapter 08."""

import numpy as np
import pytest

import minigan.nn as nn
from minigan import optim
from minigan.optim.schedule import lr_factor, set_lr


def test_lr_factor_falls_linearly_then_stays():
    assert lr_factor(0, 100) == 1.0
    assert lr_factor(50, 100) == pytest.approx(0.55)
    assert lr_factor(100, 100) == pytest.approx(0.1)
    assert lr_factor(10_000, 100) == pytest.approx(0.1)
    assert lr_factor(30, 100, final=0.0) == pytest.approx(0.7)
    assert lr_factor(12345, 0) == 1.0  # no decay


def test_set_lr_reaches_every_group_of_every_optimizer():
    a = nn.Parameter(np.zeros(2, np.float32))
    b = nn.Parameter(np.zeros(3, np.float32))
    opt_1 = optim.Adam([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.5)
    opt_2 = optim.SGD([nn.Parameter(np.zeros(1, np.float32))], lr=0.5)
    set_lr([opt_1, opt_2], 0.01)
    assert [g["lr"] for o in (opt_1, opt_2) for g in o.param_groups] == [0.01, 0.01, 0.01]
