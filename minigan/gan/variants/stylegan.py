"""StyleGAN2's game (Karras et al. 2020): style mixing, lazy R1 and the moving average of G. Chapter 14.

The losses are the plain non-saturating game of chapter 06; what StyleGAN adds is around them:

    fakes:   z ~ N(0, I) -> ws = mapping(z), the same w for every layer; with probability ``mixing``
             (0.9) a second z2 takes over from a random layer c in [1, num_ws) on: ws[:, c:] =
             mapping(z2)   (style-mixing regularisation: no layer may rely on its neighbours sharing a w)
    D step:  L_D = softplus(D(fake)) + softplus(-D(x))                              (non-saturating)
             every ``r1_every`` (16) steps also + r1_every * gamma / 2 * E ||grad_x D(x)||^2
             (lazy R1: the penalty changes slowly, so one evaluation in 16, scaled by 16, is as good
             as 16 and costs 1/16 of the double backward; each record's ``penalty`` is the term of the
             last step that computed it)
    G step:  L_G = softplus(-D(G(ws)))
    after both moves:  G_ema <- beta G_ema + (1 - beta) G, with beta = 0.5^(batch / (ema_kimg * 1000))
             (half-life ``ema_kimg`` thousand images, NVlabs' 10); w_avg is updated in every D step's
             mapping (beta 0.995)

A batch is a Tensor of real images (N, C, 28, 28). ``t.G`` is a ``stylegan_g.StyleGenerator``.
Departures from NVlabs: the lazy R1 term joins that step's D loss (NVlabs: a separate optimizer step on
real images, "Dreg"), and Adam's learning rate and betas are not rescaled by 16 / 17 for it.
"""

from __future__ import annotations

from ...autograd import no_grad
from ...ops.indexing import cat
from ...random import default_generator
from .. import losses
from ..registry import ModelSpec
from .base import Variant

DEFAULTS = {
    "steps": 7600,  # the DCGAN default's wall-clock budget here (conditional_bench --own-batch)
    "batch_size": 32,
    "lr": 0.002,
    "betas": [0.0, 0.99],
    "penalty": "r1",
    "gamma": 1.0,  # the DCGAN default's R1 weight (NVlabs: 0.01); it balanced the classes: chapter 14
    "lr_decay_steps": 0,
    "z_dim": 128,
    "w_dim": 128,
    "mapping_layers": 8,
    "width": 16,
    "rgb_init": 0.1,  # ToRGB weights x 0.1 at init: the image starts near 0, not with std 2.8
    "tanh": True,  # tanh on the summed image (DCGAN's output; NVlabs has none): chapter 14
    "mbstd_group": 32,  # ADA's CIFAR-10 setting (the whole batch); NVlabs' default is 4
    "r1_every": 16,
    "style_mixing": 0.9,
    "ema_kimg": 10.0,
}


class StyleGAN2(Variant):
    """Non-saturating loss, lazy R1 of weight ``gamma`` every ``r1_every`` steps, style mixing with
    probability ``mixing``, G's EMA of half-life ``ema_kimg`` thousand images at ``batch_size``."""

    name = "stylegan"
    style_based = True

    def __init__(self, gamma=0.01, r1_every=16, mixing=0.9, ema_kimg=10.0, batch_size=32):
        super().__init__("nonsaturating", "r1" if gamma > 0 else None, gamma, r1_every)
        if not 0.0 <= mixing <= 1.0:
            raise ValueError(f"style mixing probability must be in [0, 1], got {mixing}")
        self.mixing = float(mixing)
        self.ema_beta = 0.5 ** (batch_size / (ema_kimg * 1000.0))

    def styles(self, t, n: int, update_w_avg: bool = False):
        """ws (n, num_ws, w_dim) for fresh noise, mixed with a second noise's from a random layer on."""
        G = t.G.G
        ws = G.mapping_ws(t.sample_z(n), update_w_avg=update_w_avg)
        rng = default_generator()  # checkpointed with the run
        if self.mixing > 0 and rng.random() < self.mixing:
            c = int(rng.integers(1, G.num_ws))
            ws2 = G.mapping_ws(t.sample_z(n))
            ws = cat([ws[:, :c], ws2[:, c:]], 1)
        return ws

    def d_loss(self, t, x_real):
        with no_grad():
            x_fake = t.G.G.synthesis(self.styles(t, x_real.shape[0], update_w_avg=True))
        real, pen = self.real_output(t.D, x_real, t.step_count)  # lazy R1 (``Variant``)
        fake = t.D(x_fake)
        loss = losses.d_loss("nonsaturating", real, fake)
        return (loss if pen is None else loss + pen), self.adversarial_record(loss, pen, real, fake)

    def g_loss(self, t, n):
        loss = losses.g_loss("nonsaturating", t.D(t.G.G.synthesis(self.styles(t, n))))
        return loss, {"loss_G": float(loss.item())}

    def after_step(self, t) -> None:
        t.G.update_ema(self.ema_beta)


def make_variant(config: dict) -> StyleGAN2:
    if config["loss"] != "nonsaturating":
        raise ValueError(f"--model stylegan plays the non-saturating game; --loss {config['loss']} is not it")
    if config["penalty"] not in (None, "r1"):
        raise ValueError(f"--model stylegan uses lazy R1 (or none); --penalty {config['penalty']} is not it")
    gamma = 0.0 if config["penalty"] is None else config["gamma"]
    return StyleGAN2(gamma, config["r1_every"], config["style_mixing"], config["ema_kimg"],
                     config["batch_size"])  # fmt: skip


def evaluate(data, G, D, variant, config, n, seed, step=None) -> dict:
    """FD, class KL, precision / recall, the truncation sweep and path lengths (``style_eval.py``)."""
    from ..style_eval import evaluate as style_evaluate

    return style_evaluate(data, G, D, variant, config, n, seed, step)


def make_models(config: dict):
    """(StyleGenerator, ResidualDiscriminator) for 28 x 28 single-channel images."""
    from ..registry import DataUsageError
    from ..stylegan_d import ResidualDiscriminator
    from ..stylegan_g import StyleGenerator

    if config.get("image_size", 28) != 28:
        raise ValueError(f"the style-based generator makes 28 x 28 images, not {config['image_size']}")
    b, g = config["batch_size"], config["mbstd_group"]
    if b % min(g, b):
        raise DataUsageError(
            f"--batch-size {b}: D's minibatch std takes groups of mbstd_group = {g}; use a batch size below "
            f"{g} or a multiple of it"
        )
    # runs written before rgb_init / tanh existed have neither key: they were built without a tanh
    G = StyleGenerator(z_dim=config["z_dim"], w_dim=config["w_dim"], mapping_layers=config["mapping_layers"],
                       width=config["width"], rgb_init=config.get("rgb_init", 1.0),
                       tanh=config.get("tanh", False))  # fmt: skip
    return G, ResidualDiscriminator(1, config["width"], config["mbstd_group"])


MODEL = ModelSpec(
    "stylegan",
    "StyleGAN2 in miniature: mapping network, modulated convolutions, noise, style mixing, lazy R1, "
    "EMA of G (chapter 14)",
    make_models,
    make_variant=make_variant,
    defaults=DEFAULTS,
    evaluate=evaluate,
)
