"""The style-based generator (chapter 14): modulation and demodulation, equalised learning rate, the
mapping network and w_avg, noise, truncation, style mixing, lazy R1, the moving average of G, path
length and the mixing figure. (modulated_conv2d's values and first / second derivatives against the
per-sample definition are in the op registry, tests/ops/registry.py.)"""

import numpy as np
import pytest

import minigan as mg
from minigan import optim
from minigan.gan import Trainer
from minigan.gan.equalized import EqualConv2d, EqualLinear
from minigan.gan.style_eval import _pair_images, images, mixing_grid
from minigan.gan.stylegan_d import ResidualDiscriminator
from minigan.gan.stylegan_g import COARSE, StyleGenerator, channels
from minigan.gan.variants.stylegan import StyleGAN2
from minigan.metrics import ppl
from minigan.nn.modulated_conv import modulated_conv2d
from minigan.random import default_generator
from minigan.testing import gradcheck, gradgradcheck

SMALL = {"z_dim": 8, "w_dim": 8, "mapping_layers": 2, "width": 4}


def small_G(seed=0):
    mg.manual_seed(seed)
    return StyleGenerator(**SMALL)


def with_noise_strength(G, value=1.0):
    for net in (G.G, G.G_ema.module):
        for conv in net.synthesis.convs:
            conv.noise_strength.array[...] = value
    return G


def test_demodulation_restores_unit_variance():
    """Unit-variance independent inputs give unit-variance outputs per channel whatever the styles."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 16, 24, 24)).astype(np.float32))
    w = mg.tensor(rng.standard_normal((8, 16, 3, 3)).astype(np.float32))
    s = mg.tensor(rng.uniform(0.2, 5.0, (4, 16)).astype(np.float32))
    y = modulated_conv2d(x, w, s, padding=0).detach().numpy()
    std = y.std(axis=(2, 3))  # (N, O): every sample and output channel
    assert np.all(np.abs(std - 1) < 0.12), std
    raw = modulated_conv2d(x, w, s, demodulate=False).detach().numpy().std(axis=(2, 3))
    assert raw.max() > 3  # without demodulation the styles' scale goes straight through


def test_modulated_conv_errors_name_the_shapes():
    x, w = mg.randn(2, 3, 5, 5), mg.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"styles \(2, 3\)"):
        modulated_conv2d(x, w, mg.randn(2, 4))
    with pytest.raises(ValueError, match="expected x"):
        modulated_conv2d(mg.randn(3, 5, 5), w, mg.randn(2, 3))


def test_style_conv_gradients_through_the_whole_layer():
    """A StyleConv (modulation, demodulation, noise, bias, lrelu) twice differentiable in x and w."""
    from minigan.gan.stylegan_g import StyleConv

    mg.manual_seed(0)
    layer = StyleConv(2, 3, 4, up=6).to(dtype=np.float64)
    layer.noise_strength.array[...] = 0.5
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((2, 2, 3, 3)), dtype=np.float64, requires_grad=True)
    w = mg.tensor(rng.standard_normal((2, 4)), dtype=np.float64, requires_grad=True)
    noise = mg.tensor(rng.standard_normal((2, 1, 6, 6)), dtype=np.float64)
    # leaky ReLU has a kink at 0: keep pre-activations away from it by the seeded draw; check both orders
    assert gradcheck(lambda x, w: layer(x, w, noise), [x, w], max_elements=30)
    assert gradgradcheck(lambda x, w: layer(x, w, noise), [x, w], max_elements=20)


def test_equalized_lr_scales_at_run_time():
    mg.manual_seed(0)
    lin = EqualLinear(400, 10, lr_mul=0.01)
    w_used = lin.weight.detach().numpy() * lin.gain
    assert abs(w_used.std() * np.sqrt(400) - 1) < 0.05  # He-like scale 1 / sqrt(fan_in) at run time
    assert abs(lin.weight.detach().numpy().std() - 100) < 5  # stored as N(0, 1 / lr_mul^2)
    x = mg.randn(3, 400)
    lin(x).sum().backward()
    # d out / d stored weight = gain * x: the update of the used weight is lr_mul^2 / fan_in smaller
    expected = lin.gain * np.broadcast_to(x.detach().numpy().sum(0), (10, 400))
    np.testing.assert_allclose(lin.weight.grad.detach().numpy(), expected, rtol=1e-4, atol=1e-7)
    conv = EqualConv2d(3, 5, 3, down=True)
    assert conv(mg.randn(2, 3, 8, 8)).shape == (2, 5, 4, 4)


def test_generator_shapes_and_layout():
    G = small_G()
    assert channels(16) == {4: 64, 7: 64, 14: 32, 28: 16}
    assert G.num_ws == 8 and G.G.synthesis.num_ws == 8
    G.train()
    assert G(mg.randn(3, 8)).shape == (3, 1, 28, 28)
    D = ResidualDiscriminator(1, 4)
    assert D(mg.randn(4, 1, 28, 28)).shape == (4, 1)


def test_tanh_bounds_the_image_and_rgb_init_shrinks_the_first_one():
    """tanh=True: the same network's image squashed into (-1, 1); rgb_init scales every ToRGB weight."""
    z = mg.randn(16, 8)
    out = {}
    for tanh, scale in ((False, 1.0), (True, 1.0), (False, 0.1)):
        mg.manual_seed(0)
        G = StyleGenerator(**SMALL, tanh=tanh, rgb_init=scale).G
        out[tanh, scale] = G(z, noise=[mg.zeros(*s) for s in G.synthesis.noise_shapes(16)]).detach().numpy()
    assert np.abs(out[False, 1.0]).max() > 1  # the plain skip sum leaves [-1, 1]
    np.testing.assert_allclose(out[True, 1.0], np.tanh(out[False, 1.0]), rtol=1e-5, atol=1e-6)
    # ToRGB is linear in its weight and its bias starts at 0: the first image is 0.1 times as large
    np.testing.assert_allclose(out[False, 0.1], 0.1 * out[False, 1.0], rtol=1e-4, atol=1e-6)


