"""The variants of the one game loop: the unconditional game unchanged, cgan / acgan / projection / sgan
compute what their docstrings say, on small nets and small batches."""

import json
from pathlib import Path

import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.data.toy import get_dataset
from minigan.gan import Trainer, mlp_discriminator, mlp_generator
from minigan.gan.variants import ACGAN, Conditional, SemiSupervised
from minigan.gan.variants.acgan import AuxClassifierDiscriminator
from minigan.gan.variants.cgan import LabelledGenerator, LabelMapDiscriminator
from minigan.gan.variants.projection import ConditionalBatchNorm, ProjectionDiscriminator, ProjectionGenerator
from minigan.gan.variants.sgan import (
    AveragedDiscriminator,
    ClassifierDiscriminator,
    make_discriminator,
    real_fake_logit,
)
from minigan.nn import functional as F

LEGACY = Path(__file__).with_name("legacy_records.json")


@pytest.mark.parametrize("game", list(json.loads(LEGACY.read_text())))
def test_unconditional_game_gives_the_numbers_of_the_trainer_before_variants(game):
    """legacy_records.json: 20 steps of each game, recorded with the Trainer as it was before the variants
    existed (commit 8bcb298); the default variant plays the same game to the same numbers."""
    loss, penalty, k = game.split("/")
    expected = json.loads(LEGACY.read_text())[game]
    mg.manual_seed(0)
    ds, rng = get_dataset("ring8"), np.random.default_rng(0)
    G, D = mlp_generator(2, 2, hidden=16, depth=2), mlp_discriminator(2, hidden=16, depth=2)
    t = Trainer(
        G, D, optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9)),
        optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9)), lambda n: ds.sample(n, rng),
        z_dim=2, batch_size=32, loss=loss, k=int(k), penalty=None if penalty == "None" else penalty,
    )  # fmt: skip
    records = [t.step() for _ in range(20)]
    assert [sorted(r) for r in records] == [sorted(r) for r in expected["records"]]
    for got, want in zip(records, expected["records"]):
        for key in want:
            assert got[key] == pytest.approx(want[key], rel=1e-6, abs=1e-7), (got["step"], key)
    np.testing.assert_allclose(list(G.parameters())[-1].detach().numpy(), expected["G"], rtol=1e-6, atol=1e-7)


def test_trainer_refuses_loss_arguments_beside_a_variant():
    G, D = mlp_generator(2, 2, 8, 1), mlp_discriminator(2, 8, 1)
    opt = optim.SGD(G.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="give loss, penalty and gamma to the variant"):
        Trainer(G, D, opt, opt, lambda n: None, z_dim=2, loss="hinge", variant=Conditional())


# -- small conditional nets on 8 x 8 images ------------------------------------------------------------
SIDE, Z = 8, 4


def labelled_data(n, rng):
    """Class c < 8: a bright column c of an 8 x 8 image on a dark background; 8 and 9: row 0 and row 7."""
    y = rng.integers(0, 10, n)
    x = -np.ones((n, 1, SIDE, SIDE), np.float32)
    for i, c in enumerate(y):
        if c < SIDE:
            x[i, 0, :, c] = 1.0
        else:
            x[i, 0, 0 if c == 8 else SIDE - 1, :] = 1.0
    return x, y.astype(np.int64)


def trainer_for(variant, G, D, batch=16, seed=0, lr=2e-3):
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    return Trainer(
        G, D, optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999)),
        optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999)), lambda n: labelled_data(n, rng),
        z_dim=Z, batch_size=batch, variant=variant,
    )  # fmt: skip


def conditional_pair(kind):
    mg.manual_seed(0)
    if kind == "cgan":
        return LabelledGenerator(SIDE, 1, Z, 4), LabelMapDiscriminator(SIDE, 1, 4)
    if kind == "acgan":
        return LabelledGenerator(SIDE, 1, Z, 4), AuxClassifierDiscriminator(SIDE, 1, 4)
    return ProjectionGenerator(SIDE, 1, Z, 4), ProjectionDiscriminator(SIDE, 1, 4)


