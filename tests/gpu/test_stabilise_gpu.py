"""Chapter 10's options of D on a real GPU: a DCGAN discriminator with spectral norm, minibatch std and
packing gives on CUDA what it gives on the CPU (forward, input gradient, R1's double backward, the
power-iteration buffers), and an unrolled G step runs there. Marked ``gpu``: tests/conftest.py deselects
these unless CuPy sees a usable GPU."""

import copy

import numpy as np
import pytest

import minigan as mg
from minigan.autograd import grad
from minigan.gan.dcgan import dcgan
from minigan.gan.penalties import r1_penalty

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("options", [{"spectral_norm": True}, {"mbstd": True}, {"pack": 2}])
def test_stabilised_d_matches_the_cpu(options):
    mg.manual_seed(0)
    _, D_cpu = dcgan(28, 1, 100, 16, **options)
    D_gpu = copy.deepcopy(D_cpu).to("cuda")
    x = np.random.default_rng(0).uniform(-1, 1, (8, 1, 28, 28))
    outs = {}
    for D, device in ((D_cpu, "cpu"), (D_gpu, "cuda")):
        xt = mg.tensor(x.astype(np.float32), device=device, requires_grad=True)
        d = D(xt)
        (gx,) = grad(d.sum(), xt, create_graph=True)
        penalty = r1_penalty(D, mg.tensor(x.astype(np.float32), device=device), 1.0)
        gw = grad(penalty, list(D.parameters()))
        outs[device] = (d.detach().numpy(), gx.detach().numpy(), [g.numpy() for g in gw], D.state_dict())
    cpu, gpu = outs["cpu"], outs["cuda"]
    np.testing.assert_allclose(gpu[0], cpu[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gpu[1], cpu[1], rtol=1e-3, atol=1e-6)
    for a, b in zip(gpu[2], cpu[2]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-6)
    for key in cpu[3]:
        if key.endswith(("_u", "_v")):  # the power iteration ran on both devices alike
            np.testing.assert_allclose(gpu[3][key].numpy(), cpu[3][key].numpy(), rtol=1e-4, atol=1e-6)


def test_an_unrolled_step_runs_on_the_gpu():
    from minigan import optim
    from minigan.gan import Trainer
    from minigan.gan.variants import Unconditional
    from minigan.gan.variants.unrolled import Unrolled

    mg.manual_seed(0)
    G, D = dcgan(28, 1, 100, 16, spectral_norm=True)
    G.to("cuda")
    D.to("cuda")
    rng = np.random.default_rng(0)
    t = Trainer(G, D, optim.Adam(G.parameters(), lr=2e-4), optim.Adam(D.parameters(), lr=2e-4),
                lambda n: rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32), z_dim=100, batch_size=8,
                variant=Unrolled(Unconditional("hinge"), steps=2))  # fmt: skip
    before = {k: v.numpy().copy() for k, v in D.state_dict().items()}
    record = t.step()
    assert np.isfinite(record["loss_G"]) and t.step_count == 1
    assert any(not np.array_equal(before[k], v.numpy()) for k, v in D.state_dict().items())  # D's own step
