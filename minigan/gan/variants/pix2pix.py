"""pix2pix (Isola et al., 2017): a conditional GAN that translates an input image a into an output b, trained
on pairs (a, b). Chapter 12 (paired translation).

G is a U-Net (``unet.py``) with no noise input (dropout is its only noise); D judges pairs with a
PatchGAN (``patchgan.py``). The objective adds an L1 term that ties the output to the target:

    G* = arg min_G max_D  L_cGAN(G, D) + lambda * E |b - G(a)|_1,       lambda = 100

    D step:  (a, b) ~ pairs;  fake = G(a)
             L_D = 1/2 [ BCE(D(a, b), 1) + BCE(D(a, fake), 0) ]       (the paper halves D's loss, so D
                                                                      learns more slowly than G)
    G step:  L_G = BCE(D(a, fake), 1) + lambda * mean |fake - b|     (non-saturating; the same fake)

with every BCE averaged over D's patches. L1 alone (``lambda_gan=0``, the model ``l1``) gives the mean
of the plausible outputs: blur wherever the input leaves the answer open. The adversarial term is what
rewards a sharp choice among them.

As in the official code, G translates each batch once: the D step uses the fake as a constant and the G
step back-propagates through the same forward pass (kept between the two moves of one step), so
``step()`` costs one G forward, not two. With ``lambda_gan=0`` D is still trained, though G ignores it:
its D(x) and D(G(z)) then show how easily a blurry output is told apart.

A batch is (a, b): inputs (N, C_a, s, s) and targets (N, C_b, S, S), float32 in [-1, 1].
"""

from __future__ import annotations

from .. import losses
from .base import Variant

LAMBDA_L1 = 100.0


class Pix2Pix(Variant):
    """The pix2pix game (module docstring); ``lambda_l1`` weighs the L1 term, ``lambda_gan`` the adversarial
    one (0: the L1-only regression model, for comparison)."""

    name = "pix2pix"
    translation = True  # G maps an input image to an output image; no noise, no labels

    def __init__(self, lambda_l1: float = LAMBDA_L1, lambda_gan: float = 1.0):
        super().__init__("nonsaturating")
        self.lambda_l1, self.lambda_gan = float(lambda_l1), float(lambda_gan)
        self._pair = None  # (a, b, G(a)) of the last D step, for the G step of the same training step

    def d_loss(self, t, batch):
        a, b = batch
        fake = t.G(a)
        self._pair = (a, b, fake)
        real_out = t.D(a, b)
        fake_out = t.D(a, fake.detach())
        loss = 0.5 * losses.d_loss("nonsaturating", real_out, fake_out)
        return loss, self.adversarial_record(loss, None, real_out, fake_out)

    def g_loss(self, t, n):
        if self._pair is None:  # a G step without a D step before it: translate a fresh batch
            a, b = t.real_batch(n)
            fake = t.G(a)
        else:
            a, b, fake = self._pair
            self._pair = None
        gan = losses.g_loss("nonsaturating", t.D(a, fake))
        l1 = (fake - b).abs().mean()
        # the L1-only model (lambda_gan 0) keeps gan for its record but does not back-propagate through D
        loss = self.lambda_gan * gan + self.lambda_l1 * l1 if self.lambda_gan else self.lambda_l1 * l1
        return loss, {"loss_G": float(loss.item()), "loss_G_gan": float(gan.item()), "l1": float(l1.item())}

    def generate(self, G, a, labels=None):
        """G's translation of the inputs ``a`` (the trainer's "noise" slot carries the input images)."""
        if labels is not None:
            raise ValueError("a pix2pix generator takes an input image, not labels")
        return G(a)

    def generator(self, G, direction=None):
        """The network that translates (pix2pix has one, and one direction)."""
        return G

    def input_problem(self, G, shape, direction=None) -> str | None:
        """Why inputs of ``shape`` (N, C, H, W) cannot be translated by ``G`` (None if they can)."""
        if shape[1] != G.in_channels:
            return f"this generator takes {G.in_channels}-channel images, got {shape[1]} channels"
        return G.check_size(shape[2], shape[3])

    def memory_probes(self, t, batch):
        """(module, inputs) pairs whose activations one step keeps: G once, D on the real and fake pair."""
        a, b = batch
        return [(t.G, (a,)), (t.D, (a, b)), (t.D, (a, b))]
