"""The ResNet generator of CycleGAN (Zhu et al., 2017, after Johnson et al., 2016), scaled to 28 x 28
images. Used by the unpaired translation model ``cyclegan`` (``variants/cyclegan.py``).

    x (N, C_in, 28, 28) -> ReflectionPad2d(3) -> Conv2d(C_in, w, 7) -> InstanceNorm -> ReLU    (w, 28, 28)
      -> Conv2d(w, 2w, 3, 2, 1) -> InstanceNorm -> ReLU                                     (2w, 14, 14)
      -> Conv2d(2w, 4w, 3, 2, 1) -> InstanceNorm -> ReLU                                    (4w, 7, 7)
      -> n_blocks residual blocks  h + [ReflectionPad2d(1) -> Conv2d(3) -> IN -> ReLU
                                         -> ReflectionPad2d(1) -> Conv2d(3) -> IN](h)          (4w, 7, 7)
      -> ConvTranspose2d(4w, 2w, 3, 2, 1, output_padding=1) -> InstanceNorm -> ReLU         (2w, 14, 14)
      -> ConvTranspose2d(2w, w, 3, 2, 1, output_padding=1) -> InstanceNorm -> ReLU          (w, 28, 28)
      -> ReflectionPad2d(3) -> Conv2d(w, C_out, 7) -> Tanh                            (C_out, 28, 28)

The residual blocks change the image at the coarse scale while the identity path keeps what needs no
change (a translation that keeps the digit's shape and changes its colours is mostly identity); reflection
padding avoids the dark frame zero padding draws at the borders. Instance norm (no learned affine, as in
the official code's default) normalises each image on its own, so a batch's mixture of backgrounds does not
leak into one image's style. The official code has 9 blocks and w = 64 on 256 x 256 images; here w = 16
and 3 blocks (about 21 million multiply-adds per 28 x 28 image). Sides must be multiples of 4.
"""

from __future__ import annotations

from .. import nn


def _norm(c: int):
    return nn.InstanceNorm2d(c)


class ResidualBlock(nn.Module):
    """h -> h + conv-IN-ReLU-conv-IN(h), 3 x 3 convolutions with reflection padding; shape-preserving."""

    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), _norm(c), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), _norm(c),
        )  # fmt: skip

    def forward(self, h):
        return h + self.body(h)


def resnet_generator(
    in_channels: int, out_channels: int, width: int = 16, n_blocks: int = 3
) -> nn.Sequential:
    """CycleGAN's G: (N, in_channels, H, W) -> (N, out_channels, H, W) in [-1, 1], H and W multiples of 4."""
    w = width
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, w, 7), _norm(w), nn.ReLU()]
    layers += [nn.Conv2d(w, 2 * w, 3, 2, 1), _norm(2 * w), nn.ReLU()]
    layers += [nn.Conv2d(2 * w, 4 * w, 3, 2, 1), _norm(4 * w), nn.ReLU()]
    layers += [ResidualBlock(4 * w) for _ in range(n_blocks)]
    layers += [nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, output_padding=1), _norm(2 * w), nn.ReLU()]
    layers += [nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1), _norm(w), nn.ReLU()]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, out_channels, 7), nn.Tanh()]
    return nn.Sequential(*layers)
