"""CycleGAN's parts: the image pool, the ResNet generator, the two moves of the game and their state."""

import numpy as np
import pytest

import minigan as mg
from minigan import optim
from minigan.gan import Trainer
from minigan.gan.patchgan import patch_discriminator
from minigan.gan.resnet_gen import resnet_generator
from minigan.gan.variants.cyclegan import CycleDiscriminators, CycleGAN, CycleGenerators, ImagePool


def _batch(v, n=4):
    return mg.tensor(np.full((n, 1, 2, 2), v, np.float32))


def test_pool_stores_until_full_then_swaps_half_the_time():
    mg.manual_seed(0)
    pool = ImagePool(4)
    out = pool.query(_batch(1.0)).numpy()  # filling: the new images come back
    np.testing.assert_array_equal(out, 1.0)
    assert len(pool) == 4
    returned_old, stored_new = 0, 0
    for _ in range(50):
        out = pool.query(_batch(2.0, 2)).numpy()
        returned_old += int((out == 1.0).all(axis=(1, 2, 3)).sum())
        stored_new = int((pool.images == 2.0).all(axis=(1, 2, 3)).sum())
        assert len(pool) == 4
    assert 0 < returned_old <= 4  # only the four stored 1s can ever come back as old images
    assert stored_new == 4  # by now every slot holds a newer fake


def test_pool_of_size_zero_passes_through_and_the_pool_state_round_trips():
    x = _batch(3.0)
    assert ImagePool(0).query(x) is x
    mg.manual_seed(1)
    a = ImagePool(3)
    for v in range(5):
        a.query(_batch(float(v), 2))
    b = ImagePool(3)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.images, b.images)
    mg.manual_seed(2)
    out_a = a.query(_batch(9.0)).numpy()
    mg.manual_seed(2)
    np.testing.assert_array_equal(out_a, b.query(_batch(9.0)).numpy())


def test_resnet_generator_keeps_the_shape():
    G = resnet_generator(3, 3, width=4, n_blocks=2)
    assert G(mg.randn(2, 3, 28, 28)).shape == (2, 3, 28, 28)
    assert G(mg.randn(1, 3, 32, 16)).shape == (1, 3, 32, 16)


@pytest.mark.parametrize("mbstd", [False, True])
def test_patch_discriminator_with_mbstd_judges_each_image_beside_its_group(mbstd):
    mg.manual_seed(0)
    D = patch_discriminator(3, 4, 2, norm="instance", mbstd=mbstd)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 3, 28, 28)).astype(np.float32)
    y = D(mg.tensor(x)).detach().numpy()
    x2 = x.copy()
    x2[2] = 0.0  # another image of image 0's group (groups are strided: images 0, 2, 4, 6 and 1, 3, 5, 7)
    y2 = D(mg.tensor(x2)).detach().numpy()
    assert y.shape == y2.shape == (8, 1, 5, 5)
    # instance norm keeps the images apart; the std map is what joins them
    assert (np.abs(y2[0] - y[0]).max() > 1e-6) == mbstd
    assert isinstance(D[-2], mg.nn.MinibatchStdDev) == mbstd


def test_background_report_splits_label_preservation_by_photo_brightness():
    from minigan.gan.unpaired_run import background_report

    n = 8
    a = -np.ones((n, 3, 4, 4), np.float32)
    a[:, :, 1:3, 1:3] = 1.0
    brightness = np.linspace(-0.9, 0.9, n)
    b = np.broadcast_to(brightness[:, None, None, None], a.shape).astype(np.float32)
    ab = np.full_like(a, -0.9)  # every translation painted the same dark background
    kept = brightness < 0.0  # the darker half keeps its labels, the brighter half does not
    r = background_report(a, b, ab, kept)
    assert r["mnistm_to_mnist_by_background"] == [1.0, 1.0, 0.0, 0.0]
    np.testing.assert_allclose(r["background_mnistm"], [0.0, brightness.std()], atol=1e-6)
    np.testing.assert_allclose(r["background_translated"], [-0.9, 0.0], atol=1e-6)


def _trainer(lambda_identity=0.5, pool=50, seed=0):
    mg.manual_seed(seed)
    G = CycleGenerators(resnet_generator(3, 3, 4, 1), resnet_generator(3, 3, 4, 1))
    D = CycleDiscriminators(*(patch_discriminator(3, 4, 1, norm="instance") for _ in range(2)))
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (6, 3, 28, 28)).astype(np.float32)
    b = rng.uniform(-1, 1, (6, 3, 28, 28)).astype(np.float32)
    opt_G, opt_D = optim.Adam(G.parameters(), lr=1e-3), optim.Adam(D.parameters(), lr=1e-3)
    variant = CycleGAN(10.0, lambda_identity, pool)
    return Trainer(G, D, opt_G, opt_D, lambda n: (a[:n], b[:n]), z_dim=0, batch_size=4, variant=variant)


def test_a_step_records_every_term_and_sums_them_with_the_official_weights():
    t = _trainer()
    record = t.step()
    for key in (
        "loss_D",
        "loss_D_A",
        "loss_D_B",
        "loss_G",
        "loss_G_gan",
        "cycle",
        "identity",
        "D_x",
        "D_G_z",
    ):
        assert np.isfinite(record[key]), key
    assert record["loss_D"] == pytest.approx(record["loss_D_A"] + record["loss_D_B"], rel=1e-5)
    expected = record["loss_G_gan"] + 10 * record["cycle"] + 5 * record["identity"]
    assert record["loss_G"] == pytest.approx(expected, rel=1e-5)
    assert len(t.variant.pool_A) == 4 and len(t.variant.pool_B) == 4


def test_each_generator_gets_gradient_from_both_cycles():
    t = _trainer(lambda_identity=0.0)
    t.d_step(t.sample_real(4))
    t.g_step()
    for name in ("G_AB", "G_BA"):
        g = np.concatenate([p.grad.numpy().ravel() for p in getattr(t.G, name).parameters()])
        assert np.abs(g).sum() > 0, name


def test_state_dict_holds_the_pools_and_resumes_identically():
    t1, t2 = _trainer(), _trainer()
    for _ in range(3):
        t1.step()
    state = {k: v for k, v in t1.state_dict().items()}
    assert set(state["variant"]) == {"pool_A", "pool_B"}
    rng_state = mg.random.get_rng_state()
    t2.load_state_dict(state)
    r1 = t1.step()
    mg.random.set_rng_state(rng_state)
    r2 = t2.step()
    assert r1 == r2


def test_translation_inputs_are_checked():
    v = CycleGAN()
    assert v.input_problem(None, (2, 3, 28, 28), "BtoA") is None
    assert "3-channel" in v.input_problem(None, (2, 1, 28, 28), "AtoB")
    assert "multiples of 4" in v.input_problem(None, (2, 3, 30, 30), "AtoB")
