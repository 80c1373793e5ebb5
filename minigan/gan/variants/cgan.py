"""Conditional GAN (Mirza & Osindero, 2014): both players are given the class label y. Chapter 11.

G learns p(x | y) instead of p(x): it maps (z, y) to an image of class y, and D judges pairs (x, y), so a
good image of the wrong class is as fake as a bad one. The game is the unconditional one with y added:

    D step:  (x, y) ~ data;  fake = G(z, y) as a constant     (fakes for the batch's own labels, so D sees
             L_D = d_loss(D(x, y), D(fake, y)) [+ penalty]     the same label frequencies on both sides)
    G step:  y ~ uniform over the classes;  L_G = g_loss(D(G(z, y), y))

How the label enters (the models below; ``projection.py`` is another way):

    G: z (N, z_dim), y (N,) -> [z, e(y)] (N, z_dim + 10) -> the DCGAN generator of ``dcgan.py``
       e = Embedding(10, 10): a learned vector per class joined to the noise. (A one-hot y through G's
       first Linear is the same thing: that layer's columns for the one-hot ARE an embedding.)
    D: x (N, C, H, W), y -> [x, m(y)] (N, C + 1, H, W) -> the DCGAN discriminator -> (N, 1) logits
       m = Embedding(10, H * W) reshaped to one H x W map per class, joined as an extra input channel,
       so every convolution of D can compare the image with its label from the first layer on.

A batch is the pair (x float32 (N, C, H, W), y int64 (N,)) drawn by ``LabelledBatches``.
"""

from __future__ import annotations

from ... import nn
from ...autograd import no_grad
from ...ops.indexing import cat
from .. import losses
from ..averaged import averaged_generator
from ..dcgan import dcgan_discriminator, dcgan_generator, dcgan_init_
from ..registry import ModelSpec
from .base import Variant

N_CLASSES = 10


class Conditional(Variant):
    """The conditional game with G(z, y) and D(x, y) (module docstring); any loss and penalty."""

    name = "cgan"
    conditional = True
    labels_to_D = True  # ACGAN's D(x) is asked for y instead

    def __init__(self, loss="nonsaturating", penalty=None, gamma=None, n_classes=N_CLASSES, r1_every=1):
        super().__init__(loss, penalty, gamma, r1_every)
        self.n_classes = n_classes

    def d_loss(self, t, batch):
        x, y = batch
        with no_grad():
            x_fake = t.G(t.sample_z(x.shape[0]), y)
        real, pen = self.real_output(lambda v: t.D(v, y), x, t.step_count)
        fake = t.D(x_fake, y)
        loss = losses.d_loss(self.loss, real, fake)
        pen = self.fake_penalty(lambda v: t.D(v, y), x, x_fake, pen)
        return (loss if pen is None else loss + pen), self.adversarial_record(loss, pen, real, fake)

    def g_loss(self, t, n):
        y = self.fake_labels(t, n)
        loss = losses.g_loss(self.loss, t.D(t.G(t.sample_z(n), y), y))
        return loss, {"loss_G": float(loss.item())}

    def generate(self, G, z, labels=None):
        if labels is None:
            raise ValueError(f"the {self.name} generator is conditional: give it labels (N,) as well")
        return G(z, labels)


class LabelledGenerator(nn.Module):
    """G(z, y) = DCGAN G([z, e(y)]): z (N, z_dim), y int64 (N,) -> images (N, C, S, S) in [-1, 1]."""

    def __init__(self, image_size=28, channels=1, z_dim=100, width=64, n_classes=N_CLASSES, embed_dim=10):
        super().__init__()
        self.embed = nn.Embedding(n_classes, embed_dim)  # N(0, 1) rows, like the noise they join
        self.net = dcgan_init_(dcgan_generator(image_size, channels, z_dim + embed_dim, width))

    def forward(self, z, y):
        return self.net(cat([z, self.embed(y)], 1))


class LabelMapDiscriminator(nn.Module):
    """D(x, y) = DCGAN D([x, m(y)]): images (N, C, S, S), y int64 (N,) -> logits (N, 1)."""

    def __init__(self, image_size=28, channels=1, width=64, n_classes=N_CLASSES):
        super().__init__()
        self.side = image_size
        self.embed = nn.Embedding(n_classes, image_size * image_size)
        self.net = dcgan_init_(dcgan_discriminator(image_size, channels + 1, width))

    def forward(self, x, y):
        m = self.embed(y).reshape(x.shape[0], 1, self.side, self.side)
        return self.net(cat([x, m], 1))


class LabelledBatches:
    """Real batches with their labels: ``sample(n, generator)`` -> (x (n, C, H, W), y int64 (n,))."""

    def __init__(self, data):
        self.data = data

    def sample(self, n: int, generator=None):
        return self.data.sample_labelled(n, generator)


def conditional_variant(config: dict) -> Conditional:
    return Conditional(config["loss"], config["penalty"], config["gamma"], r1_every=config.get("r1_every", 1))


def make_models(config: dict):
    """(G, D) of the cgan model for 28 x 28 single-channel images (MNIST, Fashion-MNIST)."""
    G = LabelledGenerator(28, 1, config["z_dim"], config.get("width", 64))
    return averaged_generator(G, config), LabelMapDiscriminator(28, 1, config.get("width", 64))


# every conditional model may sample from a moving average of G (``minigan.gan.averaged``; 0: none)
CONDITIONAL_DEFAULTS = {"g_ema_kimg": 0.0}


MODEL = ModelSpec(
    "cgan",
    "conditional DCGAN: label embedding joined to z, a label map joined to D's input (chapter 11)",
    make_models,
    make_variant=conditional_variant,
    make_batches=lambda data, config: LabelledBatches(data),
    defaults=CONDITIONAL_DEFAULTS,
    conditional=True,
)
