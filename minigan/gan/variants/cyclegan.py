"""CycleGAN (Zhu, Park, Isola & Efros, 2017): translation between two domains A and B from UNPAIRED
examples, with the official code's constants. Used by ``minigan train --data mnist2mnistm``.

Two generators, G_AB: A -> B and G_BA: B -> A, and two discriminators, D_A (real A vs G_BA's output) and
D_B. With no pairs, nothing ties G_AB(a) to a in particular: any map onto domain B fools D_B. The cycle
consistency loss adds that tie: translating there and back must return the input.

    L_GAN(G_AB, D_B) = E (D_B(G_AB(a)) - 1)^2                        (least squares, as the official code)
    L_cyc = E |G_BA(G_AB(a)) - a|_1 + E |G_AB(G_BA(b)) - b|_1
    L_idt = E |G_AB(b) - b|_1 + E |G_BA(a) - a|_1                      (a B image is already B: keep it)
    L_G   = L_GAN(G_AB, D_B) + L_GAN(G_BA, D_A) + lambda L_cyc + 0.5 lambda L_idt,      lambda = 10
    L_D   = 1/2 [(D_B(b) - 1)^2 + D_B(pool_B(fake_b))^2] + the same for D_A

The identity term (needed when both domains have the same channels: here MNIST is given 3 grey channels)
keeps colours where none need changing. The image pools (Shrivastava et al., 2017) show D a fake from
an older G half the time once full: 50 images per domain; each new fake is stored and, with probability
1/2, swapped for a stored one that D is shown instead. This damps the oscillation of D chasing the latest
G. Pool draws come from minigan's default generator, whose state ``minigan train`` checkpoints with the
pools themselves (``state_dict``), so a resumed run is bit-identical.

The loop plays D then G (the official code: G then D; the same alternation, shifted by half a step): the
D step translates both batches once, and the G step back-propagates through those same fakes. One Adam
updates both generators and one both discriminators, exactly the official code's two optimizers over
chained parameters; Adam's update is per parameter, so this equals one Adam per network.

A batch is (a, b): (N, 3, H, W) images of each domain in [-1, 1], drawn independently.
"""

from __future__ import annotations

import numpy as np

from ... import nn
from ...autograd import Tensor, no_grad
from ...creation import tensor
from ...random import default_generator
from .. import losses
from .base import Variant

LAMBDA_CYCLE = 10.0
LAMBDA_IDENTITY = 0.5  # times LAMBDA_CYCLE
POOL_SIZE = 50


class ImagePool:
    """A buffer of up to ``size`` past fakes (Shrivastava et al., 2017); ``size`` 0 passes images through."""

    def __init__(self, size: int = POOL_SIZE):
        self.size = int(size)
        self.images: np.ndarray | None = None  # (k, C, H, W) float32, k <= size

    def __len__(self) -> int:
        return 0 if self.images is None else len(self.images)

    def query(self, x: Tensor) -> Tensor:
        """For each image of the batch ``x`` (no graph): while the pool is not full, store it and return it;
        once full, with probability 1/2 return a random stored image and store the new one in its place,
        otherwise return the new one. Draws from minigan's default generator."""
        if self.size == 0:
            return x
        new = x.detach().numpy()  # a copy from the GPU
        out = new.copy()
        rng = default_generator()
        for i in range(len(new)):
            if len(self) < self.size:
                self.images = (
                    new[i : i + 1].copy()
                    if self.images is None
                    else np.concatenate([self.images, new[i : i + 1]])
                )
            elif rng.random() > 0.5:
                j = int(rng.integers(0, self.size))
                out[i] = self.images[j]
                self.images[j] = new[i]
        return tensor(out, device=x.device)

    def state_dict(self) -> dict:
        return {
            "size": self.size,
            "images": np.zeros((0,), np.float32) if self.images is None else self.images.copy(),
        }

    def load_state_dict(self, state: dict) -> None:
        images = np.array(state["images"], dtype=np.float32)  # a copy: the pool writes into it
        self.size, self.images = int(state["size"]), (images if images.size else None)


class CycleGenerators(nn.Module):
    """G of the trainer: the two generators as one module (state-dict keys ``G_AB.*``, ``G_BA.*``)."""

    def __init__(self, G_AB: nn.Module, G_BA: nn.Module):
        super().__init__()
        self.G_AB, self.G_BA = G_AB, G_BA

    def forward(self, a):  # a plain call translates A -> B (``translate`` picks a direction)
        return self.G_AB(a)


class CycleDiscriminators(nn.Module):
    """D of the trainer: D_A judges domain A images, D_B domain B images."""

    def __init__(self, D_A: nn.Module, D_B: nn.Module):
        super().__init__()
        self.D_A, self.D_B = D_A, D_B

    def forward(self, x):
        return self.D_B(x)


