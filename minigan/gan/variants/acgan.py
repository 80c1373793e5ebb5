"""Auxiliary-classifier GAN (Odena, Olah & Shlens, 2017): D also names the class. Chapter 11.

Instead of being shown the label, D is asked for it. D has two heads on one trunk, a real / fake logit
d(x) and class logits c(x) (10-way), and BOTH players add the class cross-entropy CE:

    D step:  (x, y) ~ data;  fake = G(z, y) as a constant
             L_D = d_loss(d(x), d(fake)) + w * [CE(c(x), y) + w_f * CE(c(fake), y)]   [+ penalty on d]
    G step:  y ~ uniform;  fake = G(z, y);  L_G = g_loss(d(fake)) + w * CE(c(fake), y)

So G is rewarded for images D classifies as the class asked for, on top of looking real. ``w`` is the
config's ``cls_weight`` (1, as in the paper). The record adds ``cls_D`` (the bracket above), ``cls_G``
and ``acc_real`` (D's class accuracy on the real batch).

``w_f`` is ``cls_fake_weight``: 1 in the paper, where D also learns to name G's fakes by the label they were
drawn for. That can let the two players agree on a private code: once D has learnt how G draws a "2", G
is paid for drawing it that way even when it looks like a 7 to anyone else. With ``w_f = 0`` the class head
is a classifier of real digits only, so G is paid only for fakes that a real-digit classifier names
correctly, which is what conditional accuracy measures (chapter 11 compares the two).

Models: G is the cgan generator (embedding joined to z, ``cgan.py``); D is the DCGAN discriminator with
its last Linear split into the two heads, each reading the same (N, 128 * 7 * 7) trunk features.
"""

from __future__ import annotations

from ... import nn
from ...autograd import no_grad
from ...nn import functional as F
from .. import losses
from ..averaged import averaged_generator
from ..dcgan import dcgan_init_, dcgan_trunk
from ..registry import ModelSpec
from .cgan import CONDITIONAL_DEFAULTS, N_CLASSES, Conditional, LabelledBatches, LabelledGenerator


class ACGAN(Conditional):
    """The ACGAN game (module docstring): D returns (real / fake logits (N, 1), class logits (N, K))."""

    name = "acgan"
    labels_to_D = False

    def __init__(
        self, loss="nonsaturating", penalty=None, gamma=None, cls_weight=1.0, cls_fake_weight=1.0, r1_every=1
    ):
        super().__init__(loss, penalty, gamma, r1_every=r1_every)
        self.cls_weight, self.cls_fake_weight = float(cls_weight), float(cls_fake_weight)

    def d_loss(self, t, batch):
        x, y = batch
        with no_grad():
            x_fake = t.G(t.sample_z(x.shape[0]), y)
        heads = {}

        def d_real(v):  # the real / fake head, keeping the class head of the same forward pass
            heads["real"] = (out := t.D(v))[1]
            return out[0]

        real, pen = self.real_output(d_real, x, t.step_count)
        fake, c_fake = t.D(x_fake)
        loss = losses.d_loss(self.loss, real, fake)
        cls = F.cross_entropy(heads["real"], y)
        if self.cls_fake_weight:  # 0: the class head never learns from fakes (module docstring)
            cls = cls + self.cls_fake_weight * F.cross_entropy(c_fake, y)
        pen = self.fake_penalty(lambda v: t.D(v)[0], x, x_fake, pen)
        total = loss + self.cls_weight * cls
        record = self.adversarial_record(loss, pen, real, fake)
        with no_grad():
            record["acc_real"] = float((heads["real"].argmax(1) == y).float().mean().item())
        record["cls_D"] = float(cls.item())
        return (total if pen is None else total + pen), record

    def g_loss(self, t, n):
        y = self.fake_labels(t, n)
        d, c = t.D(t.G(t.sample_z(n), y))
        adv, cls = losses.g_loss(self.loss, d), F.cross_entropy(c, y)
        return adv + self.cls_weight * cls, {"loss_G": float(adv.item()), "cls_G": float(cls.item())}


class AuxClassifierDiscriminator(nn.Module):
    """x (N, C, S, S) -> (real / fake logits (N, 1), class logits (N, n_classes)) from one DCGAN trunk."""

    def __init__(self, image_size=28, channels=1, width=64, n_classes=N_CLASSES):
        super().__init__()
        self.features, self.adv = dcgan_trunk(image_size, channels, width)  # (N, 128 * 7 * 7) for MNIST
        self.cls = dcgan_init_(nn.Linear(self.adv.in_features, n_classes))

    def forward(self, x):
        f = self.features(x)
        return self.adv(f), self.cls(f)


def make_models(config: dict):
    """(G, D) of the acgan model for 28 x 28 single-channel images."""
    width = config.get("width", 64)
    G = averaged_generator(LabelledGenerator(28, 1, config["z_dim"], width), config)
    return G, AuxClassifierDiscriminator(28, 1, width)


def make_variant(c: dict) -> ACGAN:
    """The run's game; runs from before cls_fake_weight existed keep the paper's fake term."""
    return ACGAN(c["loss"], c["penalty"], c["gamma"], c["cls_weight"], c.get("cls_fake_weight", 1.0),
                 c.get("r1_every", 1))  # fmt: skip


MODEL = ModelSpec(
    "acgan",
    "auxiliary-classifier GAN: D also predicts the class, both players add its cross-entropy (chapter 11)",
    make_models,
    make_variant=make_variant,
    make_batches=lambda data, config: LabelledBatches(data),
    defaults={"cls_weight": 1.0, "cls_fake_weight": 1.0, **CONDITIONAL_DEFAULTS},
    conditional=True,
)
