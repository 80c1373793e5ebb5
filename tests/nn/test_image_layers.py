"""Layers of image-to-image GANs: padding, pooling, upsampling, instance norm, Dropout2d, Softmax modules.

The ops' forward / gradients against NumPy references live in the op registry (tests/ops/registry.py);
here: the modules' arguments, reprs, state_dict keys, train / eval behaviour, hand-computed values and
the one-line errors for bad input."""

import warnings

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
import minigan.nn.functional as F
from minigan.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(3)


def t64(*shape, requires_grad=False):
    return mg.tensor(RNG.standard_normal(shape), dtype=np.float64, requires_grad=requires_grad)


# -- padding ---------------------------------------------------------------------------------------


def test_padding_layers_on_one_row():
    row = mg.tensor([[[[1.0, 2.0, 3.0, 4.0]]]])
    assert nn.ReflectionPad2d((2, 2, 0, 0))(row).tolist() == [[[[3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]]]]
    assert nn.ReplicationPad2d((2, 1, 0, 0))(row).tolist() == [[[[1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 4.0]]]]
    assert nn.ZeroPad2d((1, 0, 1, 0))(row).tolist() == [[[[0.0] * 5, [0.0, 1.0, 2.0, 3.0, 4.0]]]]
    assert nn.ConstantPad2d((-1, 1, 0, 0), 7.0)(row).tolist() == [[[[2.0, 3.0, 4.0, 7.0]]]]
    assert nn.ReflectionPad2d(1)(mg.randn(2, 3, 4, 5)).shape == (2, 3, 6, 7)
    assert nn.ReflectionPad2d(1)(mg.randn(3, 4, 5)).shape == (3, 6, 7)  # unbatched


def test_padding_reprs_and_arguments():
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ReflectionPad2d((1, 2, 0, 1))) == "ReflectionPad2d((1, 2, 0, 1))"
    assert repr(nn.ConstantPad2d(1, 3.5)) == "ConstantPad2d(padding=(1, 1, 1, 1), value=3.5)"
    assert nn.ReplicationPad2d(2).padding == (2, 2, 2, 2)
    with pytest.raises(TypeError, match=r"ReflectionPad2d: padding must be an int or 4 ints"):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(ValueError, match=r"ReplicationPad2d: padding must be non-negative"):
        nn.ReplicationPad2d(-1)


def test_reflection_gradient_folds_the_border_back():
    """d/dx of sum(ReflectionPad(1)(x)) on a row [a b c]: [b a b c b], so a:1, b:3, c:1."""
    x = mg.tensor([[[[1.0, 2.0, 3.0]]]], requires_grad=True)
    nn.ReflectionPad2d((1, 1, 0, 0))(x).sum().backward()
    assert x.grad.tolist() == [[[[1.0, 3.0, 1.0]]]]


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda x: F.pad(x, (1, 1, 1)), ValueError, r"padding length must be divisible by 2"),
        (lambda x: F.pad(x, (3, 0, 0, 0), "reflect"), ValueError, r"reflect padding must be less than"),
        (lambda x: F.pad(x, (1, 1), "reflect"), NotImplementedError, r"got pad=\(1, 1\) for an input of"),
        (lambda x: F.pad(x, (1, 1, 1, 1), "wrap"), ValueError, r"mode must be 'constant', 'reflect'"),
        (lambda x: F.pad(x, (1, 1, 1, 1), "circular"), NotImplementedError, r"'circular' is not"),
        (lambda x: F.pad(x, (-4, 0)), ValueError, r"would have a negative size"),
        (lambda x: F.pad(x, (1, 1), "reflect", value=2.0), ValueError, r"only used with mode='constant'"),
        (lambda x: F.pad(x, (1.5, 1)), TypeError, r"pad must be a tuple of ints"),
    ],
)
def test_pad_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(mg.randn(1, 1, 3, 3))


# -- pooling ---------------------------------------------------------------------------------------


