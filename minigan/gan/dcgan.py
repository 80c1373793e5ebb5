"""DCGAN generator and discriminator for images. Chapter 08 (DCGAN on MNIST).

Radford, Metz and Chintala (2016) found a recipe that made convolutional GANs train: strided
convolutions instead of pooling (D), transposed convolutions to upsample (G), batch norm in both nets
except G's output and D's input, ReLU in G with tanh at the output (images live in [-1, 1]), LeakyReLU(0.2)
in D, Adam(2e-4, beta1 = 0.5), and weights drawn from N(0, 0.02).

For MNIST (``image_size=28, channels=1, width=64, z_dim=100``) the two networks are exactly

    G: z (N, 100) -> Linear(100, 128*7*7) -> BatchNorm1d(6272) -> ReLU -> reshape (N, 128, 7, 7)
       -> ConvTranspose2d(128, 64, 4, 2, 1) -> BatchNorm2d(64) -> ReLU               (N, 64, 14, 14)
       -> ConvTranspose2d(64, 1, 4, 2, 1) -> Tanh                                     (N, 1, 28, 28)
    D: x (N, 1, 28, 28) -> Conv2d(1, 64, 4, 2, 1) -> LeakyReLU(0.2)                    (N, 64, 14, 14)
       -> Conv2d(64, 128, 4, 2, 1) -> BatchNorm2d(128) -> LeakyReLU(0.2)              (N, 128, 7, 7)
       -> Flatten -> Linear(128*7*7, 1)                                               (N, 1) logits

A kernel-4, stride-2, padding-1 (transposed) convolution halves (doubles) the side exactly:
out = (in - 1) * 2 - 2 + 4 = 2 in for the transposed one, floor((in + 2 - 4) / 2) + 1 = in / 2 for the
direct one. Kernel 4 is a multiple of stride 2, so every output pixel of the transposed convolution
receives the same number (4) of kernel taps: no checkerboard from uneven overlap (Odena et al., 2016),
which a kernel of 3 with stride 2 would have.

Other sizes: ``image_size = s0 * 2^n`` with a base side ``s0`` of 7 (28 = 7 * 4, 14, 56) or 4 (8, 16, 32,
64, ...); the nets get n up/down-sampling stages, channel counts ``width * 2^(n-1)`` at the base side down to
``width`` (G) and back up (D), as in pytorch/examples ``dcgan/main.py`` (which starts G with a 4x4
transposed convolution of the noise instead of the Linear projection used here; the two are equivalent).

Chapter 10's options of ``dcgan()`` for D: ``spectral_norm=True`` normalises every Conv2d and Linear
weight by its largest singular value (``nn.utils.spectral_norm``) and drops D's batch norm, whose
per-batch rescaling would undo the Lipschitz bound (Miyato et al. 2018's SN discriminators have none);
``pack=m`` lets D judge m images at once, channels concatenated (PacGAN, ``packing.py``).
``mbstd=True`` inserts ``nn.MinibatchStdDev()`` before D's last layer, on the (N, 128, 7, 7)
features (for MNIST): one more constant map, the std of its group of 4 samples, so the Linear reads
129 * 7 * 7 features and D can see a batch's lack of variety. The default nets are unchanged.

Parameter names and state_dict keys match the same ``torch.nn.Sequential``, so weights move between
minigan and PyTorch as arrays (``dcgan_bench.py`` does that to build identical nets in both).
"""

from __future__ import annotations

import math

from .. import nn
from ..nn import init


def _stages(image_size: int) -> tuple[int, int]:
    """(base side s0, number of 2x stages n) with image_size = s0 * 2^n, n >= 1; ValueError otherwise."""
    for s0 in (7, 4):
        n = image_size // s0
        if image_size % s0 == 0 and n >= 2 and n & (n - 1) == 0:
            return s0, int(math.log2(n))
    raise ValueError(
        f"image_size {image_size!r} is not supported: "
        "use 7 * 2^n (14, 28, 56, ...) or 4 * 2^n (8, 16, 32, 64, ...)"
    )


