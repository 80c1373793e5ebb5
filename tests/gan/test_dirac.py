"""Dirac-GAN (Mescheder et al. 2018) on minigan autograd: plain GD does not converge, R1 does."""

import math

import numpy as np
import pytest

from minigan.gan import dirac

START = math.hypot(1.0, 1.0)


def radius(path):
    return np.hypot(path[:, 0], path[:, 1])


def test_gradient_field_is_a_rotation_near_the_equilibrium():
    # L_D = log 2 + softplus(psi theta): dL_D/dpsi = sigmoid(psi theta) theta ~ theta / 2
    g_theta, g_psi = dirac.gradients(0.01, 0.02)
    assert g_psi == pytest.approx(0.01 / (1 + math.exp(-0.0002)), rel=1e-9)
    assert g_theta == pytest.approx(-0.02 / (1 + math.exp(-0.0002)), rel=1e-9)
    # R1 adds d/dpsi gamma/2 psi^2 = gamma psi
    _, g_psi_r1 = dirac.gradients(0.01, 0.02, gamma=1.0)
    assert g_psi_r1 == pytest.approx(g_psi + 0.02, rel=1e-9)


def test_simultaneous_gd_spirals_out():
    r = radius(dirac.trajectory(1.0, 1.0, lr=0.2, steps=500, mode="simultaneous"))
    assert r[-1] > 2 * START
    assert np.all(np.diff(r) > -1e-12)  # the distance from the equilibrium never shrinks


def test_alternating_gd_circles_without_converging():
    r = radius(dirac.trajectory(1.0, 1.0, lr=0.2, steps=500, mode="alternating"))
    assert r.min() > 0.9 * START and r[-100:].min() > 0.9 * START


@pytest.mark.parametrize("mode", ["simultaneous", "alternating"])
def test_r1_converges_to_the_equilibrium(mode):
    path = dirac.trajectory(1.0, 1.0, lr=0.2, steps=500, gamma=1.0, mode=mode)
    assert radius(path)[-1] < 1e-6


def test_lazy_r1_still_converges_more_slowly_with_its_period():
    dist = {}
    for k in (1, 4, 8):
        path = dirac.trajectory(1.0, 1.0, lr=0.2, steps=400, loss="minimax", gamma=1.0, mode="alternating",
                                r1_every=k)  # fmt: skip
        dist[k] = np.hypot(*path[-1])
    assert dist[1] < 1e-10 and dist[4] < 1e-5 and dist[8] < 1e-2 and dist[1] < dist[4] < dist[8]
    every = dirac.trajectory(1.0, 1.0, steps=20, gamma=1.0, mode="alternating", r1_every=1)
    np.testing.assert_array_equal(every, dirac.trajectory(1.0, 1.0, steps=20, gamma=1.0, mode="alternating"))


def test_vector_field_shape_and_sign():
    u, v = dirac.vector_field([-1.0, 1.0], [0.0, 0.5, 1.0])
    assert u.shape == v.shape == (3, 2)
    # at (theta, psi) = (1, 1) the descent direction turns theta up and psi down (clockwise rotation)
    assert u[2, 1] > 0 and v[2, 1] < 0
