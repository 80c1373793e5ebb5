"""Equalised learning rate (Karras et al. 2018, ProGAN): the Linear and Conv2d layers of the style-based
generator and its discriminator. Chapter 14.

Adam divides every update by a running RMS of the gradient, so each weight moves by about lr per step,
whatever its scale. A layer initialised with the usual He scale w ~ N(0, 2 / fan_in) therefore learns
fast where fan_in is large (small weights, relatively big steps) and slowly where it is small. ProGAN
stores every weight as N(0, 1) instead and multiplies by its He constant at run time:

    y = x @ (c * w).T + b,     w ~ N(0, 1) stored,   c = lr_mul / sqrt(fan_in)

so every layer has the same dynamic range and learns at the same speed. ``lr_mul`` < 1 (StyleGAN's
mapping network: 0.01) slows a layer down by that factor: the stored weight is N(0, 1 / lr_mul^2) so
that c * w starts at the He scale, while the updates to it, about lr in size, are shrunk by c.
The bias gets the same multiplier (b_used = lr_mul * b_stored).

``activation="lrelu"``: leaky ReLU (slope 0.2) times sqrt(2), the gain that keeps a unit-variance input
at unit variance (NVlabs' ``bias_act``).
"""

from __future__ import annotations

import math

from .. import nn
from ..creation import full, randn
from ..nn import functional as F

LRELU_GAIN = math.sqrt(2.0)


def act(x, activation: str | None):
    """leaky ReLU (0.2) * sqrt(2), or ``x`` unchanged for ``activation=None``."""
    if activation is None:
        return x
    if activation != "lrelu":
        raise ValueError(f"activation must be 'lrelu' or None, got {activation!r}")
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


class EqualLinear(nn.Module):
    """(N, in) -> (N, out): x @ (c w).T + lr_mul b with c = lr_mul / sqrt(in) (module docstring);
    ``bias_init`` is the bias used at the start (1 for StyleGAN's style affines: s = A(w) + 1)."""

    def __init__(self, in_features, out_features, bias=True, bias_init=0.0, lr_mul=1.0, activation=None):
        super().__init__()
        self.weight = nn.Parameter(randn(out_features, in_features).array / lr_mul)
        self.bias = nn.Parameter(full((out_features,), bias_init / lr_mul).array) if bias else None
        self.gain, self.lr_mul, self.activation = lr_mul / math.sqrt(in_features), lr_mul, activation

    def forward(self, x):
        b = None if self.bias is None else self.bias * self.lr_mul
        return act(F.linear(x, self.weight * self.gain, b), self.activation)

    def extra_repr(self):
        out, inp = self.weight.shape
        return f"{inp}, {out}, lr_mul={self.lr_mul}, activation={self.activation}"


class EqualConv2d(nn.Module):
    """(N, I, H, W) -> (N, O, H, W) with a k x k kernel ("same" padding), weights scaled by
    1 / sqrt(I k^2) at run time; ``down=True`` halves H and W first (2 x 2 average pooling)."""

    def __init__(self, in_channels, out_channels, kernel_size, bias=True, activation=None, down=False):
        super().__init__()
        self.weight = nn.Parameter(randn(out_channels, in_channels, kernel_size, kernel_size).array)
        self.bias = nn.Parameter(full((out_channels,), 0.0).array) if bias else None
        self.gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding, self.activation, self.down = kernel_size // 2, activation, down

    def forward(self, x):
        if self.down:
            x = F.avg_pool2d(x, 2)
        y = F.conv2d(x, self.weight * self.gain, self.bias, padding=self.padding)
        return act(y, self.activation)

    def extra_repr(self):
        o, i, k, _ = self.weight.shape
        return f"{i}, {o}, kernel_size={k}, activation={self.activation}, down={self.down}"