def _mse_to(x: Tensor, target: float) -> Tensor:
    return ((x - target) ** 2).mean()


class CycleGAN(Variant):
    """The CycleGAN game (module docstring) between ``t.G`` (CycleGenerators) and ``t.D``
    (CycleDiscriminators)."""

    name = "cyclegan"
    translation = True
    directions = ("AtoB", "BtoA")

    def __init__(self, lambda_cycle=LAMBDA_CYCLE, lambda_identity=LAMBDA_IDENTITY, pool_size=POOL_SIZE):
        super().__init__("lsgan")
        self.lambda_cycle, self.lambda_identity = float(lambda_cycle), float(lambda_identity)
        self.pool_A, self.pool_B = ImagePool(pool_size), ImagePool(pool_size)
        self._fakes = None  # (a, b, fake_b, fake_a) of the last D step, for the G step

    def d_loss(self, t, batch):
        a, b = batch
        G, D = t.G, t.D
        fake_b, fake_a = G.G_AB(a), G.G_BA(b)
        self._fakes = (a, b, fake_b, fake_a)
        real_b, real_a = D.D_B(b), D.D_A(a)
        old_b, old_a = D.D_B(self.pool_B.query(fake_b)), D.D_A(self.pool_A.query(fake_a))
        loss_B = 0.5 * (_mse_to(real_b, 1.0) + _mse_to(old_b, 0.0))
        loss_A = 0.5 * (_mse_to(real_a, 1.0) + _mse_to(old_a, 0.0))
        loss = loss_A + loss_B
        with no_grad():
            record = {
                "loss_D": float(loss.item()), "loss_D_A": float(loss_A.item()),
                "loss_D_B": float(loss_B.item()), "penalty": 0.0,
                "D_x": 0.5 * float(real_a.mean().item() + real_b.mean().item()),
                "D_G_z": 0.5 * float(old_a.mean().item() + old_b.mean().item()),
                # V read as if the outputs were logits (as for every non-probabilistic loss; base.py)
                "V": 0.5 * float((losses.value(real_a, old_a) + losses.value(real_b, old_b)).item()),
            }  # fmt: skip
        return loss, record

    def g_loss(self, t, n):
        G, D = t.G, t.D
        if self._fakes is None:  # a G step with no D step before it
            a, b = t.real_batch(n)
            fake_b, fake_a = G.G_AB(a), G.G_BA(b)
        else:
            a, b, fake_b, fake_a = self._fakes
            self._fakes = None
        gan_AB, gan_BA = _mse_to(D.D_B(fake_b), 1.0), _mse_to(D.D_A(fake_a), 1.0)
        cyc_A, cyc_B = (G.G_BA(fake_b) - a).abs().mean(), (G.G_AB(fake_a) - b).abs().mean()
        loss = gan_AB + gan_BA + self.lambda_cycle * (cyc_A + cyc_B)
        record = {"loss_G_gan": float((gan_AB + gan_BA).item()), "cycle": float((cyc_A + cyc_B).item())}
        if self.lambda_identity > 0:
            idt = (G.G_AB(b) - b).abs().mean() + (G.G_BA(a) - a).abs().mean()
            loss = loss + self.lambda_cycle * self.lambda_identity * idt
            record["identity"] = float(idt.item())
        return loss, {"loss_G": float(loss.item()), **record}

    # -- translation -------------------------------------------------------------------------------------
    def generator(self, G, direction=None):
        """G_AB for "AtoB" (the default), G_BA for "BtoA"."""
        return G.G_BA if direction == "BtoA" else G.G_AB

    def input_problem(self, G, shape, direction=None) -> str | None:
        channels = 3  # both domains are 3-channel images (MNIST as grey RGB)
        if shape[1] != channels:
            return f"the {direction or 'AtoB'} generator takes {channels}-channel images, got {shape[1]}"
        if shape[2] % 4 or shape[3] % 4:
            return f"the ResNet generator takes sides that are multiples of 4, not {shape[2]} x {shape[3]}"
        return None

    def generate(self, G, a, labels=None):
        if labels is not None:
            raise ValueError("a CycleGAN generator takes an image, not labels")
        return G.G_AB(a)

    def memory_probes(self, t, batch):
        """What one step keeps: six generator passes (two fakes, two cycles, two identities) and six of D."""
        a, b = batch
        G, D = t.G, t.D
        return [(G.G_AB, (a,)), (G.G_BA, (b,))] * 3 + [(D.D_A, (a,)), (D.D_B, (b,))] * 3

    # -- state -------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"pool_A": self.pool_A.state_dict(), "pool_B": self.pool_B.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if state:
            self.pool_A.load_state_dict(state["pool_A"])
            self.pool_B.load_state_dict(state["pool_B"])
