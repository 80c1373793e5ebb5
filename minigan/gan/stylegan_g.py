"""The style-based generator of StyleGAN2 (Karras et al. 2020), in miniature for 28 x 28 digits. Chapter 14.

    z (N, z_dim) --pixel norm--> mapping: 8 x EqualLinear(lr_mul 0.01) + lrelu --> w (N, w_dim)
    w --broadcast--> ws (N, num_ws, w_dim): one w per layer, so style mixing can swap the later ones
    synthesis:  learned constant (C4, 4, 4)
                4 x 4:    StyleConv -> ToRGB                                           ws[0], ws[1]
                7 x 7:    resize -> StyleConv, StyleConv -> ToRGB (+ the image so far,
                          resized)                                                     ws[1..3]
                14, 28:   the same                                                     ws[3..7]

A StyleConv is ``y = modulated_conv2d(x, w, s = A(ws[l]))`` (``nn.modulated_conv``) + per-pixel noise
(N, 1, H, W) times a learned per-channel strength (initialised to 0, StyleGAN's layout; StyleGAN2 uses
one scalar per layer), + bias, leaky ReLU * sqrt 2. A ToRGB is the same 1 x 1 convolution without
demodulation or noise; the images of every resolution are upsampled and summed (StyleGAN2's "skip"
generator). Every weight has an equalised learning rate (``equalized.py``); every affine A starts with
bias 1, so s = A(w) starts around 1.

Departures from NVlabs for 28-pixel digits on a CPU: the layout ends at 28 x 28 (4 -> 7 -> 14 -> 28, so
MNIST needs no padding); channels are small (``channels(width)``: 64, 64, 32, 16 for width 16, against
512); resizing is bilinear (NVlabs: a transposed convolution with a [1, 3, 3, 1] FIR low-pass filter). Two
more, both options of the stylegan model (chapter 14 shows why): ``tanh=True`` squashes the summed image
into (-1, 1), as DCGAN's output does (NVlabs: none). Most of an MNIST digit is background at exactly -1;
without the tanh G must hit that level with a sum of four images, D can tell fakes by it, and in every run
here G then collapsed onto one digit within 400-1 750 steps; with it, the same 1 000-step run kept all ten
classes (QUALITY.md). ``rgb_init`` scales the ToRGB weights at initialisation (0.1: the first image has
std about 0.3 instead of 2.8).

``StyleGenerator`` adds what training and sampling need around the network: the running mean of w,
``w_avg`` (beta 0.995, updated once per D step by the variant), truncation w' = w_avg + psi (w - w_avg),
and the exponential moving average of all weights (``G_ema``, an ``AveragedModel``) which answers
whenever the module is in eval mode, as every StyleGAN figure is drawn from the average.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .. import nn
from ..autograd import Tensor, no_grad
from ..creation import randn, tensor, zeros
from ..nn import functional as F
from ..nn.modulated_conv import modulated_conv2d
from ..optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from .equalized import EqualLinear, act

W_AVG_BETA = 0.995  # NVlabs' w_avg_beta
RESOLUTIONS = (4, 7, 14, 28)
COARSE = 4  # ws[:4] drive the 4 x 4 and 7 x 7 layers ("coarse styles"), ws[4:] the 14 and 28 layers


def channels(width: int = 16, channel_max: int = 64) -> dict:
    """Feature maps per resolution: 16 * width / 2^b at block b = 0 (4 x 4), 1 (7), 2 (14), 3 (28), at
    most ``channel_max`` (width 16: 64, 64, 32, 16)."""
    return {res: min(channel_max, 8 * width >> b) for b, res in enumerate(RESOLUTIONS)}


class MappingNetwork(nn.Module):
    """z (N, z_dim) -> w (N, w_dim): normalise z to unit second moment (pixel norm), then ``layers``
    EqualLinear + lrelu with learning rate multiplier ``lr_mul``."""

    def __init__(self, z_dim=128, w_dim=128, layers=8, lr_mul=0.01):
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.net = nn.Sequential(
            *[EqualLinear(a, b, lr_mul=lr_mul, activation="lrelu") for a, b in zip(dims, dims[1:])]
        )

    def forward(self, z):
        z = z * ((z * z).mean(dim=1, keepdim=True) + 1e-8) ** -0.5
        return self.net(z)


class StyleConv(nn.Module):
    """(x (N, I, H, W), w (N, w_dim)) -> (N, O, H', W'): modulated 3 x 3 conv + noise + bias + lrelu;
    ``up`` = S resizes x to S x S first (bilinear)."""

    def __init__(self, in_channels, out_channels, w_dim, up=None, kernel_size=3):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(randn(out_channels, in_channels, kernel_size, kernel_size).array)
        self.noise_strength = nn.Parameter(zeros(out_channels).array)
        self.bias = nn.Parameter(zeros(out_channels).array)
        self.up, self.padding = up, kernel_size // 2
        self.gain = (in_channels * kernel_size * kernel_size) ** -0.5

    def forward(self, x, w, noise=None):
        if self.up:
            x = F.interpolate(x, size=(self.up, self.up), mode="bilinear", align_corners=False)
        # demodulation cancels this constant (NVlabs' He scale of the weight): kept to read as theirs
        y = modulated_conv2d(x, self.weight * self.gain, self.affine(w), padding=self.padding)
        n, c, h, wd = y.shape
        if noise is None:
            noise = randn(n, 1, h, wd, device=y.device, dtype=y.dtype)
        y = y + noise * self.noise_strength.reshape(1, c, 1, 1)
        return act(y + self.bias.reshape(1, c, 1, 1), "lrelu")


class ToRGB(nn.Module):
    """(x (N, I, H, W), w) -> (N, C, H, W): 1 x 1 modulated conv, no demodulation, + bias; the weight
    starts as N(0, 1) times ``init_scale``."""

    def __init__(self, in_channels, out_channels, w_dim, init_scale=1.0):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter((randn(out_channels, in_channels, 1, 1) * init_scale).array)
        self.bias = nn.Parameter(zeros(out_channels).array)
        self.gain = in_channels**-0.5

    def forward(self, x, w):
        s = self.affine(w) * self.gain
        y = modulated_conv2d(x, self.weight, s, demodulate=False)
        return y + self.bias.reshape(1, -1, 1, 1)


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, channels, 28, 28) (module docstring), through a tanh if ``tanh``;
    ``num_ws`` = 8.
    ``noise``: None (fresh N(0, 1) maps per layer) or a list of one (N, 1, H, W) tensor per StyleConv."""

    def __init__(self, w_dim=128, out_channels=1, width=16, channel_max=64, rgb_init=1.0, tanh=False):
        super().__init__()
        self.tanh = tanh
        ch = channels(width, channel_max)
        self.const = nn.Parameter(randn(ch[4], 4, 4).array)
        self.convs = nn.ModuleList([StyleConv(ch[4], ch[4], w_dim)])
        self.torgbs = nn.ModuleList([ToRGB(ch[4], out_channels, w_dim, rgb_init)])
        for lo, hi in zip(RESOLUTIONS, RESOLUTIONS[1:]):
            self.convs.append(StyleConv(ch[lo], ch[hi], w_dim, up=hi))
            self.convs.append(StyleConv(ch[hi], ch[hi], w_dim))
            self.torgbs.append(ToRGB(ch[hi], out_channels, w_dim, rgb_init))
        self.num_ws = len(self.convs) + 1  # each ToRGB shares its w with the next block's first conv

    def noise_shapes(self, n: int) -> list:
        """(n, 1, H, W) of each StyleConv's noise, in order."""
        return [(n, 1, r, r) for r in [4] + [r for r in RESOLUTIONS[1:] for _ in range(2)]]

    def forward(self, ws, noise=None):
        n = ws.shape[0]
        noise = noise if noise is not None else [None] * len(self.convs)
        x = self.const.reshape(1, *self.const.shape).expand(n, *self.const.shape)
        x = self.convs[0](x, ws[:, 0], noise[0])
        img = self.torgbs[0](x, ws[:, 1])
        for b in range(1, len(self.torgbs)):
            l0 = 2 * b - 1  # this block's first StyleConv and its w index
            x = self.convs[l0](x, ws[:, l0], noise[l0])
            x = self.convs[l0 + 1](x, ws[:, l0 + 1], noise[l0 + 1])
            size = (RESOLUTIONS[b], RESOLUTIONS[b])
            img = F.interpolate(img, size=size, mode="bilinear", align_corners=False)
            img = img + self.torgbs[b](x, ws[:, l0 + 2])
        return img.tanh() if self.tanh else img