def dcgan_generator(
    image_size: int = 28, channels: int = 1, z_dim: int = 100, width: int = 64
) -> nn.Sequential:
    """G: noise (N, z_dim) -> images (N, channels, image_size, image_size) in [-1, 1] (module docstring)."""
    s0, n = _stages(image_size)
    c = width * 2 ** (n - 1)
    layers = [
        nn.Linear(z_dim, c * s0 * s0),
        nn.BatchNorm1d(c * s0 * s0),
        nn.ReLU(),
        nn.Unflatten(1, (c, s0, s0)),
    ]
    for _ in range(n - 1):
        layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.BatchNorm2d(c // 2), nn.ReLU()]
        c //= 2
    layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def dcgan_discriminator(
    image_size: int = 28,
    channels: int = 1,
    width: int = 64,
    negative_slope: float = 0.2,
    mbstd: bool = False,
    batch_norm: bool = True,
):
    """D: images (N, channels, image_size, image_size) -> logits (N, 1). See the module docstring;
    ``mbstd``: a minibatch-std map joins the last features (then N must be below 4 or divisible by 4);
    ``batch_norm=False``: no BatchNorm2d (the spectrally normalised D of ``dcgan(spectral_norm=True)``)."""
    s0, n = _stages(image_size)
    layers = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(negative_slope)]
    c = width
    for _ in range(n - 1):
        norm = [nn.BatchNorm2d(2 * c)] if batch_norm else []
        layers += [nn.Conv2d(c, 2 * c, 4, 2, 1), *norm, nn.LeakyReLU(negative_slope)]
        c *= 2
    if mbstd:
        layers.append(nn.MinibatchStdDev())
        c += 1
    layers += [nn.Flatten(), nn.Linear(c * s0 * s0, 1)]
    return nn.Sequential(*layers)


def dcgan_trunk(image_size: int = 28, channels: int = 1, width: int = 64):
    """The initialised DCGAN discriminator split before its last layer: (features, head), where
    ``features`` maps images to the flattened (N, 128 * 7 * 7) trunk output (for MNIST) and ``head`` is the
    Linear(.., 1) real / fake logit. Discriminators with more heads or a class term read the trunk
    (``variants/acgan.py``, ``variants/projection.py``)."""
    layers = list(dcgan_init_(dcgan_discriminator(image_size, channels, width)))
    return nn.Sequential(*layers[:-1]), layers[-1]


def dcgan_init_(model, std: float = 0.02, generator=None):
    """DCGAN initialisation in place: (transposed) convolution and linear weights ~ N(0, std), their
    biases 0; batch-norm weights ~ N(1, std), biases 0 (pytorch/examples ``weights_init``). Returns model."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            init.normal_(m.weight, 0.0, std, generator=generator)
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.weight is not None:
            init.normal_(m.weight, 1.0, std, generator=generator)
            init.zeros_(m.bias)
    return model


def dcgan(
    image_size: int = 28,
    channels: int = 1,
    z_dim: int = 100,
    width: int = 64,
    generator=None,
    mbstd=False,
    spectral_norm=False,
    pack=1,
    batch_norm=None,
):
    """(G, D) built and initialised as in the DCGAN paper; ``generator`` seeds the initial weights.
    Chapter 10's options for D (module docstring): ``mbstd`` the minibatch-std map; ``spectral_norm``
    every Conv2d / Linear spectrally normalised and no batch norm; ``pack`` m > 1: D reads packs of m
    images with their channels concatenated (``packing.Packed``; batches must hold a multiple of m);
    ``batch_norm``: D's batch norm (default: without spectral norm only)."""
    G = dcgan_init_(dcgan_generator(image_size, channels, z_dim, width), generator=generator)
    batch_norm = not spectral_norm if batch_norm is None else batch_norm
    D = dcgan_discriminator(image_size, channels * pack, width, mbstd=mbstd, batch_norm=batch_norm)
    D = dcgan_init_(D, generator=generator)
    if spectral_norm:  # after the init: spectral_norm renames weight to weight_orig
        for m in D.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.utils.spectral_norm(m)
    if pack > 1:
        from .packing import Packed

        D = Packed(D, pack)
    return G, D


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
