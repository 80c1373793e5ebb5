"""Trainer: d_step / g_step move D and G the right way, records, penalties, divergence, state round trip."""

import math

import numpy as np
import pytest

import minigan as mg
from minigan import optim
from minigan.data.toy import get_dataset
from minigan.gan import NonFiniteError, Trainer, mlp_discriminator, mlp_generator


def make(loss="nonsaturating", penalty=None, k=1, seed=0, lr=1e-2, data="ring8", sample_real=None):
    mg.manual_seed(seed)
    ds = get_dataset(data)
    rng = np.random.default_rng(seed)
    G = mlp_generator(2, ds.dim, hidden=16, depth=1)
    D = mlp_discriminator(ds.dim, hidden=16, depth=1)
    trainer = Trainer(
        G,
        D,
        optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999)),
        optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999)),
        sample_real or (lambda n: ds.sample(n, rng)),
        z_dim=2,
        batch_size=32,
        loss=loss,
        k=k,
        penalty=penalty,
    )
    return trainer, ds, rng


def params(module):
    return [p.array.copy() for p in module.parameters()]


def test_d_steps_push_d_of_real_up_and_d_of_fake_down():
    trainer, ds, rng = make()
    first = trainer.d_step(ds.sample(32, rng))
    for _ in range(60):
        last = trainer.d_step(ds.sample(32, rng))
    assert last["D_x"] > first["D_x"] + 0.1  # 0.51 -> 0.66
    assert last["D_G_z"] < first["D_G_z"] - 0.1  # 0.52 -> 0.32
    assert last["loss_D"] < first["loss_D"]


def test_g_steps_push_d_of_fake_up_and_leave_d_alone():
    trainer, ds, rng = make()
    for _ in range(20):  # a D that tells the two apart
        trainer.d_step(ds.sample(32, rng))
    z = mg.randn(256, 2)

    def d_of_fake():
        with mg.no_grad():
            return float(mg.nn.functional.sigmoid(trainer.D(trainer.G(z))).mean().item())

    d_params = params(trainer.D)
    d_grads = [p.grad.array.copy() for p in trainer.D.parameters()]  # left by the last d_step
    before = d_of_fake()
    for _ in range(20):
        trainer.g_step()
    assert d_of_fake() > before + 0.05
    for a, g, p in zip(d_params, d_grads, trainer.D.parameters()):
        np.testing.assert_array_equal(a, p.array)  # D untouched ...
        np.testing.assert_array_equal(g, p.grad.array)  # ... and given no gradients
        assert p.requires_grad


def test_d_step_leaves_g_alone():
    trainer, ds, rng = make()
    g_params = params(trainer.G)
    trainer.d_step(ds.sample(32, rng))
    for a, p in zip(g_params, trainer.G.parameters()):
        np.testing.assert_array_equal(a, p.array)
        assert p.grad is None


def test_step_runs_k_d_steps_then_one_g_step_and_records_everything():
    calls = []
    ds = get_dataset("ring8")
    rng = np.random.default_rng(1)
    trainer, _, _ = make(k=3, sample_real=lambda n: calls.append(n) or ds.sample(n, rng))
    record = trainer.step()
    assert calls == [32, 32, 32] and trainer.step_count == 1 and record["step"] == 1
    keys = {"loss_D", "loss_G", "D_x", "D_G_z", "V", "grad_norm_D", "grad_norm_G", "penalty"}
    assert keys <= set(record)
    assert all(math.isfinite(record[k]) for k in keys)
    assert 0 < record["D_x"] < 1 and 0 < record["D_G_z"] < 1
    assert record["V"] == pytest.approx(-record["loss_D"], rel=1e-5)  # minimax D loss = -V


@pytest.mark.parametrize(
    "loss,penalty",
    [
        ("minimax", None),
        ("lsgan", None),
        ("hinge", None),
        ("wasserstein", "wgan-gp"),
        ("nonsaturating", "r1"),
    ],
)
def test_every_loss_and_penalty_trains(loss, penalty):
    trainer, _, _ = make(loss=loss, penalty=penalty, lr=1e-3)
    records = [trainer.step() for _ in range(3)]
    assert all(math.isfinite(r["loss_D"]) and math.isfinite(r["loss_G"]) for r in records)
    if penalty:
        assert records[-1]["penalty"] > 0 and trainer.gamma == {"wgan-gp": 10.0, "r1": 1.0}[penalty]
    else:
        assert records[-1]["penalty"] == 0.0


def test_non_finite_loss_stops_before_any_update():
    ds = get_dataset("ring8")
    rng = np.random.default_rng(0)
    state = {"n": 0}

    def sample_real(n):
        state["n"] += 1
        x = ds.sample(n, rng)
        return x * np.nan if state["n"] == 3 else x

    trainer, _, _ = make(sample_real=sample_real)
    trainer.step()
    trainer.step()
    d_params, g_params = params(trainer.D), params(trainer.G)
    with pytest.raises(NonFiniteError, match="step 3: loss_D is nan"):
        trainer.step()
    assert trainer.step_count == 2
    for a, p in zip(d_params + g_params, list(trainer.D.parameters()) + list(trainer.G.parameters())):
        np.testing.assert_array_equal(a, p.array)


def test_state_dict_round_trip_continues_identically():
    a, _, _ = make(seed=0)
    for _ in range(3):
        a.step()
    b, _, _ = make(seed=5)  # other weights, fresh optimizers
    b.load_state_dict(a.state_dict())
    assert b.step_count == 3
    x = get_dataset("ring8").sample(32, np.random.default_rng(9))
    rng_state = mg.get_rng_state()
    ra = {**a.d_step(x), **a.g_step()}
    mg.set_rng_state(rng_state)  # the same noise for both
    rb = {**b.d_step(x), **b.g_step()}
    assert ra == rb
    for m, n in ((a.G, b.G), (a.D, b.D)):
        for p, q in zip(m.parameters(), n.parameters()):
            np.testing.assert_array_equal(p.array, q.array)


def test_sample_uses_eval_mode_and_no_graph():
    trainer, _, _ = make()
    x = trainer.sample(5)
    assert x.shape == (5, 2) and not x.requires_grad and trainer.G.training
    z = np.zeros((4, 2), np.float32)
    np.testing.assert_array_equal(trainer.sample(4, z=z).numpy(), trainer.sample(4, z=z).numpy())


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown GAN loss"):
        make(loss="nope")
    with pytest.raises(ValueError, match="unknown penalty"):
        make(penalty="l2")
    with pytest.raises(ValueError, match="k .* must be an int >= 1"):
        make(k=0)
