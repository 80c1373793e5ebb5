"""What every GAN variant shares: the ``Variant`` interface the game loop calls. Chapter 06 (the game),
chapter 11 (conditional GANs) and every variant after it.

The loop (``minigan.gan.Trainer``) owns the order of the moves: k D steps, then one G step with D's
weights frozen; zeroing, back-propagating and applying the gradients; the record, the NaN stop, the state
and the checkpoints. A variant owns only what one move computes:

    d_loss(t, batch) -> (L_D, record)   L_D: the 0-d tensor D minimises (penalties included), built from
                                        the real ``batch`` and fresh fakes; record: floats to report
    g_loss(t, n)     -> (L_G, record)   L_G: the 0-d tensor G minimises for a batch of n fakes
    generate(G, z, labels)              G's samples for noise z (and labels, for a conditional variant)

``t`` is the trainer: the variant reads ``t.G``, ``t.D``, ``t.sample_z``, ``t.device`` (and, for a
second real batch, ``t.real_batch(n)``) from it. A
``batch`` is what the trainer's ``sample_real(n)`` returns, as Tensors: an image batch x for the
unconditional game, (x, y) for a conditional one, (input, target) or (a, b) for the translation
variants of chapters 12-13, whatever a variant documents otherwise.

A translation variant (``translation = True``: pix2pix, CycleGAN) has no noise: its G maps images to
images, and it adds ``generator(G, direction)``, ``input_problem(G, shape, direction)`` (for ``minigan
translate``) and ``memory_probes(t, batch)`` (the passes one step keeps, for the memory check).

Every record holds ``loss_D`` (the adversarial part of L_D, without penalties), ``penalty``, ``D_x``,
``D_G_z``, ``V`` (``adversarial_record``) and ``loss_G``; a variant adds its own terms (the class
cross-entropy of ACGAN, the supervised loss of the semi-supervised GAN, ...).
"""

from __future__ import annotations

from ...autograd import Tensor, no_grad
from ...creation import randint
from ...nn import functional as F
from .. import losses
from ..averaged import update_averages
from ..penalties import gradient_penalty, r1_penalty

PENALTIES = (None, "wgan-gp", "r1")
DEFAULT_GAMMA = {"wgan-gp": 10.0, "r1": 1.0}


class Variant:
    """Base class: an adversarial ``loss`` (one of ``losses.LOSSES``) with an optional ``penalty`` on D
    (None, "r1" on real data, "wgan-gp" on interpolates) of weight ``gamma`` (default 1 for R1, 10 for
    WGAN-GP). Subclasses implement ``d_loss`` and ``g_loss``.

    ``r1_every`` = k > 1 makes R1 lazy (Karras et al. 2020): it is computed on the D steps whose step
    count is a multiple of k only, with weight k * gamma, so its average over k steps is the same term at
    1/k of the double backward's cost (R1 changes slowly with D's weights, which is why this works); each
    record's ``penalty`` then holds the last computed term."""

    name = "gan"
    conditional = False  # True: G takes labels, and sampling may ask for them
    translation = False  # True: G maps input images to images (pix2pix, CycleGAN), no noise, no labels
    directions: tuple = ()  # a translation with two generators names its directions ("AtoB", "BtoA")
    labels_to_D = False  # True: D is called D(x, y)
    style_based = False  # True: G has a mapping network, truncation and style mixing (chapter 14)
    n_classes = 0

    def __init__(self, loss: str = "nonsaturating", penalty: str | None = None, gamma: float | None = None,
                 r1_every: int = 1):  # fmt: skip
        losses.check_loss(loss)
        if penalty not in PENALTIES:
            raise ValueError(f"unknown penalty {penalty!r}; valid: none, wgan-gp, r1")
        if int(r1_every) != r1_every or r1_every < 1:
            raise ValueError(f"r1_every must be an integer >= 1 (1: R1 on every D step), got {r1_every!r}")
        self.loss, self.penalty = loss, penalty
        self.gamma = DEFAULT_GAMMA.get(penalty, 0.0) if gamma is None else float(gamma)
        self.r1_every = int(r1_every)
        self.last_r1 = 0.0  # lazy R1: the last computed term, reported by every record (checkpointed)

    def d_loss(self, t, batch) -> tuple[Tensor, dict]:
        raise NotImplementedError

    def g_loss(self, t, n: int) -> tuple[Tensor, dict]:
        raise NotImplementedError

    def generate(self, G, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G's samples for noise ``z``; an unconditional G takes no labels."""
        if labels is not None:
            raise ValueError(f"the {self.name} generator is unconditional: it takes no labels")
        return G(z)

    def after_step(self, t) -> None:
        """Bookkeeping after both moves of a step: the moving averages of G and D where they are
        ``Averaged`` (StyleGAN keeps its own average of G)."""
        update_averages(t.G, t.D)

    def state_dict(self) -> dict:
        """The variant's own training state: lazy R1's last term (the records of a resumed run go on
        reporting it); CycleGAN's image pools go here; moving averages live in the networks
        (``minigan.gan.averaged``)."""
        return {"last_r1": self.last_r1} if self.r1_every > 1 else {}

    def load_state_dict(self, state: dict) -> None:
        self.last_r1 = float(state.get("last_r1", 0.0))

    # -- helpers the variants share ------------------------------------------------------------------
    def real_output(self, D, x_real: Tensor, step: int = 0) -> tuple[Tensor, Tensor | None]:
        """(D(x_real), R1 penalty or None) for the D step after ``step`` completed steps: with R1 the
        penalty reuses the forward pass it needs; lazy R1 computes it when ``step`` % r1_every == 0."""
        if self.penalty == "r1" and step % self.r1_every == 0:
            pen, out = r1_penalty(D, x_real, self.gamma * self.r1_every, return_output=True)
            if self.r1_every > 1:
                self.last_r1 = float(pen.item())  # what the records report until the next one
            return out, pen
        return D(x_real), None

    def fake_penalty(self, D, x_real: Tensor, x_fake: Tensor, pen: Tensor | None) -> Tensor | None:
        """``pen`` plus the WGAN-GP term on interpolates of x_real and x_fake, when that is the penalty."""
        if self.penalty == "wgan-gp":
            return gradient_penalty(D, x_real, x_fake, self.gamma)
        return pen

    def report(self, out: Tensor) -> float:
        """Mean D output as reported: a probability for the probabilistic losses, the raw output otherwise."""
        with no_grad():
            d = F.sigmoid(out) if self.loss in losses.PROBABILISTIC else out
            return float(d.mean().item())

    def adversarial_record(self, loss: Tensor, pen: Tensor | None, real: Tensor, fake: Tensor) -> dict:
        """loss_D, penalty, D_x, D_G_z and V = E log D(x) + E log(1 - D(G(z))) of one D step's logits."""
        with no_grad():
            v = float(losses.value(real.detach(), fake.detach()).item())
        lazy = self.penalty == "r1" and self.r1_every > 1  # ``real_output`` keeps its last term
        return {
            "loss_D": float(loss.item()),
            "penalty": self.last_r1 if lazy else 0.0 if pen is None else float(pen.item()),
            "D_x": self.report(real),
            "D_G_z": self.report(fake),
            "V": v,
        }

    def fake_labels(self, t, n: int) -> Tensor:
        """n labels for fakes, uniform over the classes, from minigan's default generator (checkpointed)."""
        return randint(0, self.n_classes, (n,), device=t.device)
