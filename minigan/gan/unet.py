"""The U-Net generator of pix2pix (Isola et al., 2017), scaled to 28 x 28 digits. Chapter 12 (paired
translation).

An encoder halves the side ``depth`` times down to 1 x 1; a decoder doubles it back; and every decoder
stage also reads the encoder's features of the same side (the skip connections), so the fine detail of the
input, edges and positions, need not squeeze through the bottleneck:

    a (N, C_in, s, s)  [nearest-upsampled x ``upscale`` when the input is smaller than the output]
      -> ConstantPad2d(pad, -1): 28 + 2 * 2 = 32 = 2^5, padded with the background value -1
    encoder, e_0 = the padded input, for i = 1 .. depth:
      e_i = [LeakyReLU(0.2)] -> Conv2d(c_{i-1}, c_i, 4, 2, 1) -> [BatchNorm2d]   side 32 / 2^i
            (no activation before the first, no norm at the first and the innermost: a 1 x 1 map has no
            spatial statistics, and the first layer sees raw pixels, as in the paper)
    decoder, from the bottleneck u = e_depth back up, for i = depth - 1 .. 0:
      u = ReLU -> ConvTranspose2d(4, 2, 1) -> BatchNorm2d [-> Dropout(0.5)] of u joined with e_i
          (innermost: u alone; outermost: -> c_out channels -> Tanh, no norm)
      -> crop the padding: (N, C_out, 28, 28) in [-1, 1]

Channels c_i = min(width * 2^(i-1), max_width): 32, 64, 128, 256, 256 by default. ``dropout`` acts on the
``n_dropout`` decoder stages next to the bottleneck (the paper's only source of noise: "we provide noise
only in the form of dropout"); here it is on in training and off in eval mode, so a translation is
deterministic (the paper keeps it on at test time too).

Cost: about 21 million multiply-adds and 4.2 million parameters per 28 x 28 image at the defaults.
"""

from __future__ import annotations

from .. import nn
from ..ops.indexing import cat


class UNetGenerator(nn.Module):
    """U-Net G: (N, in_channels, s, s) -> (N, out_channels, s * upscale, s * upscale) in [-1, 1].

    The side after upsampling plus ``2 * pad`` must be divisible by 2^depth (28 + 4 = 32 for depth 5):
    ``check_size`` says so in one line for any other size.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        depth: int = 5,
        width: int = 32,
        max_width: int = 256,
        dropout: float = 0.5,
        n_dropout: int = 2,
        upscale: int = 1,
        pad: int = 2,
    ):
        super().__init__()
        if depth < 2:
            raise ValueError(f"UNetGenerator: depth must be >= 2, got {depth}")
        self.in_channels, self.out_channels, self.depth = in_channels, out_channels, depth
        self.upscale, self.pad = upscale, pad
        c = [in_channels] + [min(width * 2**i, max_width) for i in range(depth)]
        self.up_input = nn.Upsample(scale_factor=upscale, mode="nearest") if upscale > 1 else nn.Identity()
        self.pad_input = nn.ConstantPad2d(pad, -1.0)
        self.crop = nn.ConstantPad2d(-pad, 0.0)  # negative padding crops
        down = [nn.Conv2d(c[0], c[1], 4, 2, 1)]
        for i in range(2, depth + 1):
            norm = [nn.BatchNorm2d(c[i])] if i < depth else []
            down.append(nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(c[i - 1], c[i], 4, 2, 1), *norm))
        up = []
        for i in range(depth, 0, -1):  # the stage that makes side 32 / 2^(i - 1) from e_i (joined)
            c_in = c[i] if i == depth else 2 * c[i]
            if i == 1:
                up.append(
                    nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh())
                )
                continue
            drop = [nn.Dropout(dropout)] if 1 <= depth - i <= n_dropout and dropout > 0 else []
            up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c_in, c[i - 1], 4, 2, 1),
                                    nn.BatchNorm2d(c[i - 1]), *drop))  # fmt: skip
        self.down, self.up = nn.ModuleList(down), nn.ModuleList(up)

    def padded_side(self, side: int) -> int:
        """The side the encoder sees for an input of ``side`` pixels."""
        return side * self.upscale + 2 * self.pad

    def check_size(self, h: int, w: int) -> str | None:
        """Why an (h, w) input does not fit (None if it does)."""
        k = 2**self.depth
        if all(self.padded_side(s) % k == 0 and self.padded_side(s) >= k for s in (h, w)):
            return None
        ok = [s for s in range(1, 257) if self.padded_side(s) % k == 0][:3]
        return (
            f"this U-Net takes sides s with s * {self.upscale} + {2 * self.pad} divisible by {k} "
            f"(e.g. {', '.join(map(str, ok))}), not {h} x {w}"
        )

    def forward(self, a):
        if a.ndim != 4 or a.shape[1] != self.in_channels:
            raise ValueError(
                f"UNetGenerator expects (N, {self.in_channels}, H, W) inputs, got {tuple(a.shape)}"
            )
        problem = self.check_size(a.shape[2], a.shape[3])
        if problem:
            raise ValueError(problem)
        e = [self.pad_input(self.up_input(a))]
        for stage in self.down:
            e.append(stage(e[-1]))
        u = self.up[0](e[-1])
        for j, stage in enumerate(self.up[1:], start=1):  # joins the encoder output of the same side
            u = stage(cat([e[self.depth - j], u], 1))
        return self.crop(u)
