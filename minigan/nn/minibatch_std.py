"""Minibatch standard deviation (Karras et al. 2018, ProGAN): a layer that lets D see the batch's
diversity. Chapter 10 (stabilising GANs on images) teaches it.

A discriminator that judges each sample on its own cannot tell a collapsed generator (every sample the
same good-looking image) from a diverse one. This layer hands D one statistic of the whole group a sample
came in: how much the samples vary. Real batches vary as much as the data; a collapsing G's batches do
not, and D can punish that.

For x of shape (N, C, H, W) (or (N, C): any trailing axes), group size G = min(group_size, N), M = N / G
groups and F = num_channels new maps:

    x -> reshape (G, M, F, C/F, H, W)          sample i = g M + m sits in group m = i % M
    var[m, f, c, h, w] = 1/G sum_g (x[g, m, f, c, h, w] - mean_g x[., m, f, c, h, w])^2   (biased)
    s[m, f] = mean over (c, h, w) of sqrt(var + 1e-8)
    out = concat([x, s as a constant (H, W) map for every sample of group m], axis=1)

so (N, C, H, W) -> (N, C + F, H, W) and (N, C) -> (N, C + F). The grouping ``x.reshape(G, -1, ...)`` is
ProGAN's: a group takes every M-th sample (samples 0, M, 2M, ... form group 0), not G neighbours. The
1e-8 keeps the square root differentiable where a feature is the same in the whole group (its slope there
would otherwise be infinite); G = 1 gives s = 1e-4 everywhere and no gradient.

Built from minigan ops (reshape, mean, sqrt, expand, cat), so it is differentiable twice, as the R1 and
WGAN-GP penalties need. Like batch norm, it makes a sample's output depend on the other samples of its
group. Cost: O(N C H W), a few elementwise passes over x; no parameters.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops.indexing import cat
from .module import Module

EPS = 1e-8


def minibatch_std(x: Tensor, group_size: int = 4, num_channels: int = 1) -> Tensor:
    """x (N, C, ...) -> (N, C + num_channels, ...): the group std maps appended (module docstring).

    ValueError if N is not divisible by G = min(group_size, N), or C by ``num_channels``."""
    if x.ndim < 2:
        raise ValueError(f"minibatch_std: expected an (N, C, ...) input, got shape {x.shape}")
    n, c, rest = x.shape[0], x.shape[1], tuple(x.shape[2:])
    G = min(group_size, n)
    if n % G:
        raise ValueError(
            f"minibatch_std: a batch of N={n} samples does not split into groups of G={G} "
            f"(G = min(group_size={group_size}, N)); use a batch size divisible by {G}"
        )
    if c % num_channels:
        raise ValueError(
            f"minibatch_std: C={c} features do not split into num_channels={num_channels} equal parts"
        )
    M, F = n // G, num_channels
    y = x.reshape(G, M, F, c // F, *rest)
    dev = y - y.mean(0, keepdim=True)
    std = ((dev * dev).mean(0) + EPS).sqrt()  # (M, F, C/F, ...)
    s = std.reshape(M, F, -1).mean(2)  # (M, F)
    maps = s.reshape(1, M, F, *(1,) * len(rest)).expand(G, M, F, *rest).reshape(n, F, *rest)
    return cat([x, maps], 1)


class MinibatchStdDev(Module):
    """``MinibatchStdDev(group_size=4, num_channels=1)``: (N, C, ...) -> (N, C + num_channels, ...),
    the std of each group of min(group_size, N) samples appended as constant maps (module docstring)."""

    def __init__(self, group_size: int = 4, num_channels: int = 1):
        super().__init__()
        for name, v in (("group_size", group_size), ("num_channels", num_channels)):
            if type(v) is not int or v < 1:
                raise ValueError(f"MinibatchStdDev: {name} must be an int >= 1, got {v!r}")
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: Tensor) -> Tensor:
        return minibatch_std(x, self.group_size, self.num_channels)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"
