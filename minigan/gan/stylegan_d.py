"""The residual discriminator of StyleGAN2 (Karras et al. 2020, "resnet" D), for 28 x 28 digits. Chapter 14.

    x (N, C, 28, 28) -> fromRGB: 1 x 1 EqualConv2d + lrelu                              (N, c28, 28, 28)
    block 28 -> 14, block 14 -> 7:
        y = conv3x3(x) -> lrelu -> down 2 -> conv3x3 -> lrelu;   skip = down 2 -> conv1x1 (no bias)
        out = (y + skip) / sqrt(2)          (the sum of two unit-variance paths, back to unit variance)
    epilogue at 7 x 7: minibatch std (one channel; chapter 10) -> conv3x3 -> lrelu
                       -> EqualLinear(C * 49, C) -> lrelu -> EqualLinear(C, 1)          (N, 1) logits

No normalisation layers: R1 (``penalties.r1_penalty``) needs each sample's logit to depend on that sample
alone, apart from the minibatch-std statistic. Departures from NVlabs: downsampling is 2 x 2 average
pooling before the convolution (NVlabs: a [1, 3, 3, 1] FIR filter and a stride-2 convolution); channels
16 / 32 / 64 for width 16 (NVlabs: up to 512).
"""

from __future__ import annotations

import math

from .. import nn
from ..nn.minibatch_std import MinibatchStdDev
from .equalized import EqualConv2d, EqualLinear

SKIP_GAIN = 1.0 / math.sqrt(2.0)


class ResidualBlock(nn.Module):
    """(N, I, S, S) -> (N, O, S/2, S/2): two 3 x 3 convolutions beside a 1 x 1 skip (module docstring)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3, activation="lrelu")
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, activation="lrelu", down=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False, down=True)

    def forward(self, x):
        return (self.conv1(self.conv0(x)) + self.skip(x)) * SKIP_GAIN


class ResidualDiscriminator(nn.Module):
    """images (N, C, 28, 28) -> logits (N, 1); ``mbstd_group`` samples per minibatch-std group (NVlabs'
    default 4; the stylegan model uses 32, the whole batch, as ADA's CIFAR-10 configuration does)."""

    def __init__(self, channels_in=1, width=16, mbstd_group=4, image_size=28):
        super().__init__()
        c = [width, 2 * width, 4 * width]  # at 28, 14, 7
        side = image_size // 4
        self.net = nn.Sequential(
            EqualConv2d(channels_in, c[0], 1, activation="lrelu"),
            ResidualBlock(c[0], c[1]),
            ResidualBlock(c[1], c[2]),
            MinibatchStdDev(mbstd_group, 1),
            EqualConv2d(c[2] + 1, c[2], 3, activation="lrelu"),
            nn.Flatten(),
            EqualLinear(c[2] * side * side, c[2], activation="lrelu"),
            EqualLinear(c[2], 1),
        )

    def forward(self, x):
        return self.net(x)