def test_runs_from_before_tanh_load_without_it():
    """A config.json without rgb_init / tanh (written before they existed) builds the G it was trained
    with: no tanh. The model's defaults have it."""
    from minigan.gan.variants.stylegan import DEFAULTS, make_models

    config = {**DEFAULTS, **SMALL, "batch_size": 4, "image_size": 28}
    assert make_models(config)[0].G.synthesis.tanh is True
    old = {k: v for k, v in config.items() if k not in ("tanh", "rgb_init")}
    assert make_models(old)[0].G.synthesis.tanh is False


def test_noise_strength_starts_at_zero_and_then_adds_detail():
    G = small_G()
    G.eval()
    z = mg.randn(2, 8)
    shapes = G.G.synthesis.noise_shapes(2)
    other = [mg.randn(*s) for s in shapes]
    # noise strength 0 at the start: other noise maps change nothing
    np.testing.assert_array_equal(G(z).detach().numpy(), G(z, noise=other).detach().numpy())
    with_noise_strength(G)
    assert np.abs(G(z).detach().numpy() - G(z, noise=other).detach().numpy()).max() > 1e-3


def test_eval_images_depend_on_z_alone_and_leave_the_training_stream_alone():
    G = with_noise_strength(small_G())
    G.eval()
    z = mg.randn(5, 8)
    state = default_generator().bit_generator.state
    a, b = G(z).detach().numpy(), G(z[1:3]).detach().numpy()
    # batch composition does not matter: the same noise maps for the same z, so equal up to rounding
    # (not bit for bit: BLAS may block a 5-row product differently from a 2-row one, as OpenBLAS's
    # AVX-512 kernels do); another noise map would differ by more than 1e-3, as the last line shows
    np.testing.assert_allclose(a[1:3], b, rtol=1e-5, atol=1e-5)
    assert default_generator().bit_generator.state == state
    G.noise_seed = 1
    assert np.abs(G(z).detach().numpy() - a).max() > 1e-3  # another noise seed, other stochastic detail


