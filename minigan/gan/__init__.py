"""The GAN game: losses, gradient penalties, the trainer with explicit d_step / g_step, toy models, the
dataset registry and the Dirac-GAN. Chapters 06 (the game), 07 (mode collapse, Dirac-GAN), 10 (stabilising).

    trainer = mg.gan.Trainer(G, D, opt_G, opt_D, sample_real, z_dim=2, loss="nonsaturating")
    record = trainer.step()   # k D steps, then one G step; record["loss_D"], record["D_x"], ...
"""

from . import dirac, losses, models, penalties, registry
from .losses import LOSSES, d_loss, g_loss, value
from .models import mlp_discriminator, mlp_generator
from .penalties import gradient_penalty, r1_penalty
from .trainer import NonFiniteError, Trainer, grad_norm