def test_max_pool_values_gradient_to_the_first_maximum_and_indices():
    x = mg.tensor([[[[1.0, 5.0, 5.0, 0.0], [2.0, 5.0, 1.0, 3.0]]]], requires_grad=True)
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.tolist() == [[[[5.0, 5.0]]]] and idx.tolist() == [[[[1, 2]]]]  # flat h * W + w, first max
    y.sum().backward()
    assert x.grad.tolist() == [[[[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]


def test_overlapping_max_pool_adds_gradients_of_shared_maxima():
    x = mg.tensor([[[[0.0, 9.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, (1, 2), stride=1).sum().backward()  # both windows pick the 9
    assert x.grad.tolist() == [[[[0.0, 2.0, 0.0]]]]


def test_avg_pool_divisors():
    x = mg.ones(1, 1, 3, 3)
    assert F.avg_pool2d(x, 2, 1, 1).array[0, 0, 0, 0] == 0.25  # count_include_pad: 1 of 4
    assert F.avg_pool2d(x, 2, 1, 1, count_include_pad=False).array[0, 0, 0, 0] == 1.0
    assert F.avg_pool2d(x, 3, divisor_override=2).item() == 4.5
    assert F.avg_pool2d(mg.ones(1, 1, 5, 5), 2, ceil_mode=True).shape == (1, 1, 3, 3)


def test_pooling_layers_arguments_and_reprs():
    assert (
        repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert nn.AvgPool2d(2).stride == 2 and nn.MaxPool2d(3, 1).stride == 1
    assert nn.MaxPool2d(2)(mg.randn(2, 3, 7, 6)).shape == (2, 3, 3, 3)
    assert nn.AvgPool2d(2)(mg.randn(3, 7, 6)).shape == (3, 3, 3)
    assert list(nn.MaxPool2d(2).state_dict()) == []


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda: nn.MaxPool2d(0), ValueError, r"MaxPool2d: kernel_size must be >= 1, got 0"),
        (lambda: nn.AvgPool2d(2, stride=0), ValueError, r"AvgPool2d: stride must be >= 1, got 0"),
        (lambda: nn.MaxPool2d(2.5), TypeError, r"kernel_size must be an int or a pair of ints, got 2.5"),
        (lambda: nn.MaxPool2d(2, dilation=2), NotImplementedError, r"dilation=2 is not implemented"),
        (lambda: F.max_pool2d(mg.randn(1, 1, 4, 4), 2, padding=2), ValueError, r"at most half of the"),
        (lambda: F.avg_pool2d(mg.randn(1, 1, 1, 1), 2), ValueError, r"output size would be \(0, 0\)"),
        (lambda: F.max_pool2d(mg.randn(4, 4), 2), ValueError, r"expected a 3-D \(C, H, W\) or 4-D"),
        (lambda: F.avg_pool2d(mg.randn(1, 1, 4, 4), 2, divisor_override=0), ValueError, r"positive int"),
    ],
)
def test_pooling_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# -- upsampling ------------------------------------------------------------------------------------


def test_upsample_nearest_and_bilinear_values():
    x = mg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert nn.UpsamplingNearest2d(scale_factor=2)(x).tolist() == [
        [[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]]
    ]
    # align_corners=True: corners stay, the middle row / column is the mean of its neighbours
    assert nn.UpsamplingBilinear2d(size=3)(x).tolist() == [
        [[[1.0, 1.5, 2.0], [2.0, 2.5, 3.0], [3.0, 3.5, 4.0]]]
    ]
    # align_corners=False, 1 -> 4 along a row [0, 4]: src = (j + 0.5) / 2 - 0.5 clamped at 0
    y = F.interpolate(mg.tensor([[[[0.0, 4.0]]]]), size=(1, 4), mode="bilinear", align_corners=False)
    assert y.tolist() == [[[[0.0, 1.0, 3.0, 4.0]]]]


def test_upsample_reprs_and_arguments():
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(2, 3), mode="bilinear")) == "Upsample(size=(2, 3), mode='bilinear')"
    assert repr(nn.UpsamplingBilinear2d(size=3)) == "UpsamplingBilinear2d(size=3, mode='bilinear')"
    assert nn.Upsample(scale_factor=(2, 3)).scale_factor == (2.0, 3.0)
    assert nn.Upsample(scale_factor=(2, 3))(mg.randn(1, 2, 3, 4)).shape == (1, 2, 6, 12)


def test_interpolate_is_twice_differentiable_through_a_module():
    x = t64(1, 2, 3, 2, requires_grad=True)
    up = nn.Upsample(scale_factor=1.5, mode="bilinear")
    assert gradcheck(lambda x: up(x) ** 2, [x]) and gradgradcheck(lambda x: up(x) ** 2, [x])


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"size": 4, "scale_factor": 2}, ValueError, r"only one of size or scale_factor should be defined"),
        ({}, ValueError, r"either size or scale_factor should be defined"),
        ({"scale_factor": 2, "align_corners": True}, ValueError, r"align_corners option can only be set"),
        ({"scale_factor": 2, "mode": "bicubic"}, NotImplementedError, r"mode 'bicubic' is not implemented"),
        ({"size": (2, 2, 2)}, ValueError, r"size \(2, 2, 2\) has 3 entries, but the input has 2 spatial"),
        ({"scale_factor": 0.1}, ValueError, r"gives an empty output \(0, 0\)"),
        ({"size": 2, "recompute_scale_factor": True}, ValueError, r"not meaningful with an explicit size"),
    ],
)
def test_interpolate_errors(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        F.interpolate(mg.randn(1, 1, 3, 3), **kwargs)
    with pytest.raises(NotImplementedError, match=r"got 3-D input, but bilinear mode needs 4-D input"):
        F.interpolate(mg.randn(1, 1, 3), scale_factor=2, mode="bilinear")


# -- instance norm ---------------------------------------------------------------------------------


def test_instance_norm_state_dict_keys_follow_pytorch():
    assert list(nn.InstanceNorm2d(3).state_dict()) == []
    assert list(nn.InstanceNorm2d(3, affine=True).state_dict()) == ["weight", "bias"]
    assert list(nn.InstanceNorm2d(3, affine=True, bias=False).state_dict()) == ["weight"]
    assert list(nn.InstanceNorm2d(3, affine=True, track_running_stats=True).state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert repr(nn.InstanceNorm2d(3)) == (
        "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    )


def test_instance_norm_normalises_each_sample_and_channel():
    x = mg.tensor(RNG.standard_normal((2, 3, 4, 5)) * 3 + 1, dtype=np.float64)
    y = nn.InstanceNorm2d(3, dtype=np.float64)(x).array
    np.testing.assert_allclose(y.mean(axis=(2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(
        y.var(axis=(2, 3)), x.array.var(axis=(2, 3)) / (x.array.var(axis=(2, 3)) + 1e-5)
    )
    y0 = nn.InstanceNorm2d(3, dtype=np.float64)(x[:1]).array  # one sample's output ignores the others
    np.testing.assert_allclose(y0, y[:1], rtol=1e-12)


def test_instance_norm_running_stats_train_and_eval():
    m = nn.InstanceNorm2d(2, momentum=0.5, track_running_stats=True, dtype=np.float64)
    x = t64(3, 2, 2, 3)
    m(x)
    mu, var = x.array.mean(axis=(2, 3)), x.array.var(axis=(2, 3), ddof=1)  # unbiased, per sample
    np.testing.assert_allclose(m.running_mean.array, 0.5 * mu.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(m.running_var.array, 0.5 + 0.5 * var.mean(axis=0), rtol=1e-12)
    assert int(m.num_batches_tracked.item()) == 0  # as PyTorch: instance norm does not count batches
    m.eval()
    y = m(x).array
    expected = (x.array - m.running_mean.array[None, :, None, None]) / np.sqrt(
        m.running_var.array[None, :, None, None] + 1e-5
    )
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    untracked = nn.InstanceNorm2d(2, dtype=np.float64).eval()  # no running stats: the input's own, always
    np.testing.assert_allclose(untracked(x).array.mean(axis=(2, 3)), 0, atol=1e-12)


def test_instance_norm_affine_gradients_and_unbatched_input():
    m = nn.InstanceNorm2d(2, affine=True, dtype=np.float64)
    m.weight.array[:] = [2.0, -1.0]
    x = t64(2, 3, 3, requires_grad=True)
    assert m(x).shape == (2, 3, 3)
    assert gradgradcheck(
        lambda x, w, b: F.instance_norm(x.unsqueeze(0), weight=w, bias=b) ** 2, [x, m.weight, m.bias]
    )


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda: nn.InstanceNorm2d(3)(mg.randn(2, 3, 1, 1)), ValueError, r"more than 1 spatial element"),
        (lambda: nn.InstanceNorm2d(3, affine=True)(mg.randn(2, 4, 3, 3)), ValueError, r"match num_features"),
        (
            lambda: nn.InstanceNorm2d(3)(mg.randn(2, 3)),
            ValueError,
            r"expected 3-D \(unbatched\) or 4-D input",
        ),
        (lambda: nn.InstanceNorm2d(2.5), TypeError, r"num_features must be an int, got 2.5"),
        (
            lambda: F.instance_norm(mg.randn(2, 3, 4), use_input_stats=False),
            ValueError,
            r"needs running_mean",
        ),
        (
            lambda: F.instance_norm(mg.randn(2, 3, 4), weight=mg.ones(2)),
            ValueError,
            r"weight must have shape",
        ),
    ],
)
def test_instance_norm_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_instance_norm_warns_on_channel_mismatch_without_affine():
    with pytest.warns(UserWarning, match=r"input's size at dim=1 does not match num_features"):
        nn.InstanceNorm2d(3)(mg.randn(2, 4, 3, 3))


# -- dropout2d -------------------------------------------------------------------------------------


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    mg.manual_seed(0)
    m = nn.Dropout2d(p=0.5)
    y = m(mg.ones(8, 16, 3, 3)).array
    per_channel = y.reshape(8, 16, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # each channel all kept or all dropped
    assert set(np.unique(y)) == {0.0, 2.0} and 0.3 < (y == 0).mean() < 0.7
    m.eval()
    x = mg.randn(2, 3, 4, 4)
    assert m(x) is x or np.array_equal(m(x).array, x.array)
    assert repr(nn.Dropout2d(0.2)) == "Dropout2d(p=0.2, inplace=False)"


def test_dropout2d_follows_manual_seed_and_warns_on_3d_input():
    mg.manual_seed(4)
    a = F.dropout2d(mg.ones(4, 5, 2, 2), 0.3).array
    mg.manual_seed(4)
    np.testing.assert_array_equal(F.dropout2d(mg.ones(4, 5, 2, 2), 0.3).array, a)
    with pytest.warns(UserWarning, match=r"Received a 3D input to dropout2d"):
        y = F.dropout2d(mg.ones(4, 5, 6), 0.5).array
    assert np.all(y.min(axis=2) == y.max(axis=2))  # (N, C, L): whole rows dropped
    x = mg.tensor(RNG.standard_normal((2, 3, 2, 2)), requires_grad=True)
    mg.manual_seed(1)
    F.dropout2d(x, 0.5).sum().backward()
    mg.manual_seed(1)
    np.testing.assert_array_equal(x.grad.array, F.dropout2d(mg.ones(2, 3, 2, 2, dtype=np.float64), 0.5).array)
    with pytest.raises(ValueError, match=r"dropout2d: probability p must be between 0 and 1, got 1.5"):
        F.dropout2d(x, 1.5)


# -- softmax modules -------------------------------------------------------------------------------


def test_softmax_modules_with_and_without_dim():
    x = t64(2, 3, 4)
    np.testing.assert_array_equal(nn.Softmax(dim=1)(x).array, F.softmax(x, dim=1).array)
    np.testing.assert_array_equal(nn.LogSoftmax(dim=-1)(x).array, F.log_softmax(x, dim=-1).array)
    with pytest.warns(UserWarning, match=r"Implicit dimension choice for softmax has been deprecated"):
        y = nn.Softmax()(x)  # 3-D: PyTorch's implicit dim is 0
    np.testing.assert_allclose(y.array.sum(axis=0), 1.0)
    with pytest.warns(UserWarning, match=r"Implicit dimension choice for log_softmax"):
        y = nn.LogSoftmax()(t64(2, 3, 4, 5))  # 4-D: dim 1
    np.testing.assert_allclose(np.exp(y.array).sum(axis=1), 1.0)
    assert repr(nn.Softmax()) == "Softmax(dim=None)" and repr(nn.LogSoftmax(dim=1)) == "LogSoftmax(dim=1)"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Softmax(dim=0)(x)  # an explicit dim never warns
