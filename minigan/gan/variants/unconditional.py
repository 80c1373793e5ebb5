"""The unconditional game of Goodfellow et al. (2014): the toy GANs of chapters 06-07 and DCGAN (08).

    D step:  fake = G(z) as a constant;  L_D = d_loss(D(x), D(fake)) [+ penalty]
    G step:  L_G = g_loss(D(G(z)))

``losses.py`` has the objectives (minimax, non-saturating, LSGAN, hinge, Wasserstein), ``penalties.py``
the R1 and WGAN-GP terms. A batch is a Tensor of real samples x (N, ...).
"""

from __future__ import annotations

from ...autograd import no_grad
from .. import losses
from .base import Variant


class Unconditional(Variant):
    name = "gan"

    def d_loss(self, t, x_real):
        with no_grad():
            x_fake = t.G(t.sample_z(x_real.shape[0]))
        real, pen = self.real_output(t.D, x_real, t.step_count)
        fake = t.D(x_fake)
        loss = losses.d_loss(self.loss, real, fake)
        pen = self.fake_penalty(t.D, x_real, x_fake, pen)
        total = loss if pen is None else loss + pen
        return total, self.adversarial_record(loss, pen, real, fake)

    def g_loss(self, t, n):
        loss = losses.g_loss(self.loss, t.D(t.G(t.sample_z(n))))
        return loss, {"loss_G": float(loss.item())}