def test_w_avg_update_and_truncation():
    G = small_G()
    net = G.G
    z = mg.randn(6, 8)
    w = net.mapping(z).detach().numpy()
    before = net.w_avg.detach().numpy().copy()
    net.mapping_ws(z, update_w_avg=True)
    expected = 0.995 * before + 0.005 * w.mean(0)
    np.testing.assert_allclose(net.w_avg.detach().numpy(), expected, rtol=1e-5, atol=1e-7)
    net.w_avg.array[...] = np.arange(8, dtype=np.float32)
    ws = net.mapping_ws(z, truncation_psi=0.0).detach().numpy()
    np.testing.assert_allclose(ws, np.broadcast_to(np.arange(8.0), (6, 8, 8)), atol=1e-6)
    half = net.mapping_ws(z, truncation_psi=0.5).detach().numpy()[:, 0]
    np.testing.assert_allclose(half, np.arange(8) + 0.5 * (w - np.arange(8)), rtol=1e-5, atol=1e-5)
    G.eval()
    with pytest.raises(ValueError, match="truncation_psi must be in"):
        G(z, 1.5)


def test_psi_zero_gives_one_image_for_every_z():
    G = small_G()
    G.eval()
    x = images(G, np.random.default_rng(0).standard_normal((4, 8)), psi=0.0)
    assert np.abs(x - x[:1]).max() < 1e-5  # noise strength is 0 at init: identical images


def _trainer(G, D, variant, batch=4):
    opt_G = optim.Adam([p for p in G.parameters() if p.requires_grad], lr=0.002, betas=(0.0, 0.99))
    opt_D = optim.Adam(D.parameters(), lr=0.002, betas=(0.0, 0.99))
    data = np.random.default_rng(0)
    sample = lambda n: data.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)  # noqa: E731
    return Trainer(G, D, opt_G, opt_D, sample, z_dim=8, batch_size=batch, variant=variant)


def test_style_mixing_takes_later_layers_from_a_second_z():
    G = small_G()
    t = _trainer(G, ResidualDiscriminator(1, 4), StyleGAN2(mixing=1.0))
    mg.manual_seed(3)
    ws = t.variant.styles(t, 4).detach().numpy()
    mg.manual_seed(3)  # the same draws by hand: z1, the coin, the cut-off, z2
    z1 = mg.randn(4, 8)
    rng = default_generator()
    rng.random()
    c = int(rng.integers(1, 8))
    z2 = mg.randn(4, 8)
    w1, w2 = G.G.mapping(z1).detach().numpy(), G.G.mapping(z2).detach().numpy()
    np.testing.assert_allclose(ws[:, :c], np.broadcast_to(w1[:, None], (4, c, 8)), rtol=1e-6)
    np.testing.assert_allclose(ws[:, c:], np.broadcast_to(w2[:, None], (4, 8 - c, 8)), rtol=1e-6)
    t.variant.mixing = 0.0
    ws = t.variant.styles(t, 4).detach().numpy()
    np.testing.assert_array_equal(ws, np.broadcast_to(ws[:, :1], ws.shape))


def test_lazy_r1_only_every_16_steps_and_scaled_by_16(monkeypatch):
    import minigan.gan.variants.base as sv  # lazy R1 lives in the base game (``Variant.real_output``)

    calls = []
    real_r1 = sv.r1_penalty

    def spy(D, x, gamma, return_output=False):
        calls.append(gamma)
        return real_r1(D, x, gamma, return_output=return_output)

    monkeypatch.setattr(sv, "r1_penalty", spy)
    t = _trainer(small_G(), ResidualDiscriminator(1, 4), StyleGAN2(gamma=0.5, r1_every=4))
    records = [t.step() for _ in range(9)]
    assert calls == [2.0, 2.0, 2.0]  # steps 1, 5, 9 (step_count 0, 4, 8), gamma * r1_every
    assert records[0]["penalty"] > 0 and records[1]["penalty"] == records[0]["penalty"]


