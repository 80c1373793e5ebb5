"""Layers: Linear, Conv2d, ConvTranspose2d, Embedding, Dropout, Flatten/Unflatten, activations - values vs
NumPy, parameter shapes and default initialisation vs PyTorch's rules, gradients."""

import math

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
import minigan.nn.functional as F
from minigan.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(5)


def t64(shape, requires_grad=True):
    return mg.tensor(RNG.standard_normal(shape), dtype=np.float64, requires_grad=requires_grad)


# -- linear ------------------------------------------------------------------------------------------


def test_linear_matches_numpy_on_batched_input():
    lin = nn.Linear(4, 3)
    x = mg.randn(2, 5, 4)
    y = lin(x)
    assert y.shape == (2, 5, 3) and y.dtype == np.float32
    np.testing.assert_allclose(y.array, x.array @ lin.weight.array.T + lin.bias.array, rtol=1e-5, atol=1e-6)
    assert nn.Linear(4, 3, bias=False)(x).shape == (2, 5, 3)


@pytest.mark.parametrize("x_shape", [(3, 4), (2, 3, 4), (4,)])
def test_linear_gradcheck_and_gradgradcheck(x_shape):
    x, w, b = t64(x_shape), t64((2, 4)), t64((2,))
    assert gradcheck(F.linear, [x, w, b])
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b) ** 2, [x, w, b])


def test_linear_errors():
    with pytest.raises(
        ValueError, match=r"input has 3 features \(last dim of shape \(2, 3\)\) but weight expects 4"
    ):
        F.linear(mg.randn(2, 3), mg.randn(5, 4))
    with pytest.raises(TypeError, match="same dtype"):
        F.linear(mg.randn(2, 4), mg.randn(5, 4, dtype=np.float64))
    with pytest.raises(ValueError, match=r"bias must have shape \(5,\)"):
        F.linear(mg.randn(2, 4), mg.randn(5, 4), mg.randn(4))


@pytest.mark.parametrize(
    "make, fan_in",
    [
        (lambda: nn.Linear(50, 40), 50),
        (lambda: nn.Conv2d(6, 8, 3), 6 * 9),
        (lambda: nn.Conv2d(3, 5, (2, 4)), 3 * 8),
        (lambda: nn.ConvTranspose2d(12, 7, 4), 7 * 16),  # PyTorch: fan_in from weight dim 1 (out_channels)
    ],
)
def test_default_init_is_pytorchs_uniform_bound(make, fan_in):
    """kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); biases the same bound."""
    mg.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.array, layer.bias.array
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound  # the whole range is used, not a narrower one
    assert abs(w.std() - bound / math.sqrt(3)) < 0.15 * bound / math.sqrt(3)  # std of U(-b, b)


def test_default_init_follows_manual_seed():
    mg.manual_seed(7)
    a = nn.Sequential(nn.Linear(3, 4), nn.Conv2d(1, 2, 3))
    mg.manual_seed(7)
    b = nn.Sequential(nn.Linear(3, 4), nn.Conv2d(1, 2, 3))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va.array, vb.array)


def test_parameter_shapes_match_pytorch():
    assert nn.Linear(3, 5).weight.shape == (5, 3)
    conv = nn.Conv2d(3, 8, 4, stride=2, padding=1)
    assert conv.weight.shape == (8, 3, 4, 4) and conv.bias.shape == (8,)
    convt = nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1)
    assert convt.weight.shape == (8, 3, 4, 4) and convt.bias.shape == (3,)
    assert nn.Embedding(10, 6).weight.shape == (10, 6)


# -- conv layers -------------------------------------------------------------------------------------


