"""Small MLP generator and discriminator for the toy distributions. Chapters 06 (1-D) and 07 (2-D).

    G: z (N, z_dim) -> Linear -> ReLU -> ... -> Linear -> x (N, data_dim)          (no output squashing:
                                                                                   toy data is unbounded)
    D: x (N, data_dim) -> Linear -> LeakyReLU(0.2) -> ... -> Linear -> logit (N, 1)

``depth`` counts hidden layers of width ``hidden``. D uses LeakyReLU so that its gradient with respect to x
(what G learns from) is never exactly zero; neither net uses BatchNorm, so each sample's output depends on
that sample only, which the gradient penalties assume.
"""

from __future__ import annotations

from .. import nn


def mlp_generator(z_dim: int = 2, data_dim: int = 2, hidden: int = 128, depth: int = 3):
    """An MLP from noise (N, z_dim) to samples (N, data_dim) with ``depth`` hidden ReLU layers."""
    layers, width = [], z_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, data_dim))


def mlp_discriminator(data_dim: int = 2, hidden: int = 128, depth: int = 3, negative_slope: float = 0.2):
    """An MLP from samples (N, data_dim) to logits (N, 1) with ``depth`` hidden LeakyReLU layers."""
    layers, width = [], data_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(negative_slope)]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, 1))