@pytest.mark.parametrize("kind", ["cgan", "acgan", "projection"])
@pytest.mark.parametrize("penalty", [None, "r1", "wgan-gp"])
def test_conditional_step_records_and_moves_every_parameter(kind, penalty):
    G, D = conditional_pair(kind)
    loss = "wasserstein" if penalty == "wgan-gp" else "nonsaturating"
    variant = (ACGAN if kind == "acgan" else Conditional)(loss, penalty)
    t = trainer_for(variant, G, D)
    before = {name: p.detach().numpy().copy() for name, p in [*G.named_parameters(), *D.named_parameters()]}
    record = t.step()
    keys = {"step", "loss_D", "penalty", "D_x", "D_G_z", "V", "grad_norm_D", "loss_G", "grad_norm_G"}
    assert keys <= set(record) and all(np.isfinite(v) for v in record.values())
    if kind == "acgan":
        assert {"cls_D", "cls_G", "acc_real"} <= set(record)
    assert (record["penalty"] > 0) == (penalty is not None)
    after = dict([*G.named_parameters(), *D.named_parameters()])
    unmoved = [n for n, a in before.items() if np.array_equal(a, after[n].detach().numpy())]
    # label embeddings, gains and heads included; the Wasserstein critic's output bias is the exception:
    # E d(fake) - E d(real) does not depend on it, so its gradient is exactly 0
    critic_bias = {"cgan": "net.3.bias", "acgan": "adv.bias", "projection": "psi.bias"}[kind]
    assert unmoved == ([] if penalty != "wgan-gp" else [critic_bias])


@pytest.mark.parametrize("kind", ["cgan", "acgan", "projection"])
def test_conditional_generator_draws_for_the_label(kind):
    G, _ = conditional_pair(kind)
    z = mg.tensor(np.repeat(mg.randn(1, Z).numpy(), 10, 0))
    G.eval()
    with mg.no_grad():
        x = G(z, mg.arange(10)).numpy()
    assert x.shape == (10, 1, SIDE, SIDE) and np.abs(x).max() <= 1
    assert min(np.abs(x[i] - x[j]).max() for i in range(10) for j in range(i)) > 1e-6  # same z, other y
    with pytest.raises(ValueError, match="give it labels"):
        Conditional().generate(G, z)


def test_acgan_class_head_learns_the_labels():
    G, D = conditional_pair("acgan")
    t = trainer_for(ACGAN(), G, D, batch=32, lr=5e-3)
    records = [t.step() for _ in range(40)]
    assert np.mean([r["cls_D"] for r in records[-5:]]) < 0.5 * np.mean([r["cls_D"] for r in records[:5]])
    assert np.mean([r["acc_real"] for r in records[-5:]]) > 0.8


@pytest.mark.parametrize("w_f", [0.0, 1.0])
def test_acgan_class_loss_of_d_takes_the_fakes_with_their_weight(w_f):
    """cls_D = CE(c(x), y) + w_f * CE(c(fake), y): with w_f = 0 the class head sees real digits only."""
    G, D = conditional_pair("acgan")
    t = trainer_for(ACGAN(cls_fake_weight=w_f), G, D)
    x, y = labelled_data(16, np.random.default_rng(3))
    x, y = mg.tensor(x), mg.tensor(y)
    _, record = t.variant.d_loss(t, (x, y))
    with mg.no_grad():
        ce_real = float(F.cross_entropy(D(x)[1], y).item())
    if w_f == 0:
        assert record["cls_D"] == pytest.approx(ce_real, rel=1e-6)
    else:  # the fake term is there, and positive
        assert record["cls_D"] > ce_real + 1e-3


def test_projection_discriminator_is_psi_plus_inner_product():
    _, D = conditional_pair("projection")
    x, y = labelled_data(6, np.random.default_rng(1))
    x, y = mg.tensor(x), mg.tensor(y)
    D.eval()
    with mg.no_grad():
        f = D.features(x).numpy()
        e = D.embed.weight.detach().numpy()[y.numpy()]
        want = D.psi(mg.tensor(f)).numpy() + (e * f).sum(1, keepdims=True)
        np.testing.assert_allclose(D(x, y).numpy(), want, rtol=1e-5, atol=1e-6)


def test_conditional_batch_norm_uses_the_gain_and_bias_of_each_class():
    mg.manual_seed(0)
    cbn = ConditionalBatchNorm(3, n_classes=4, images=True)
    with mg.no_grad():
        cbn.gamma.weight.copy_(mg.tensor(np.arange(12, dtype=np.float32).reshape(4, 3)))
        cbn.beta.weight.copy_(mg.tensor(-np.arange(12, dtype=np.float32).reshape(4, 3)))
    x, y = mg.randn(8, 3, 2, 2), mg.tensor(np.array([0, 1, 2, 3, 3, 2, 1, 0]))
    out = cbn(x, y).detach().numpy()
    a = x.numpy()
    h = (a - a.mean((0, 2, 3), keepdims=True)) / np.sqrt(a.var((0, 2, 3), keepdims=True) + 1e-5)
    g, b = cbn.gamma.weight.detach().numpy()[y.numpy()], cbn.beta.weight.detach().numpy()[y.numpy()]
    np.testing.assert_allclose(out, g[:, :, None, None] * h + b[:, :, None, None], rtol=1e-4, atol=1e-5)


