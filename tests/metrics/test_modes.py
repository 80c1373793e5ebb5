"""Mode coverage (PacGAN/VEEGAN protocol) and the 1-D density tools, on hand-built sample sets."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.data import get_dataset, grid25, ring8
from minigan.metrics import (
    N_SAMPLES,
    evaluate_modes,
    gaussian_kde,
    js_divergence,
    kl_divergence,
    mode_coverage,
    optimal_discriminator,
    reverse_kl_uniform,
    value_function,
)


def test_exact_modes_cover_everything_with_zero_kl():
    ds = grid25()
    x = np.repeat(ds.modes, 100, axis=0)  # 2500 samples, exactly 100 per mode
    m = evaluate_modes(ds, x)
    assert (m.modes_covered, m.n_modes, m.n_samples) == (25, 25, N_SAMPLES)
    assert m.high_quality == 1.0 and m.reverse_kl == pytest.approx(0.0, abs=1e-12)
    assert m.counts == (100,) * 25 and m.all_covered
    assert str(m) == "25/25 modes, 100.0% high quality, reverse KL 0.000 (2500 samples)"


def test_true_distribution_scores_like_the_data():
    ds = ring8()
    m = evaluate_modes(ds, ds.sample(N_SAMPLES, np.random.default_rng(0)))
    assert m.modes_covered == 8
    assert m.high_quality > 0.97  # theory: 1 - exp(-4.5) = 0.989
    assert m.reverse_kl < 0.01


def test_one_mode_only():
    ds = ring8()
    x = ds.modes[3] + ds.std * np.random.default_rng(0).standard_normal((N_SAMPLES, 2)) * 0.5
    m = evaluate_modes(ds, x)
    assert m.modes_covered == 1 and m.counts[3] == m.counts[3] == sum(m.counts)
    assert m.reverse_kl == pytest.approx(math.log(8))


def test_off_mode_samples_are_not_high_quality():
    ds = grid25()
    midpoints = np.array([[1.0, 1.0], [-3.0, 0.0], [0.0, 3.0], [5.0, 5.0]])  # between / beyond the modes
    x = np.concatenate([np.repeat(midpoints, 10, axis=0), np.repeat(ds.modes[:1], 10, axis=0)])
    m = evaluate_modes(ds, x)
    assert m.high_quality == pytest.approx(10 / 50)
    assert m.modes_covered == 1  # the off-mode samples have nearest modes but cover nothing


def test_threshold_is_three_std_exactly():
    mu = np.array([[0.0, 0.0], [10.0, 0.0]])
    inside = mode_coverage(np.array([[0.0299, 0.0]]), mu, std=0.01)
    outside = mode_coverage(np.array([[0.0301, 0.0]]), mu, std=0.01)
    assert inside.high_quality == 1.0 and outside.high_quality == 0.0
    assert outside.modes_covered == 0 and math.isnan(outside.reverse_kl)


def test_diverged_samples_are_not_high_quality():
    ds = ring8()
    x = np.concatenate([ds.modes, [[np.nan, 0.0], [np.inf, 1.0]]])
    m = evaluate_modes(ds, x)
    assert m.modes_covered == 8 and m.high_quality == pytest.approx(8 / 10)


def test_accepts_a_tensor_and_checks_shapes():
    ds = ring8()
    m = evaluate_modes(ds, mg.tensor(ds.modes, requires_grad=True))
    assert m.modes_covered == 8
    with pytest.raises(ValueError, match=r"samples must have shape \(n, 2\)"):
        evaluate_modes(ds, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="no discrete modes"):
        evaluate_modes(get_dataset("swissroll"), np.zeros((5, 2)))


@given(st.lists(st.integers(0, 50), min_size=1, max_size=30).filter(lambda c: sum(c) > 0))
def test_reverse_kl_matches_definition_and_bounds(counts):
    c = np.array(counts, dtype=float)
    q = c / c.sum()
    k = len(c)
    expected = sum(qi * math.log(qi * k) for qi in q if qi > 0)
    kl = reverse_kl_uniform(c)
    assert kl == pytest.approx(expected, abs=1e-12)
    assert -1e-12 <= kl <= math.log(k) + 1e-12


def test_reverse_kl_two_of_four_modes():
    assert reverse_kl_uniform([5, 5, 0, 0]) == pytest.approx(math.log(2))


# ---- 1-D densities, D* and the value of the game (chapter 06) ----


def _normal(x, m, s):
    return np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def test_optimal_discriminator_known_cases():
    assert optimal_discriminator(2.0, 2.0) == 0.5
    assert optimal_discriminator(3.0, 1.0) == 0.75
    np.testing.assert_array_equal(optimal_discriminator([0.0, 1.0, 0.0], [0.0, 0.0, 1.0]), [0.5, 1.0, 0.0])
    # two unit Gaussians at +-1: D*(x) = sigmoid(log N(x;1,1) - log N(x;-1,1)) = sigmoid(2x)
    x = np.linspace(-3, 3, 13)
    d = optimal_discriminator(_normal(x, 1, 1), _normal(x, -1, 1))
    np.testing.assert_allclose(d, 1 / (1 + np.exp(-2 * x)), rtol=1e-12)


def test_value_at_optimum_is_minus_log4_plus_2jsd():
    x = np.linspace(-6, 12, 20001)
    dx = x[1] - x[0]
    pd = _normal(x, 4, 0.5)
    for pg in (_normal(x, 0, 1), _normal(x, 3.5, 0.7), pd):
        v = value_function(optimal_discriminator(pd, pg), pd, pg, dx)
        assert v == pytest.approx(-math.log(4) + 2 * js_divergence(pd, pg, dx), abs=1e-6)
    assert value_function(np.full_like(x, 0.5), pd, pd, dx) == pytest.approx(-math.log(4), abs=1e-6)
    # far-apart densities: JSD -> log 2, V(D*) -> 0
    assert js_divergence(_normal(x, -4, 0.1), _normal(x, 10, 0.1), dx) == pytest.approx(math.log(2), abs=1e-6)


def test_d_star_beats_other_discriminators():
    x = np.linspace(-4, 10, 4001)
    dx = x[1] - x[0]
    pd, pg = _normal(x, 4, 0.5), _normal(x, 2, 1.0)
    best = value_function(optimal_discriminator(pd, pg), pd, pg, dx)
    for d in (
        np.full_like(x, 0.5),
        1 / (1 + np.exp(-(x - 3))),
        np.clip(optimal_discriminator(pd, pg), 0.1, 0.9),
    ):
        assert value_function(d, pd, pg, dx) < best


def test_kl_infinite_when_support_missing():
    assert kl_divergence([1.0, 1.0], [1.0, 0.0], 1.0) == math.inf
    assert kl_divergence([1.0, 0.0], [0.5, 0.5], 1.0) == pytest.approx(math.log(2))


def test_gaussian_kde_recovers_a_normal():
    s = np.random.default_rng(0).normal(4, 0.5, size=40000)
    x = np.linspace(2, 6, 41)
    h = s.std() * len(s) ** -0.2  # Scott's rule
    p = gaussian_kde(s, x)
    # E[KDE] is the data density smoothed by the kernel: N(4, 0.5^2 + h^2)
    np.testing.assert_allclose(p, _normal(x, 4, math.sqrt(0.25 + h * h)), atol=0.03)
    np.testing.assert_allclose(gaussian_kde([0.0, 2.0], [1.0], bandwidth=1.0), _normal(1.0, 0, 1))
    assert gaussian_kde(s[:, None], x).shape == x.shape
    assert np.all(np.isfinite(gaussian_kde(np.full(10, 2.0), x)))  # collapsed samples: no division by 0
