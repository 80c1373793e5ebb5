"""Projection discriminator (Miyato & Koyama, 2018) with class-conditional batch norm in G. Chapter 11.

The game is cgan's (``cgan.Conditional``); only the way the label enters the networks changes.

D: if D's logit is read as log p_data(x, y) / p_G(x, y) and the class posteriors are log-linear in D's
features phi(x), the logit takes the form

    D(x, y) = psi(phi(x)) + <e(y), phi(x)>        e = Embedding(10, dim phi): one vector per class

an unconditional score plus the inner product (a "projection") of the features with the class's
vector. Joining y to the input (cgan) lets D use the label in any way at all; the projection says how,
which is why it trains better on many classes. Here phi is the DCGAN trunk, flattened (N, 128 * 7 * 7).

G: class-conditional batch norm. Every batch norm of the DCGAN generator normalises without an affine of
its own, then scales and shifts with the gain and bias of the sample's class,

    out = gamma[y] * (h - mean) / sqrt(var + eps) + beta[y]       gamma, beta: (10, C) tables

so the label modulates every layer of G rather than only its input (the idea style-based generators
grow into).
"""

from __future__ import annotations

from ... import nn
from ...nn import init
from ..averaged import averaged_generator
from ..dcgan import _stages, dcgan_init_, dcgan_trunk
from ..registry import ModelSpec
from .cgan import CONDITIONAL_DEFAULTS, N_CLASSES, LabelledBatches, conditional_variant


class ConditionalBatchNorm(nn.Module):
    """Batch norm with a gain and a bias per class: x (N, C) or (N, C, H, W), y int64 (N,) -> x's shape.
    gamma starts N(1, 0.02) and beta 0, the DCGAN initialisation of a batch norm, for every class."""

    def __init__(self, num_features: int, n_classes: int = N_CLASSES, images: bool = True):
        super().__init__()
        self.bn = (nn.BatchNorm2d if images else nn.BatchNorm1d)(num_features, affine=False)
        self.gamma, self.beta = nn.Embedding(n_classes, num_features), nn.Embedding(n_classes, num_features)
        init.normal_(self.gamma.weight, 1.0, 0.02)
        init.zeros_(self.beta.weight)

    def forward(self, x, y):
        shape = (x.shape[0], x.shape[1]) + (1,) * (x.ndim - 2)
        return self.gamma(y).reshape(shape) * self.bn(x) + self.beta(y).reshape(shape)


class ProjectionGenerator(nn.Module):
    """The DCGAN generator with conditional batch norms: z (N, z_dim), y (N,) -> (N, C, S, S) in [-1, 1]."""

    def __init__(self, image_size=28, channels=1, z_dim=100, width=64, n_classes=N_CLASSES):
        super().__init__()
        s0, n = _stages(image_size)
        c = width * 2 ** (n - 1)
        self.base = (c, s0, s0)
        self.fc = nn.Linear(z_dim, c * s0 * s0)
        self.bn0 = ConditionalBatchNorm(c * s0 * s0, n_classes, images=False)
        self.ups, self.bns = nn.ModuleList(), nn.ModuleList()
        for _ in range(n - 1):
            self.ups.append(nn.ConvTranspose2d(c, c // 2, 4, 2, 1))
            self.bns.append(ConditionalBatchNorm(c // 2, n_classes))
            c //= 2
        self.out = nn.ConvTranspose2d(c, channels, 4, 2, 1)
        for m in (self.fc, *self.ups, self.out):
            dcgan_init_(m)

    def forward(self, z, y):
        h = self.bn0(self.fc(z), y).relu().reshape(z.shape[0], *self.base)
        for up, bn in zip(self.ups, self.bns):
            h = bn(up(h), y).relu()
        return self.out(h).tanh()


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + <e(y), phi(x)>: x (N, C, S, S), y int64 (N,) -> logits (N, 1)."""

    def __init__(self, image_size=28, channels=1, width=64, n_classes=N_CLASSES):
        super().__init__()
        self.features, self.psi = dcgan_trunk(image_size, channels, width)  # phi and psi
        self.embed = nn.Embedding(n_classes, self.psi.in_features)
        init.normal_(self.embed.weight, 0.0, 0.02)  # as D's other weights: N(1) rows would swamp psi

    def forward(self, x, y):
        f = self.features(x)
        return self.psi(f) + (self.embed(y) * f).sum(1, keepdim=True)


def make_models(config: dict):
    """(G, D) of the projection model for 28 x 28 single-channel images."""
    width = config.get("width", 64)
    G = averaged_generator(ProjectionGenerator(28, 1, config["z_dim"], width), config)
    return G, ProjectionDiscriminator(28, 1, width)


MODEL = ModelSpec(
    "projection",
    "projection discriminator with class-conditional batch norm in G (chapter 11)",
    make_models,
    make_variant=conditional_variant,
    make_batches=lambda data, config: LabelledBatches(data),
    defaults=CONDITIONAL_DEFAULTS,
    conditional=True,
)