# -- the semi-supervised GAN ---------------------------------------------------------------------------
def test_sgan_d_loss_is_cross_entropy_plus_the_logsumexp_game():
    mg.manual_seed(0)
    G = nn.Sequential(nn.Linear(Z, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))
    D = ClassifierDiscriminator(widths=(16, 8), noise=(0.0, 0.0))
    rng = np.random.default_rng(0)
    x_unl = rng.uniform(-1, 1, (5, 1, 28, 28)).astype(np.float32)
    x_lab = rng.uniform(-1, 1, (5, 1, 28, 28)).astype(np.float32)
    y_lab = rng.integers(0, 10, 5)
    t = Trainer(G, D, optim.SGD(G.parameters(), lr=0.0), optim.SGD(D.parameters(), lr=0.0),
                lambda n: (x_unl, x_lab, y_lab), z_dim=Z, batch_size=5, variant=SemiSupervised())  # fmt: skip
    z = mg.randn(5, Z)
    t.sample_z = lambda n: z
    batch = t._real((x_unl, x_lab, y_lab))
    loss, record = SemiSupervised().d_loss(t, batch)
    with mg.no_grad():
        logits = lambda a: D(mg.tensor(a)).numpy().astype(np.float64)  # noqa: E731
        lse = lambda a: np.log(np.exp(logits(a)).sum(1))  # noqa: E731
        softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731
        l_lab = logits(x_lab)
        ce = np.mean(np.log(np.exp(l_lab).sum(1)) - l_lab[np.arange(5), y_lab])
        fake = G(z).numpy()
        want = ce + 0.5 * (np.mean(softplus(-lse(x_unl))) + np.mean(softplus(lse(fake))))
    assert float(loss.item()) == pytest.approx(want, rel=1e-5)
    assert record["loss_sup"] == pytest.approx(ce, rel=1e-5)
    s = real_fake_logit(mg.tensor(l_lab.astype(np.float32))).numpy()[:, 0]
    np.testing.assert_allclose(s, np.log(np.exp(l_lab).sum(1)), rtol=1e-5)


def test_sgan_g_step_matches_features_and_leaves_d_alone():
    mg.manual_seed(0)
    G = nn.Sequential(nn.Linear(Z, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))
    D = ClassifierDiscriminator(widths=(16, 8))
    rng = np.random.default_rng(0)

    def batch(n):
        return (rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32),) * 2 + (rng.integers(0, 10, n),)

    t = Trainer(G, D, optim.Adam(G.parameters(), lr=1e-2), optim.Adam(D.parameters(), lr=1e-2), batch,
                z_dim=Z, batch_size=16, variant=SemiSupervised())  # fmt: skip
    t.d_step(batch(16))  # D's data-dependent initialisation happens in its first step
    d_before = [p.detach().numpy().copy() for p in D.parameters()]
    d_grads = [p.grad.numpy().copy() for p in D.parameters()]
    first = t.g_step()["loss_G"]
    for _ in range(30):
        last = t.g_step()["loss_G"]
    assert last < 0.5 * first  # G learns to match D's feature means
    assert all(np.array_equal(a, p.detach().numpy()) for a, p in zip(d_before, D.parameters()))
    assert all(np.array_equal(g, p.grad.numpy()) for g, p in zip(d_grads, D.parameters()))  # none added


def test_normed_linear_starts_normalised_on_its_first_training_batch_and_only_then():
    from minigan.gan.variants.sgan import NormedLinear

    mg.manual_seed(0)
    layer = NormedLinear(6, 4, data_init=True)
    x = mg.tensor(np.random.default_rng(0).normal(3.0, 2.0, (64, 6)).astype(np.float32))
    y = layer(x).detach().numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, rtol=1e-4)
    w = layer.weight().detach().numpy()
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), layer.g.numpy(), rtol=1e-5)
    assert float(layer.initialised.item()) == 1.0 and "initialised" in layer.state_dict()
    again = layer(x * 5.0).detach().numpy()  # initialised once: a new batch is not renormalised
    assert again.std(0).min() > 3
    frozen = NormedLinear(6, 4, data_init=True)
    for p in frozen.parameters():
        p.requires_grad = False
    frozen(x)
    assert float(frozen.initialised.item()) == 0.0  # a frozen D (G's step) is never initialised


