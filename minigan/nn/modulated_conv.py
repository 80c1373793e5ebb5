"""Modulated convolution with demodulation (Karras et al. 2020, StyleGAN2): the convolution a style-based
generator is made of. Chapter 14 (style-based generators) teaches it.

StyleGAN (2019) controlled each layer with AdaIN: normalise every feature map of every sample to zero
mean and unit variance, then scale and shift it by the style. StyleGAN2 moves the style into the
weights. For sample n with style s[n] (one scale per INPUT channel) and the layer's weight w (O, I, k, k):

    w'[n, o, i, :, :] = s[n, i] * w[o, i, :, :]                               modulation
    d[n, o]           = 1 / sqrt( sum_{i, kh, kw} w'[n, o, i, kh, kw]^2 + eps ) demodulation
    y[n]              = conv(x[n], d[n, o] * w'[n])                           (one conv per sample)

If the inputs x[n, i] are independent with unit variance, output o of sample n has variance
sum_{i,k} w'^2 before demodulation, so multiplying by d brings every output map back to unit variance:
demodulation does statistically what AdaIN's normalisation did, but from the weights alone, without
measuring the feature maps. That is what removes StyleGAN's "droplet" artefacts: AdaIN normalises each
map by its own measured statistics, so the generator learned to hide a strong localised spike in a map to
control its normalisation; with d computed from the weights there is nothing to game.

One convolution per sample would be a grouped convolution (groups = N). Because w' = s * w scales input
channels and d scales output channels, the same thing is three cheap steps around ONE shared convolution:

    y = conv(x * s[:, :, None, None], w) * d[:, :, None, None]

which is what ``modulated_conv2d`` computes (StyleGAN2's ``fused_modconv=False`` path), with
``sum_{i,k} (s_i w_oik)^2 = sum_i s_i^2 (sum_k w_oik^2)`` as one (N, I) @ (I, O) product. The test
registry checks it against the per-sample definition above, and checks its first and second derivatives
(R1 and path-length penalties differentiate through it twice).

Cost: one conv2d, plus O(N I) for the modulation and O(O I k^2 + N I O) for d.
"""

from __future__ import annotations

from ..autograd import Tensor
from ..ops.conv import conv2d

EPS = 1e-8


def modulated_conv2d(
    x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool = True, padding: int = 0, eps: float = EPS
) -> Tensor:
    """x (N, I, H, W), weight (O, I, k, k), styles (N, I) -> (N, O, H', W') (module docstring).

    ``padding``: zero padding of the shared convolution (k // 2 keeps the size for odd k). Without
    ``demodulate`` the output is conv(x * s, w) (StyleGAN2's toRGB layers)."""
    if x.ndim != 4 or weight.ndim != 4 or styles.ndim != 2:
        raise ValueError(
            f"modulated_conv2d: expected x (N, I, H, W), weight (O, I, k, k), styles (N, I); got shapes "
            f"{x.shape}, {weight.shape}, {styles.shape}"
        )
    n, i = x.shape[0], x.shape[1]
    if weight.shape[1] != i or tuple(styles.shape) != (n, i):
        raise ValueError(
            f"modulated_conv2d: x has {i} input channels and {n} samples, so weight must be (O, {i}, k, k) "
            f"and styles ({n}, {i}); got weight {weight.shape}, styles {styles.shape}"
        )
    y = conv2d(x * styles.reshape(n, i, 1, 1), weight, padding=padding)
    if not demodulate:
        return y
    w_sq = (weight * weight).sum(dim=(2, 3))  # (O, I): sum over the kernel window
    d = ((styles * styles) @ w_sq.T + eps) ** -0.5  # (N, O)
    return y * d.reshape(n, weight.shape[0], 1, 1)