def test_ema_follows_G_with_the_half_life_in_images():
    G, D = small_G(), ResidualDiscriminator(1, 4)
    v = StyleGAN2(batch_size=4, ema_kimg=0.004)  # half-life 4 images = one step of 4
    assert v.ema_beta == pytest.approx(0.5)
    t = _trainer(G, D, v)
    assert all(not p.requires_grad for p in G.G_ema.parameters())
    old = [p.detach().numpy().copy() for p in G.G_ema.module.parameters()]
    t.step()
    new_G = [p.detach().numpy() for p in G.G.parameters()]
    for a, o, g in zip(G.G_ema.module.parameters(), old, new_G):
        np.testing.assert_allclose(a.detach().numpy(), 0.5 * o + 0.5 * g, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(G.G_ema.module.w_avg.detach().numpy(), G.G.w_avg.detach().numpy())
    G.eval()
    assert G.current is G.G_ema.module
    G.train()
    assert G.current is G.G


def test_state_dict_round_trip_keeps_the_average():
    G = small_G()
    t = _trainer(G, ResidualDiscriminator(1, 4), StyleGAN2(batch_size=4))
    t.step()
    t.step()
    state = t.state_dict()
    G2 = small_G(seed=5)
    G2.load_state_dict(state["G"])

    def arr(v):
        return np.asarray(v.detach().numpy() if hasattr(v, "detach") else v)

    for a, b in zip(G.state_dict().values(), G2.state_dict().values()):
        np.testing.assert_array_equal(arr(a), arr(b))
    assert "last_r1" in state["variant"]


def test_mixing_grid_rows_carry_coarse_and_columns_fine_styles():
    G = small_G()
    grid = mixing_grid(G, n_rows=2, n_cols=3, seed=0)
    assert grid.shape == (3, 4, 1, 28, 28)
    assert np.all(grid[0, 0] == -1)
    net = G.G_ema.module
    rng = np.random.default_rng([0, 16])
    zr, zc = rng.standard_normal((2, 8)).astype(np.float32), rng.standard_normal((3, 8)).astype(np.float32)
    wr, wc = net.mapping_ws(mg.tensor(zr)).detach().numpy(), net.mapping_ws(mg.tensor(zc)).detach().numpy()
    ws = np.concatenate([wr[1:2, :COARSE], wc[2:3, COARSE:]], 1)
    noise = [m[1:2] for m in G.eval_noise(mg.tensor(zr))]
    with mg.no_grad():
        cell = net.synthesis(mg.tensor(ws), noise).detach().numpy()
    np.testing.assert_allclose(grid[2, 3], cell[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grid[0, 1:], images(G, zc), rtol=1e-5, atol=1e-6)


def test_slerp_and_lerp():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 5, 6))
    np.testing.assert_allclose(ppl.slerp(a, b, 0.0), a, atol=1e-12)
    np.testing.assert_allclose(ppl.slerp(a, b, 1.0), b, atol=1e-12)
    mid = ppl.slerp(a, b, 0.5, keep_norm=False)
    np.testing.assert_allclose(np.linalg.norm(mid, axis=1), 1.0, atol=1e-12)
    ua, ub = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose((mid * ua).sum(1), (mid * ub).sum(1), atol=1e-12)  # halfway in angle
    np.testing.assert_allclose(ppl.lerp(a, b, 0.25), 0.75 * a + 0.25 * b)


def test_path_length_summary_drops_the_extremes():
    v = np.r_[np.zeros(5), np.ones(990), np.full(5, 1e6)]
    s = ppl.summarize(v)
    assert s["ppl"] == pytest.approx(1.0) and s["n_kept"] == 990 and s["n_pairs"] == 1000
    d = ppl.pair_distances(np.zeros((2, 3)), np.full((2, 3), 1e-4), eps=1e-4)
    np.testing.assert_allclose(d, 3.0)


def test_path_length_pairs_share_their_noise():
    G = with_noise_strength(small_G())
    z0, z1 = np.random.default_rng(0).standard_normal((2, 3, 8))
    for space in ("w", "z"):
        xa, xb = _pair_images(G, z0, z0.copy(), space, 1e-4)  # a path of length 0: the same images
        np.testing.assert_allclose(xa, xb, atol=1e-6)
        big = np.abs(np.subtract(*_pair_images(G, z0, z1, space, 1e-2))).max()
        small = np.abs(np.subtract(*_pair_images(G, z0, z1, space, 1e-3))).max()
        assert 0 < small < big  # a shorter step along the path, a smaller change