class Generator(nn.Module):
    """z (N, z_dim) -> images (N, C, 28, 28): mapping, then synthesis with the same w at every layer;
    ``mapping_ws(z, psi)`` gives the (N, num_ws, w_dim) styles (truncated towards ``w_avg`` by psi)."""

    def __init__(
        self,
        z_dim=128,
        w_dim=128,
        mapping_layers=8,
        channels_out=1,
        width=16,
        lr_mul=0.01,
        rgb_init=1.0,
        tanh=False,
    ):
        super().__init__()
        self.z_dim, self.w_dim = z_dim, w_dim
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, lr_mul)
        self.synthesis = SynthesisNetwork(w_dim, channels_out, width, rgb_init=rgb_init, tanh=tanh)
        self.num_ws = self.synthesis.num_ws
        self.register_buffer("w_avg", zeros(w_dim))

    def mapping_ws(self, z, truncation_psi: float = 1.0, update_w_avg: bool = False) -> Tensor:
        """(N, num_ws, w_dim) styles of z, truncated towards ``w_avg`` by psi; ``update_w_avg`` folds the
        batch's mean w into ``w_avg`` first (training, once per D step)."""
        w = self.mapping(z)
        if update_w_avg:
            with no_grad():
                m = w.detach().mean(dim=0).array
                self.w_avg.array[...] = m + W_AVG_BETA * (self.w_avg.array - m)
                self.w_avg._bump_version()
        if truncation_psi != 1.0:
            w = self.w_avg + truncation_psi * (w - self.w_avg)
        return w.reshape(w.shape[0], 1, self.w_dim).expand(w.shape[0], self.num_ws, self.w_dim)

    def forward(self, z, truncation_psi: float = 1.0, noise=None):
        return self.synthesis(self.mapping_ws(z, truncation_psi), noise)


