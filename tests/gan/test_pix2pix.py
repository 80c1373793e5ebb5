"""pix2pix's parts: the U-Net generator, the PatchGAN and its receptive field, and the game's two moves."""

import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.gan import Trainer
from minigan.gan.patchgan import PairDiscriminator, patch_discriminator, receptive_field
from minigan.gan.unet import UNetGenerator
from minigan.gan.variants.pix2pix import Pix2Pix


@pytest.mark.parametrize("c_in, side, up", [(1, 28, 1), (1, 7, 4), (2, 28, 1)])
def test_unet_maps_each_task_input_to_a_digit(c_in, side, up):
    G = UNetGenerator(c_in, 1, width=4, max_width=8, upscale=up)
    y = G(mg.randn(3, c_in, side, side))
    assert y.shape == (3, 1, 28, 28)
    assert float(y.abs().max().item()) <= 1.0  # tanh


def test_unet_refuses_sizes_and_channels_it_cannot_take():
    G = UNetGenerator(1, 1, width=4, max_width=8)
    assert G.check_size(28, 28) is None and G.check_size(60, 60) is None
    assert "divisible by 32" in G.check_size(30, 30) and "28, 60" in G.check_size(30, 30)
    with pytest.raises(ValueError, match="divisible by 32"):
        G(mg.randn(1, 1, 30, 30))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\) inputs, got \(1, 2, 28, 28\)"):
        G(mg.randn(1, 2, 28, 28))


def test_unet_skips_carry_the_input_past_the_bottleneck():
    """A pixel's change reaches the output through the skips even when the bottleneck is cut off."""
    G = UNetGenerator(1, 1, width=4, max_width=8)
    G.eval()
    for p in G.down[-1].parameters():  # the innermost encoder outputs a constant
        p.data = p.data * 0
    x = mg.randn(1, 1, 28, 28, requires_grad=True)
    G(x)[0, 0, 14, 14].backward()
    assert float(x.grad.abs().sum().item()) > 0


def test_dropout_is_on_in_training_and_off_in_eval():
    G = UNetGenerator(1, 1, width=4, max_width=8)
    assert sum(isinstance(m, nn.Dropout) for m in G.modules()) == 2
    x = mg.randn(4, 1, 28, 28)
    with mg.no_grad():
        G.train()
        a, b = G(x).numpy(), G(x).numpy()
        assert not np.array_equal(a, b)
        G.eval()
        np.testing.assert_array_equal(G(x).numpy(), G(x).numpy())


@pytest.mark.parametrize("n_layers, kernel_side", [(1, 16), (2, 34), (3, 70)])
def test_receptive_field_formula_and_a_pixel_probe_agree(n_layers, kernel_side):
    """The formula's field is what one output logit actually depends on (a gradient probe), and n_layers=3
    is the papers' 70 x 70 PatchGAN."""
    D = patch_discriminator(1, width=2, n_layers=n_layers, norm=None)
    assert receptive_field(D) == kernel_side
    side = 96
    x = mg.randn(1, 1, side, side, requires_grad=True)
    out = D(x)
    i = out.shape[2] // 2
    out[0, 0, i, i].backward()
    rows, cols = np.nonzero(np.abs(x.grad.numpy()[0, 0]) > 0)
    assert rows.max() - rows.min() + 1 == kernel_side and cols.max() - cols.min() + 1 == kernel_side


def test_pair_discriminator_joins_the_upsampled_input():
    D = PairDiscriminator(1, 1, upscale=4, width=4)
    assert D(mg.randn(2, 1, 7, 7), mg.randn(2, 1, 28, 28)).shape == (2, 1, 12, 12)
    with pytest.raises(ValueError):
        patch_discriminator(1, norm="layer")


def _trainer(lambda_gan=1.0, seed=0, identity=False):
    mg.manual_seed(seed)
    G, D = UNetGenerator(1, 1, width=4, max_width=8), PairDiscriminator(1, 1, width=4)
    rng = np.random.default_rng(seed)
    b = rng.uniform(-1, 1, (8, 1, 28, 28)).astype(np.float32)
    a = b if identity else b[:, :, ::4, ::4].repeat(4, 2).repeat(4, 3)
    opt_G, opt_D = optim.Adam(G.parameters(), lr=1e-3), optim.Adam(D.parameters(), lr=1e-3)
    variant = Pix2Pix(lambda_l1=100.0, lambda_gan=lambda_gan)
    return Trainer(G, D, opt_G, opt_D, lambda n: (a[:n], b[:n]), z_dim=0, batch_size=8, variant=variant)


def test_one_step_translates_each_batch_once_and_records_the_terms():
    t = _trainer()
    calls = []
    t.G.register_forward_pre_hook(lambda m, inputs: calls.append(1))
    record = t.step()
    assert len(calls) == 1  # the G step reuses the D step's fake
    for key in ("loss_D", "loss_G", "loss_G_gan", "l1", "D_x", "D_G_z", "grad_norm_D", "grad_norm_G"):
        assert np.isfinite(record[key]), key
    assert record["loss_G"] == pytest.approx(record["loss_G_gan"] + 100 * record["l1"], rel=1e-5)


def test_l1_only_model_ignores_the_discriminator():
    """With lambda_gan = 0 G's gradient is that of 100 * L1 alone: the same whatever D's weights are."""
    grads = []
    for d_scale in (1.0, 3.0):
        t = _trainer(lambda_gan=0.0)
        for p in t.D.parameters():
            p.data = p.data * d_scale
        t.d_step(t.sample_real(8))
        t.g_step()
        grads.append(np.concatenate([p.grad.numpy().ravel() for p in t.G.parameters()]))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-7)
    assert np.abs(grads[0]).sum() > 0


def test_the_game_learns_a_mapping_it_can_learn():
    """Copying the input (which the skips make easy): the L1 distance falls."""
    t = _trainer(identity=True)
    first = t.step()["l1"]
    for _ in range(30):
        last = t.step()["l1"]
    assert last < 0.85 * first