def test_dcgan_shapes():
    g = nn.Sequential(
        nn.ConvTranspose2d(16, 8, 7, 1, 0, bias=False),  # 1x1 -> 7x7
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False),  # 7 -> 14
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.ConvTranspose2d(4, 1, 4, 2, 1, bias=False),  # 14 -> 28
        nn.Tanh(),
    )
    d = nn.Sequential(
        nn.Conv2d(1, 4, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(4, 8, 4, 2, 1),
        nn.Flatten(),
        nn.Linear(8 * 49, 1),
    )
    z = mg.randn(3, 16, 1, 1)
    img = g(z)
    assert img.shape == (3, 1, 28, 28) and float(np.abs(img.array).max()) <= 1
    assert d(img).shape == (3, 1)


def test_conv_transpose_output_size_argument():
    up = nn.ConvTranspose2d(2, 1, 3, stride=2, padding=1)
    x = mg.randn(1, 2, 4, 4)
    assert up(x).shape == (1, 1, 7, 7)
    assert up(x, output_size=(8, 8)).shape == (1, 1, 8, 8)
    with pytest.raises(ValueError, match="valid sizes range from"):
        up(x, output_size=(9, 9))


def test_conv_layer_rejects_unimplemented_options():
    with pytest.raises(NotImplementedError, match="groups=2"):
        nn.Conv2d(4, 4, 3, groups=2)
    with pytest.raises(NotImplementedError, match="dilation"):
        nn.Conv2d(4, 4, 3, dilation=2)
    with pytest.raises(NotImplementedError, match="padding_mode"):
        nn.Conv2d(4, 4, 3, padding_mode="reflect")


# -- embedding ---------------------------------------------------------------------------------------


def test_embedding_lookup_and_scatter_add_gradient():
    emb = nn.Embedding(5, 3)
    idx = mg.tensor([[0, 2], [2, 4]])
    y = emb(idx)
    assert y.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.array, emb.weight.array[[[0, 2], [2, 4]]])
    gy = RNG.standard_normal((2, 2, 3)).astype(np.float32)
    y.backward(mg.tensor(gy))
    expected = np.zeros((5, 3), dtype=np.float32)
    expected[0] = gy[0, 0]
    expected[2] = gy[0, 1] + gy[1, 0]  # index 2 occurs twice: both contributions add up
    expected[4] = gy[1, 1]
    np.testing.assert_allclose(emb.weight.grad.array, expected, rtol=1e-6)


def test_embedding_gradcheck_gradgradcheck_and_padding_idx():
    w = t64((6, 2))
    idx = np.array([1, 3, 3, 0, 5])
    assert gradcheck(lambda w: F.embedding(idx, w), [w])
    assert gradgradcheck(lambda w: F.embedding(idx, w) ** 2, [w])
    assert gradgradcheck(lambda w: F.embedding(idx, w, padding_idx=3) ** 2, [w])
    emb = nn.Embedding(4, 2, padding_idx=1)
    assert np.all(emb.weight.array[1] == 0)
    emb(mg.tensor([1, 2, 1])).sum().backward()
    assert np.all(emb.weight.grad.array[1] == 0) and np.all(emb.weight.grad.array[2] == 1)


def test_embedding_errors():
    emb = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="index 4 is out of range for a table with 4 rows"):
        emb(mg.tensor([0, 4]))
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(mg.tensor([0.0, 1.0]))


# -- dropout -----------------------------------------------------------------------------------------


def test_dropout_is_inverted_and_seeded():
    x = mg.ones(20000)
    mg.manual_seed(3)
    y = F.dropout(x, 0.25, training=True)
    kept = y.array != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.array[kept], 1 / 0.75, rtol=1e-6)
    mg.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.25, training=True).array, y.array)
    assert F.dropout(x, 0.25, training=False) is x


def test_dropout_gradient_uses_the_same_mask():
    x = mg.randn(100, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.backward(mg.ones(100))
    np.testing.assert_array_equal(x.grad.array, (y.array != 0) * 2.0)


def test_dropout_module_modes_and_edge_probabilities():
    drop = nn.Dropout(0.5)
    x = mg.randn(50)
    assert drop.eval()(x) is x
    assert np.all(nn.Dropout(1.0)(x).array == 0)
    assert F.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# -- shape layers and activations ----------------------------------------------------------------------


def test_flatten_unflatten_round_trip():
    x = mg.randn(2, 3, 4, 5)
    flat = nn.Flatten()(x)
    assert flat.shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    back = nn.Unflatten(1, (3, 4, 5))(flat)
    np.testing.assert_array_equal(back.array, x.array)
    assert nn.Unflatten(1, (3, -1))(flat).shape == (2, 3, 20)


def test_activation_modules_match_functions():
    x = mg.randn(4, 3)
    np.testing.assert_array_equal(nn.ReLU()(x).array, np.maximum(x.array, 0))
    np.testing.assert_allclose(
        nn.LeakyReLU(0.2)(x).array, np.where(x.array > 0, x.array, 0.2 * x.array), rtol=1e-6
    )
    np.testing.assert_allclose(nn.Tanh()(x).array, np.tanh(x.array), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).array, 1 / (1 + np.exp(-x.array)), rtol=1e-6)
    np.testing.assert_array_equal(nn.Identity(3, foo=1)(x).array, x.array)
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
