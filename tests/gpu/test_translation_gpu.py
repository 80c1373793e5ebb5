"""Chapters 12-13's translators on a real GPU: the U-Net + PatchGAN pair and the CycleGAN networks give on
CUDA what they give on the CPU (outputs and parameter gradients of one loss), and a step of each game
runs there, the CycleGAN pools included. Marked ``gpu``: tests/conftest.py deselects these unless CuPy sees
a usable GPU."""

import copy

import numpy as np
import pytest

import minigan as mg
from minigan import optim
from minigan.autograd import grad
from minigan.gan import Trainer
from minigan.gan.patchgan import PairDiscriminator, patch_discriminator
from minigan.gan.resnet_gen import resnet_generator
from minigan.gan.unet import UNetGenerator
from minigan.gan.variants.cyclegan import CycleDiscriminators, CycleGAN, CycleGenerators
from minigan.gan.variants.pix2pix import Pix2Pix

pytestmark = pytest.mark.gpu


def _compare(G_cpu, D_cpu, a, b):
    """Outputs and gradients of mean(D(a, G(a))) + |G(a) - b| on both devices, G and D in eval mode."""
    outs = {}
    for device in ("cpu", "cuda"):
        G, D = (copy.deepcopy(m).to(device) for m in (G_cpu, D_cpu))
        G.eval()
        D.eval()
        at, bt = (mg.tensor(v, device=device) for v in (a, b))
        y = G(at)
        loss = D(at, y).mean() + (y - bt).abs().mean()
        gw = grad(loss, list(G.parameters()))
        outs[device] = (y.detach().numpy(), [g.numpy() for g in gw])
    np.testing.assert_allclose(outs["cuda"][0], outs["cpu"][0], rtol=1e-3, atol=1e-5)
    for g_gpu, g_cpu in zip(outs["cuda"][1], outs["cpu"][1]):
        np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-2, atol=1e-5)


def test_pix2pix_networks_match_the_cpu():
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (4, 1, 7, 7)).astype(np.float32)
    b = rng.uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32)
    _compare(UNetGenerator(1, 1, width=8, max_width=32, upscale=4), PairDiscriminator(1, 1, 4, width=8), a, b)


class OnePicture(mg.nn.Module):
    """D(a, y) = D(y): a PatchGAN of one image, called as the pair D of ``_compare``."""

    def __init__(self, D):
        super().__init__()
        self.D = D

    def forward(self, a, y):
        return self.D(y)


def test_cyclegan_networks_match_the_cpu():
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(-1, 1, (4, 3, 28, 28)).astype(np.float32) for _ in range(2))
    D = patch_discriminator(3, 8, 1, norm="instance")
    _compare(resnet_generator(3, 3, 4, 2), OnePicture(D), a, b)


@pytest.mark.parametrize("model", ["pix2pix", "cyclegan"])
def test_a_training_step_runs_on_the_gpu(model):
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    if model == "pix2pix":
        G, D, variant, c = (
            UNetGenerator(1, 1, width=8, max_width=32),
            PairDiscriminator(1, 1, width=8),
            Pix2Pix(),
            1,
        )
    else:
        G = CycleGenerators(resnet_generator(3, 3, 4, 1), resnet_generator(3, 3, 4, 1))
        D = CycleDiscriminators(*(patch_discriminator(3, 8, 1, norm="instance") for _ in range(2)))
        variant, c = CycleGAN(pool_size=4), 3
    G.to("cuda")
    D.to("cuda")
    batch = lambda n: tuple(rng.uniform(-1, 1, (n, c, 28, 28)).astype(np.float32) for _ in range(2))
    t = Trainer(G, D, optim.Adam(G.parameters(), lr=2e-4), optim.Adam(D.parameters(), lr=2e-4), batch,
                z_dim=0, batch_size=4, variant=variant)  # fmt: skip
    for _ in range(2):
        record = t.step()
    assert np.isfinite(record["loss_G"]) and np.isfinite(record["loss_D"]) and t.step_count == 2
    if model == "cyclegan":
        assert len(variant.pool_A) == 4 and len(variant.pool_B) == 4
