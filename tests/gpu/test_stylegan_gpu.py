"""Chapter 14's style-based generator on a real GPU: G (moving average, eval-mode noise, truncation) and
the residual D give on CUDA what they give on the CPU, with the parameter gradients of one loss, and a
step of the StyleGAN2 game (style mixing, lazy R1, the moving average) runs there. Marked ``gpu``:
tests/conftest.py deselects these unless CuPy sees a usable GPU."""

import copy

import numpy as np
import pytest

import minigan as mg
from minigan import optim
from minigan.autograd import grad
from minigan.gan import Trainer
from minigan.gan.stylegan_d import ResidualDiscriminator
from minigan.gan.stylegan_g import StyleGenerator
from minigan.gan.variants.stylegan import StyleGAN2
from minigan.nn.modulated_conv import modulated_conv2d

pytestmark = pytest.mark.gpu


def _models():
    mg.manual_seed(0)
    G = StyleGenerator(z_dim=8, w_dim=8, mapping_layers=2, width=8)
    for conv in G.G.synthesis.convs:
        conv.noise_strength.array[...] = 0.3
    G.update_ema(0.0)  # the average = G, noise strengths included
    return G, ResidualDiscriminator(1, 8, 4)


def test_modulated_conv_matches_the_cpu():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 5, 9, 9)), rng.standard_normal((4, 5, 3, 3))
    s = rng.uniform(0.5, 2, (3, 5))
    out = {}
    for device in ("cpu", "cuda"):
        out[device] = modulated_conv2d(*(mg.tensor(v.astype(np.float32), device=device) for v in (x, w, s)),
                                       padding=1).numpy()  # fmt: skip
    np.testing.assert_allclose(out["cuda"], out["cpu"], rtol=1e-4, atol=1e-5)


def test_style_networks_match_the_cpu():
    G_cpu, D_cpu = _models()
    z = np.random.default_rng(1).standard_normal((4, 8)).astype(np.float32)
    outs = {}
    for device in ("cpu", "cuda"):
        G, D = (copy.deepcopy(m).to(device) for m in (G_cpu, D_cpu))
        G.eval()
        zt = mg.tensor(z, device=device)
        x = G(zt, 0.7)  # eval: the average, its z-seeded noise, truncated
        loss = D(x).mean()
        gw = grad(loss, list(D.parameters()))
        outs[device] = (x.detach().numpy(), [g.numpy() for g in gw])
    np.testing.assert_allclose(outs["cuda"][0], outs["cpu"][0], rtol=1e-3, atol=1e-4)
    for g_gpu, g_cpu in zip(outs["cuda"][1], outs["cpu"][1]):
        np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-2, atol=1e-5)


def test_a_stylegan_step_runs_on_the_gpu():
    G, D = (m.to("cuda") for m in _models())
    opt_G = optim.Adam([p for p in G.parameters() if p.requires_grad], lr=0.002, betas=(0.0, 0.99))
    opt_D = optim.Adam(D.parameters(), lr=0.002, betas=(0.0, 0.99))
    rng = np.random.default_rng(0)
    t = Trainer(G, D, opt_G, opt_D, lambda n: rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32), z_dim=8,
                batch_size=4, variant=StyleGAN2(gamma=1.0, r1_every=1, mixing=1.0, batch_size=4))  # fmt: skip
    record = t.step()
    assert np.isfinite(record["loss_D"]) and record["penalty"] > 0
    assert G.G_ema.module.synthesis.const.device == "cuda"
