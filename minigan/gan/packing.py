"""Packing (PacGAN): the discriminator judges m samples at once. Chapter 07 (mode collapse).

Lin, Khetan, Fanti and Oh (2018), "PacGAN: the power of two samples in generative adversarial networks":
instead of one sample, D sees m independent samples from the same source (all real or all generated),
concatenated into one input. A generator that has dropped modes produces packs that are visibly too
uniform (m samples from few modes), which a packed D can detect and a single-sample D cannot; the paper
shows this penalises mode collapse. Nothing else changes: the losses, the trainer and the generator are
the same.

    x (N, d)  --reshape-->  (N/m, m*d)  --D-->  logits (N/m, 1)
    x (N, C, H, W)  --reshape-->  (N/m, m*C, H, W)  --D-->  logits (N/m, 1)   (images: channels joined)

``Packed(D, m)`` wraps a discriminator built for inputs of width m*d (e.g.
``mlp_discriminator(data_dim=m * d)``) or of m*C channels (``dcgan(pack=m)``, chapter 10);
batches must hold a multiple of m samples, and consecutive rows
form a pack, so batches must be shuffled (i.i.d. draws are). With the R1 / WGAN-GP penalties, the
gradient is taken with respect to the N unpacked samples, so the per-sample mean makes the effective
weight gamma / m per pack.
"""

from __future__ import annotations

from ..nn.module import Module


class Packed(Module):
    """A discriminator that reads packs of ``m`` consecutive samples; ``inner`` is the wrapped D."""

    def __init__(self, inner: Module, m: int):
        super().__init__()
        if not (isinstance(m, int) and m >= 1):
            raise ValueError(f"Packed: m (samples per pack) must be an int >= 1, got {m!r}")
        self.inner = inner
        self.m = m

    def forward(self, x):
        n = x.shape[0]
        if n % self.m:
            raise ValueError(f"Packed: a batch of {n} samples does not split into packs of m={self.m}")
        return self.inner(x.reshape(n // self.m, -1, *x.shape[2:]))

    def extra_repr(self) -> str:
        return f"m={self.m}"
