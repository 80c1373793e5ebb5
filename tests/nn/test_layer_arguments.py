"""Constructor checks of Linear, Conv2d and ConvTranspose2d: one clear error naming the argument."""

import pytest

import minigan.nn as nn


@pytest.mark.parametrize(
    "args, error, pattern",
    [
        ((3.7, 4), TypeError, r"Linear: in_features must be an int, got 3.7 \(float\)"),
        (("3", 4), TypeError, r"Linear: in_features must be an int, got '3' \(str\)"),
        ((3, None), TypeError, r"Linear: out_features must be an int, got None"),
        ((-1, 4), ValueError, r"Linear: in_features must be positive, got -1"),
        ((0, 4), ValueError, r"Linear: in_features must be positive, got 0"),
        ((3, -2), ValueError, r"Linear: out_features must be positive, got -2"),
    ],
)
def test_linear_rejects_bad_feature_counts(args, error, pattern):
    with pytest.raises(error, match=pattern):
        nn.Linear(*args)


@pytest.mark.parametrize("layer", [nn.Conv2d, nn.ConvTranspose2d])
@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"kernel_size": 0}, ValueError, r"kernel_size must be >= 1, got 0"),
        ({"kernel_size": (3, -1)}, ValueError, r"kernel_size must be >= 1, got \(3, -1\)"),
        ({"kernel_size": 3, "stride": 0}, ValueError, r"stride must be >= 1, got 0"),
        ({"kernel_size": 3, "padding": -1}, ValueError, r"padding must be >= 0, got -1"),
        ({"kernel_size": 2.0}, TypeError, r"kernel_size must be an int or a pair of ints, got 2.0"),
        ({"kernel_size": (1, 2, 3)}, TypeError, r"kernel_size must be an int or a pair of ints"),
    ],
)
def test_conv_layers_reject_bad_sizes(layer, kwargs, error, pattern):
    with pytest.raises(error, match=f"{layer.__name__}: {pattern}"):
        layer(1, 1, **kwargs)


@pytest.mark.parametrize("layer", [nn.Conv2d, nn.ConvTranspose2d])
def test_conv_layers_reject_bad_channel_counts(layer):
    with pytest.raises(TypeError, match=rf"{layer.__name__}: in_channels must be an int, got 1.5 \(float\)"):
        layer(1.5, 1, 3)
    with pytest.raises(ValueError, match=rf"{layer.__name__}: out_channels must be non-negative, got -4"):
        layer(1, -4, 3)


def test_conv_transpose_output_padding_must_be_below_stride():
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than stride \(2, 2\)"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    assert nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=1).output_padding == (1, 1)
