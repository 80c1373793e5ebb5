"""PatchGAN discriminators (Isola et al., 2017), scaled to 28 x 28 digits, and their receptive field.
Chapter 12 (pix2pix) and 13 (CycleGAN).

A PatchGAN D is fully convolutional: it outputs a map of logits, one per overlapping patch of the image,
and the loss averages over them. Each logit judges only what its receptive field sees, so D models the
local statistics (strokes, texture, sharpness) and leaves the global shape to the L1 or cycle loss:

    x (N, C, 28, 28) -> Conv2d(C, 64, 4, 2, 1) -> LeakyReLU(0.2)                         (N, 64, 14, 14)
      [n_layers - 1 times: Conv2d(c, 2c, 4, 2, 1) -> norm -> LeakyReLU(0.2)]          (side halves)
      -> Conv2d(c, 2c, 4, 1, 1) -> norm -> LeakyReLU(0.2)                                 (side - 1)
      -> Conv2d(2c, 1, 4, 1, 1)                                                  (N, 1, P, P) logits

The papers' 70 x 70 PatchGAN is n_layers = 3 on 256 x 256 images; on 28 x 28 digits the default here is
n_layers = 1: receptive field 16 x 16 (``receptive_field``), 12 x 12 patches. Its receptive field follows
from the convolutions alone: walking back from one output pixel, a layer of kernel k and stride s turns a
field of r pixels into (r - 1) * s + k, so for kernels 4 and strides (2, 1, 1): 1 -> 4 -> 7 -> 16.

``norm``: "batch" (pix2pix), "instance" (CycleGAN) or None. ``mbstd=True`` joins a minibatch standard
deviation map (``nn.MinibatchStdDev``, groups of 4; chapter 10) to the features before the last
convolution, so that each logit also sees how much the images of its group differ there: a D that can
tell a batch of look-alike fakes from varied real images (chapter 13 uses it against CycleGAN's
generator giving every MNIST-M translation the same dark background). ``PairDiscriminator`` is pix2pix's
conditional D, judging (input, output) pairs: the input (nearest-upsampled to the output's side when it is
smaller) joined to the output along the channels.
"""

from __future__ import annotations

from .. import nn
from ..ops.indexing import cat

NORMS = {"batch": nn.BatchNorm2d, "instance": lambda c: nn.InstanceNorm2d(c, affine=False), None: None}


def patch_discriminator(
    in_channels: int, width: int = 64, n_layers: int = 1, norm="batch", mbstd: bool = False
) -> nn.Sequential:
    """PatchGAN D: (N, in_channels, H, W) -> (N, 1, P, P) logits (module docstring)."""
    if norm not in NORMS:
        raise ValueError(f"norm must be 'batch', 'instance' or None, got {norm!r}")
    make_norm = NORMS[norm]
    layers = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
    c = width
    for stride in [2] * (n_layers - 1) + [1]:
        c_out = min(2 * c, 8 * width)
        layers += [nn.Conv2d(c, c_out, 4, stride, 1), *([make_norm(c_out)] if make_norm else [])]
        layers.append(nn.LeakyReLU(0.2))
        c = c_out
    if mbstd:
        layers.append(nn.MinibatchStdDev())
    layers.append(nn.Conv2d(c + int(mbstd), 1, 4, 1, 1))
    return nn.Sequential(*layers)


def receptive_field(model) -> int:
    """Side of the input square one output pixel of ``model`` sees: walking its Conv2d layers from the
    last to the first, r <- (r - 1) * stride + dilation * (kernel - 1) + 1, from r = 1. Square kernels."""
    r = 1
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    for conv in reversed(convs):
        k, s, d = conv.kernel_size[0], conv.stride[0], conv.dilation[0]
        r = (r - 1) * s + d * (k - 1) + 1
    return r


class PairDiscriminator(nn.Module):
    """pix2pix's D(a, b): a PatchGAN on the input ``a`` (N, C_a, s, s) joined with an output ``b``
    (N, C_b, s * upscale, s * upscale); returns (N, 1, P, P) logits."""

    def __init__(self, in_channels: int, out_channels: int, upscale: int = 1, **patch):
        super().__init__()
        self.up_input = nn.Upsample(scale_factor=upscale, mode="nearest") if upscale > 1 else nn.Identity()
        self.net = patch_discriminator(in_channels + out_channels, **patch)

    def forward(self, a, b):
        return self.net(cat([self.up_input(a), b], 1))
