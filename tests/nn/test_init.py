"""nn.init: PyTorch's formulas for gains, fans, bounds and standard deviations; in place, seeded."""

import math

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
from minigan.nn import init


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(mg.zeros(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(mg.zeros(8, 4, 3, 2)) == (24, 48)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mg.zeros(5))


def test_in_place_on_parameters_and_returns_them():
    p = nn.Parameter(np.zeros((3, 4), dtype=np.float32))
    data = p.array
    assert init.ones_(p) is p and p.array is data and np.all(data == 1)
    assert init.constant_(p, 2.5) is p and np.all(p.array == 2.5)
    assert init.zeros_(p) is p and np.all(p.array == 0)
    assert p.dtype == np.float32 and p.creator is None and p.requires_grad


@pytest.mark.parametrize(
    "fn, kwargs, shape, bound",
    [
        (init.uniform_, dict(a=-0.3, b=0.7), (400, 50), None),
        (init.xavier_uniform_, dict(gain=2.0), (300, 200), 2.0 * math.sqrt(6 / 500)),
        (init.kaiming_uniform_, dict(a=math.sqrt(5)), (200, 30, 2, 2), 1 / math.sqrt(120)),
        (init.kaiming_uniform_, dict(nonlinearity="relu", mode="fan_out"), (200, 30, 3, 3),
         math.sqrt(2) * math.sqrt(3 / (200 * 9))),
    ],
)  # fmt: skip
def test_uniform_family_bounds(fn, kwargs, shape, bound):
    w = mg.zeros(*shape)
    mg.manual_seed(0)
    fn(w, **kwargs)
    lo, hi = (kwargs["a"], kwargs["b"]) if bound is None else (-bound, bound)
    assert w.array.min() >= lo and w.array.max() <= hi
    assert w.array.min() < lo + 0.01 * (hi - lo) and w.array.max() > hi - 0.01 * (hi - lo)
    assert abs(w.array.mean() - (lo + hi) / 2) < 0.02 * (hi - lo)


@pytest.mark.parametrize(
    "fn, kwargs, shape, std",
    [
        (init.normal_, dict(mean=1.0, std=0.02), (300, 100), 0.02),
        (init.xavier_normal_, dict(), (300, 200), math.sqrt(2 / 500)),
        (init.kaiming_normal_, dict(a=0.2, nonlinearity="leaky_relu"), (100, 40, 3, 3),
         math.sqrt(2 / 1.04) / math.sqrt(360)),
    ],
)  # fmt: skip
def test_normal_family_std(fn, kwargs, shape, std):
    w = mg.zeros(*shape)
    mg.manual_seed(1)
    fn(w, **kwargs)
    assert abs(w.array.std() - std) < 0.03 * std
    assert abs(w.array.mean() - kwargs.get("mean", 0.0)) < 0.03 * std


def test_seeded_and_generator_argument():
    a, b = mg.zeros(10), mg.zeros(10)
    mg.manual_seed(4)
    init.normal_(a)
    mg.manual_seed(4)
    init.normal_(b)
    np.testing.assert_array_equal(a.array, b.array)
    c = init.normal_(mg.zeros(10), generator=np.random.default_rng(0))
    d = init.normal_(mg.zeros(10), generator=np.random.default_rng(0))
    np.testing.assert_array_equal(c.array, d.array)


def test_dcgan_style_custom_init_with_apply():
    def weights_init(m):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            init.normal_(m.weight, 1.0, 0.02)
            init.zeros_(m.bias)

    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 64, 4), nn.BatchNorm2d(64)).apply(weights_init)
    assert abs(model[0].weight.array.std() - 0.02) < 0.002
    assert abs(model[1].weight.array.mean() - 1.0) < 0.01 and np.all(model[1].bias.array == 0)


def test_rejects_non_tensors():
    with pytest.raises(TypeError, match="fill a Tensor or Parameter in place"):
        init.zeros_(np.zeros(3))
