"""Toy datasets: shapes, dtypes, seeding, the ring's and grid's modes, densities, the factory."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.data import DATASETS, get_dataset, grid25, ring8

NAMES = sorted(DATASETS)


@pytest.mark.parametrize("name", NAMES)
@given(n=st.integers(0, 50), seed=st.integers(0, 2**32 - 1))
def test_sample_shape_dtype_and_seeding(name, n, seed):
    ds = get_dataset(name)
    a = ds.sample(n, np.random.default_rng(seed))
    b = ds.sample(n, np.random.default_rng(seed))
    assert a.shape == (n, ds.dim) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)  # same seed -> bit-identical draws
    assert np.all(np.isfinite(a))


@pytest.mark.parametrize("name", NAMES)
def test_different_seeds_differ_and_int_seed_works(name):
    ds = get_dataset(name)
    assert not np.array_equal(
        ds.sample(10, np.random.default_rng(0)), ds.sample(10, np.random.default_rng(1))
    )
    np.testing.assert_array_equal(ds.sample(10, 7), ds.sample(10, np.random.default_rng(7)))


@pytest.mark.parametrize("name", NAMES)
def test_resume_from_generator_state_is_bit_identical(name):
    """A trainer checkpoints only its Generator's state; the stream must continue exactly."""
    ds = get_dataset(name)
    g = np.random.default_rng(3)
    ds.sample(5, g)
    state = g.bit_generator.state
    expected = ds.sample(8, g)
    g2 = np.random.default_rng(999)
    g2.bit_generator.state = state
    np.testing.assert_array_equal(ds.sample(8, g2), expected)


@pytest.mark.parametrize("name", NAMES)
def test_default_generator_follows_manual_seed(name):
    ds = get_dataset(name)
    mg.manual_seed(11)
    a = ds.sample(6)
    mg.manual_seed(11)
    np.testing.assert_array_equal(ds.sample(6), a)


def test_ring_has_8_distinct_modes_on_the_unit_circle():
    ds = ring8()
    assert ds.modes.shape == (8, 2) and ds.std == 0.01
    np.testing.assert_allclose(np.linalg.norm(ds.modes, axis=1), 1.0)
    gaps = np.linalg.norm(ds.modes[:, None] - ds.modes[None], axis=-1) + np.eye(8)
    # neighbours are 2 sin(pi/8) apart; a linspace(0, 2pi, 8) ring would have a zero gap
    assert gaps.min() == pytest.approx(2 * math.sin(math.pi / 8))
    np.testing.assert_allclose(ds.modes[2], [0.0, 1.0], atol=1e-12)


def test_grid_has_25_distinct_modes():
    ds = grid25()
    assert ds.modes.shape == (25, 2) and ds.std == 0.05
    assert len({tuple(m) for m in ds.modes}) == 25
    assert sorted(set(ds.modes[:, 0])) == [-4, -2, 0, 2, 4]
    assert sorted(set(ds.modes[:, 1])) == [-4, -2, 0, 2, 4]


@pytest.mark.parametrize("make", [ring8, grid25])
def test_mixture_samples_sit_on_their_modes_with_equal_weights(make):
    ds = make()
    x = ds.sample(20000, np.random.default_rng(0)).astype(np.float64)
    d = np.linalg.norm(x[:, None] - ds.modes[None], axis=-1)
    k, dist = d.argmin(1), d.min(1)
    assert np.mean(dist < 3 * ds.std) > 0.98  # 2-D: P(chi_2 < 3) = 1 - exp(-4.5) = 0.989
    counts = np.bincount(k, minlength=len(ds.modes))
    expected = len(x) / len(ds.modes)
    assert np.all(np.abs(counts - expected) < 5 * math.sqrt(expected))
    np.testing.assert_allclose(x.std(0), np.sqrt(ds.modes.var(0) + ds.std**2), rtol=0.05)


def test_gaussian1d_moments_and_density():
    ds = get_dataset("gaussian1d")
    x = ds.sample(50000, np.random.default_rng(0))
    assert abs(x.mean() - 4.0) < 0.02 and abs(x.std() - 0.5) < 0.01
    grid = np.linspace(0, 8, 8001)
    p = ds.density(grid)
    assert np.sum(p) * (grid[1] - grid[0]) == pytest.approx(1.0, abs=1e-6)
    assert ds.density(np.array([4.0]))[0] == pytest.approx(1 / (0.5 * math.sqrt(2 * math.pi)))


def test_mixture_density_integrates_to_one():
    ds = ring8(std=0.1)
    g = np.linspace(-1.6, 1.6, 641)
    xx, yy = np.meshgrid(g, g)
    p = ds.density(np.stack([xx.ravel(), yy.ravel()], 1))
    assert p.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=1e-3)


def test_swissroll_is_standardised():
    x = get_dataset("swissroll").sample(50000, np.random.default_rng(0))
    assert np.all(np.abs(x.mean(0)) < 0.03)
    np.testing.assert_allclose(x.std(0), np.sqrt(1 + 0.05**2), rtol=0.03)
    ds = get_dataset("swissroll")
    assert ds.modes is None and ds.std is None


def test_errors_are_clear():
    with pytest.raises(ValueError, match="valid names: gaussian1d, grid25, ring8, swissroll"):
        get_dataset("ring9")
    with pytest.raises(ValueError, match="non-negative int"):
        ring8().sample(-1)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        ring8().sample(3, generator="seed")
    with pytest.raises(ValueError, match="std must be > 0"):
        get_dataset("gaussian1d", std=0.0)
