"""The GAN losses against hand-computed values, their stability at extreme logits, and saturation."""

import math

import numpy as np
import pytest

import minigan as mg
from minigan.gan import losses

REAL = [2.0, -1.0, 0.5]
FAKE = [0.5, -3.0]


def t(values, grad=False):
    return mg.tensor(
        np.asarray(values, dtype=np.float64).reshape(-1, 1), dtype=np.float64, requires_grad=grad
    )


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def mean(xs):
    return sum(xs) / len(xs)


def test_minimax_and_nonsaturating_d_loss_is_binary_cross_entropy():
    # -E log D(x) - E log(1 - D(G(z))), straight from the probabilities
    expected = -mean([math.log(sig(r)) for r in REAL]) - mean([math.log(1 - sig(f)) for f in FAKE])
    for name in ("minimax", "nonsaturating"):
        assert losses.d_loss(name, t(REAL), t(FAKE)).item() == pytest.approx(expected, rel=1e-12)


def test_generator_losses_by_hand():
    assert losses.g_loss("minimax", t(FAKE)).item() == pytest.approx(
        mean([math.log(1 - sig(f)) for f in FAKE]), rel=1e-12
    )
    assert losses.g_loss("nonsaturating", t(FAKE)).item() == pytest.approx(
        -mean([math.log(sig(f)) for f in FAKE]), rel=1e-12
    )
    assert losses.g_loss("lsgan", t(FAKE)).item() == pytest.approx(0.5 * mean([(f - 1) ** 2 for f in FAKE]))
    assert losses.g_loss("hinge", t(FAKE)).item() == pytest.approx(-mean(FAKE))
    assert losses.g_loss("wasserstein", t(FAKE)).item() == pytest.approx(-mean(FAKE))


def test_other_d_losses_by_hand():
    lsgan = 0.5 * mean([(r - 1) ** 2 for r in REAL]) + 0.5 * mean([f**2 for f in FAKE])
    hinge = mean([max(0.0, 1 - r) for r in REAL]) + mean([max(0.0, 1 + f) for f in FAKE])
    wass = mean(FAKE) - mean(REAL)
    assert losses.d_loss("lsgan", t(REAL), t(FAKE)).item() == pytest.approx(lsgan)
    assert losses.d_loss("hinge", t(REAL), t(FAKE)).item() == pytest.approx(hinge)
    assert losses.d_loss("wasserstein", t(REAL), t(FAKE)).item() == pytest.approx(wass)


def test_value_is_minus_log4_at_equilibrium_and_matches_definition():
    assert losses.value(t([0.0, 0.0]), t([0.0])).item() == pytest.approx(-math.log(4))
    v = mean([math.log(sig(r)) for r in REAL]) + mean([math.log(1 - sig(f)) for f in FAKE])
    assert losses.value(t(REAL), t(FAKE)).item() == pytest.approx(v, rel=1e-12)
    # for the minimax game the D loss is exactly -V
    assert losses.d_loss("minimax", t(REAL), t(FAKE)).item() == pytest.approx(-v, rel=1e-12)


@pytest.mark.parametrize("name", losses.LOSSES)
def test_extreme_logits_stay_finite(name):
    big = 1e4  # exp(1e4) overflows float64: a naive log(sigmoid) would give -inf / nan
    real, fake = t([big, -big], grad=True), t([-big, big], grad=True)
    ld = losses.d_loss(name, real, fake)
    lg = losses.g_loss(name, fake)
    (ld + lg).backward()
    assert np.isfinite(ld.item()) and np.isfinite(lg.item())
    assert np.isfinite(real.grad.array).all() and np.isfinite(fake.grad.array).all()


def test_confident_discriminator_has_near_zero_loss():
    assert losses.d_loss("minimax", t([50.0]), t([-50.0])).item() == pytest.approx(0.0, abs=1e-20)
    assert losses.g_loss("nonsaturating", t([-50.0])).item() == pytest.approx(50.0)


def test_minimax_generator_saturates_and_nonsaturating_does_not():
    """When D confidently rejects the fakes (logit -10), log(1 - D) is flat: the gradient vanishes."""
    f1, f2 = t([-10.0], grad=True), t([-10.0], grad=True)
    losses.g_loss("minimax", f1).backward()
    losses.g_loss("nonsaturating", f2).backward()
    assert abs(f1.grad.item()) < 1e-4  # -sigmoid(-10) ~ -4.5e-5
    assert f2.grad.item() == pytest.approx(-1.0, abs=1e-4)  # -(1 - sigmoid(-10))


def test_unknown_loss_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown GAN loss 'wgan'.*nonsaturating"):
        losses.d_loss("wgan", t(REAL), t(FAKE))