class StyleGenerator(nn.Module):
    """The trained ``Generator`` (``.G``) and its exponential moving average (``.G_ema``, no gradients).

    In training mode ``forward(z)`` is G's, with fresh noise from minigan's default generator. In eval
    mode it is G_ema's, with ``truncation_psi`` (in [0, 1]: 1 none, 0 every sample the average image) and,
    unless ``noise`` is given, noise maps that are a function of each sample's z and ``noise_seed``
    (``eval_noise``): the same z give the same images, and sampling never advances the training's
    random stream.
    ``update_ema(beta)`` folds G's weights into G_ema: theta_ema <- beta theta_ema + (1 - beta) theta
    (buffers, w_avg among them, are copied)."""

    def __init__(self, **kwargs):
        super().__init__()
        self.G = Generator(**kwargs)
        self.G_ema = AveragedModel(self.G)
        self.G_ema.update_parameters(self.G)  # an average of one model, so the next update blends
        for p in self.G_ema.parameters():
            p.requires_grad = False
        self.z_dim, self.num_ws = self.G.z_dim, self.G.num_ws
        self.noise_seed = 0
        self._ema_beta = None

    def update_ema(self, beta: float) -> None:
        if beta != self._ema_beta:  # the averaging function of this beta, made once, not every step
            self.G_ema.multi_avg_fn, self._ema_beta = get_ema_multi_avg_fn(beta), beta
        self.G_ema.update_parameters(self.G)

    @property
    def current(self) -> Generator:
        """The network that answers now: G in training mode, G_ema in eval mode."""
        return self.G if self.training else self.G_ema.module

    def eval_noise(self, z) -> list:
        """The noise maps (one (N, 1, H, W) tensor per StyleConv) of eval mode: sample i's drawn from a
        generator seeded with ``noise_seed`` and a hash of z[i], so an image depends on its z alone,
        never on the batch it came in (or on minigan's default generator)."""
        zs = np.ascontiguousarray(z.numpy(), dtype=np.float32)
        shapes = [s[1:] for s in self.G.synthesis.noise_shapes(1)]
        maps = [np.empty((len(zs), *s), np.float32) for s in shapes]
        for i, row in enumerate(zs):
            key = np.frombuffer(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), np.uint32)
            rng = np.random.default_rng([self.noise_seed, 14, *key.tolist()])
            for m, s in zip(maps, shapes):
                m[i] = rng.standard_normal(s, dtype=np.float32)
        return [tensor(m, device=z.device, dtype=z.dtype) for m in maps]

    def forward(self, z, truncation_psi: float = 1.0, noise=None):
        if not 0.0 <= truncation_psi <= 1.0:
            raise ValueError(f"truncation_psi must be in [0, 1], got {truncation_psi}")
        if not self.training and noise is None:
            noise = self.eval_noise(z)
        return self.current(z, truncation_psi, noise)