def test_averaged_d_answers_with_the_moving_average_in_eval_mode_and_d_in_training():
    mg.manual_seed(0)
    G = nn.Sequential(nn.Linear(Z, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))
    D = AveragedDiscriminator(half_life=2.0, widths=(16, 8))
    rng = np.random.default_rng(0)

    def batch(n):
        return (rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32),) * 2 + (rng.integers(0, 10, n),)

    trained = [p for p in D.parameters() if p.requires_grad]
    assert len(trained) == len(list(D.net.parameters()))  # the average has no gradients
    t = Trainer(G, D, optim.Adam(G.parameters(), lr=1e-2), optim.Adam(trained, lr=1e-2), batch,
                z_dim=Z, batch_size=16, variant=SemiSupervised())  # fmt: skip
    x = mg.tensor(batch(8)[0])
    D.eval()
    with mg.no_grad():
        assert np.array_equal(D(x).numpy(), D.net(x).numpy())  # no average yet: D itself
    D.train()
    t.step()  # the first update copies D, after its data-dependent initialisation
    avg = dict(D.avg.module.named_parameters())
    for name, p in D.net.named_parameters():
        assert np.array_equal(avg[name].detach().numpy(), p.detach().numpy())
    a0 = {k: v.detach().numpy().copy() for k, v in avg.items()}
    t.step()
    beta = 0.5 ** (1 / 2.0)  # half-life 2 steps
    for name, p in D.net.named_parameters():
        want = beta * a0[name] + (1 - beta) * p.detach().numpy()
        np.testing.assert_allclose(avg[name].detach().numpy(), want, rtol=1e-5, atol=1e-7)
    for name, b in D.net.named_buffers():  # the fixed g of the hidden layers: copied
        assert np.array_equal(dict(D.avg.module.named_buffers())[name].numpy(), b.numpy())
    D.eval()
    with mg.no_grad():
        np.testing.assert_array_equal(D(x).numpy(), D.avg.module(x).numpy())
        assert not np.array_equal(D(x).numpy(), D.net(x).numpy())
    assert int(D.state_dict()["avg.n_averaged"].item()) == 2


def test_make_discriminator_keeps_runs_written_before_the_average_plain():
    assert isinstance(make_discriminator({"d_average_steps": 500}), AveragedDiscriminator)
    assert type(make_discriminator({"d_average_steps": 0})) is ClassifierDiscriminator
    assert type(make_discriminator({})) is ClassifierDiscriminator  # an old config.json: no key
    with pytest.raises(ValueError, match="half-life must be a positive number of steps, got 0"):
        AveragedDiscriminator(0)


class _Dots:
    """2 200 black 28 x 28 images with one white pixel at (14, 14), labels 0-9 in turn."""

    def __init__(self, n=2200):
        self.images = np.zeros((n, 28, 28), np.uint8)
        self.images[:, 14, 14] = 255
        self.labels = np.arange(n) % 10

    def __len__(self):
        return len(self.images)


def _dot_positions(x):
    flat = x.reshape(len(x), -1).argmax(1)
    return np.stack([flat // 28, flat % 28], 1) - 14


@pytest.mark.parametrize("max_shift", [1, 2])
def test_sgan_batches_shift_each_real_image_by_at_most_max_shift(max_shift):
    from minigan.gan.variants.sgan import make_batches

    config = {"labeled": 100, "seed": 0, "max_shift": max_shift}
    x_unl, x_lab, y_lab = make_batches(_Dots(), config).sample(200, np.random.default_rng(0))
    for x in (x_unl, x_lab):
        assert x.shape == (200, 1, 28, 28) and x.dtype == np.float32
        assert np.array_equal(np.sort(x.reshape(200, -1), 1)[:, -2:], np.tile([-1.0, 1.0], (200, 1)))
        offsets = _dot_positions(x)
        assert np.abs(offsets).max() == max_shift  # within the bound, and the bound is reached
        assert len({tuple(o) for o in offsets}) == (2 * max_shift + 1) ** 2  # every offset drawn
    assert y_lab.dtype == np.int64


def test_sgan_batches_without_shift_draw_what_they_drew_before_the_option():
    from minigan.gan.variants.sgan import SemiSupervisedBatches, make_batches

    data = _Dots()
    old = SemiSupervisedBatches(data, 100, 0).sample(50, np.random.default_rng(3))
    new = make_batches(data, {"labeled": 100, "seed": 0}).sample(50, np.random.default_rng(3))
    g = np.random.default_rng(3)
    g.integers(0, 200, 50), g.integers(0, 100, 50)  # the two index draws (200 training images), nothing else
    h = np.random.default_rng(3)
    make_batches(data, {"labeled": 100, "seed": 0, "max_shift": 0}).sample(50, h)
    assert g.integers(1 << 30) == h.integers(1 << 30)
    for a, b in zip(old, new):
        assert np.array_equal(a, b)
    assert not _dot_positions(new[0]).any()
