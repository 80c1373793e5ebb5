"""Image-metric math on known cases: Fréchet distance (closed forms), KID (unbiasedness, a hand-computed
value), precision / recall / density / coverage on hand-built sets, class coverage."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigan.metrics.classes import class_coverage, kl_to_uniform
from minigan.metrics.frechet import (
    feature_statistics,
    frechet_distance,
    frechet_distance_features,
    sqrtm_psd,
    trace_sqrt_product,
)
from minigan.metrics.kid import kernel_distance, mmd2_unbiased, polynomial_kernel
from minigan.metrics.prdc import knn_radii, precision_recall

small = st.integers(1, 5)
elems = st.floats(-3, 3, allow_nan=False, width=64)


def psd(a):
    """A PSD matrix a a^T (rank <= a's columns, so singular ones are drawn too)."""
    return a @ a.T


@given(st.tuples(small, small).flatmap(lambda dr: hnp.arrays(np.float64, dr, elements=elems)))
def test_sqrtm_psd_squares_back(a):
    s = psd(a)
    r = sqrtm_psd(s)
    np.testing.assert_allclose(r @ r, s, atol=1e-8 * max(1.0, np.abs(s).max()))
    np.testing.assert_allclose(r, r.T, atol=1e-12)
    assert np.linalg.eigvalsh(r).min() > -1e-8


@given(
    st.integers(1, 5).flatmap(
        lambda d: st.tuples(
            hnp.arrays(np.float64, (d, d), elements=elems), hnp.arrays(np.float64, (d, d), elements=elems)
        )
    )
)
def test_trace_sqrt_product_matches_eigenvalues_of_product(ab):
    s1, s2 = psd(ab[0]) + 0.1 * np.eye(len(ab[0])), psd(ab[1])
    # eigenvalues of S1 S2 are real and >= 0 (it is similar to a PSD matrix); their roots sum to the trace
    w = np.linalg.eigvals(s1 @ s2).real
    assert trace_sqrt_product(s1, s2) == pytest.approx(np.sqrt(np.clip(w, 0, None)).sum(), rel=1e-6, abs=1e-6)


def test_trace_sqrt_2x2_closed_form():
    # for a 2x2 matrix M with real non-negative eigenvalues, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M))
    s1 = np.array([[2.0, 0.5], [0.5, 1.0]])
    s2 = np.array([[1.0, -0.3], [-0.3, 3.0]])
    m = s1 @ s2
    expected = math.sqrt(np.trace(m) + 2 * math.sqrt(np.linalg.det(m)))
    assert trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-12)


@given(
    st.integers(1, 6).flatmap(
        lambda d: st.tuples(*(hnp.arrays(np.float64, d, elements=elems) for _ in range(4)))
    )
)
def test_fd_diagonal_gaussians_closed_form(v):
    mu1, mu2, s1, s2 = v[0], v[1], np.abs(v[2]), np.abs(v[3])
    # commuting (diagonal) covariances: FD = |mu1 - mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(s1) - np.sqrt(s2)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_fd_identical_sets_is_zero_and_symmetric():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 16)) @ rng.normal(size=(16, 16))
    assert frechet_distance_features(x, x) == pytest.approx(0.0, abs=1e-8)
    y = rng.normal(size=(400, 16))
    assert frechet_distance_features(x, y) == pytest.approx(frechet_distance_features(y, x), rel=1e-9)


def test_fd_shifted_gaussians_from_samples():
    rng = np.random.default_rng(1)
    cov = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, 0.3], [0.0, 0.3, 2.0]])
    chol = np.linalg.cholesky(cov)
    shift = np.array([1.0, -2.0, 0.5])
    x = rng.normal(size=(20000, 3)) @ chol.T
    y = rng.normal(size=(20000, 3)) @ chol.T + shift
    # equal covariances: FD is the squared distance of the means, 5.25
    assert frechet_distance_features(x, y) == pytest.approx(shift @ shift, abs=0.06)
    mu, sigma = feature_statistics(x)
    np.testing.assert_allclose(sigma, cov, atol=0.05)


def test_fd_errors():
    with pytest.raises(ValueError, match=r"expected features of shape \(n, d\)"):
        frechet_distance_features(np.zeros(5), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="feature dimensions differ: 2 vs 3"):
        frechet_distance_features(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        frechet_distance_features(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="shapes do not agree"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


# -- KID ---------------------------------------------------------------------------------------------------
def test_mmd2_hand_computed():
    x, y = np.array([[0.0], [2.0]]), np.array([[1.0], [1.0]])
    # k(a, b) = (a b + 1)^3 with d = 1: xx off-diagonal 1 -> 1; yy 8 -> 8; xy (1 + 1 + 27 + 27) / 4 * 2 = 28
    assert mmd2_unbiased(x, y) == pytest.approx(1 + 8 - 28)
    assert polynomial_kernel(x, y).tolist() == [[1.0, 1.0], [27.0, 27.0]]


def test_mmd2_unbiased_for_same_distribution():
    """Averaged over many small draws, the unbiased estimate is ~0, while the biased one is clearly > 0."""
    rng = np.random.default_rng(2)
    unbiased, biased = [], []
    for _ in range(400):
        x, y = rng.normal(size=(10, 4)), rng.normal(size=(10, 4))
        unbiased.append(mmd2_unbiased(x, y))
        kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
        biased.append(kxx.mean() + kyy.mean() - 2 * kxy.mean())
    se = np.std(unbiased) / np.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 3 * se
    assert np.mean(biased) > 10 * se


def test_kid_detects_shift_and_reports_subsets():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    same = kernel_distance(x, y, n_subsets=20, subset_size=100)
    shifted = kernel_distance(x, y + 1.0, n_subsets=20, subset_size=100)
    assert same.subset_size == 100 and same.n_subsets == 20
    assert abs(same.mean) < 3 * same.std and shifted.mean > 5 * shifted.std and shifted.mean > 100 * same.std
    assert kernel_distance(x, y, n_subsets=3, subset_size=10**6).subset_size == 300
    assert (
        kernel_distance(x, y, n_subsets=5, seed=7).as_dict()
        == kernel_distance(x, y, n_subsets=5, seed=7).as_dict()
    )


# -- precision / recall --------------------------------------------------------------------------------------
def test_knn_radii_exclude_self():
    x = np.array([[0.0], [1.0], [3.0]])
    assert knn_radii(x, k=1).tolist() == [1.0, 1.0, 2.0]
    assert knn_radii(x, k=2).tolist() == [3.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="k must be in 1..2"):
        knn_radii(x, k=3)


def test_prdc_hand_built_1d():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])  # k = 1 radii: all 1
    fake = np.array([[0.5], [10.0]])  # radii 9.5 each: the outlier inflates the fake manifold
    r = precision_recall(real, fake, k=1)
    assert r.precision == 0.5  # 10 is outside every real ball
    assert r.recall == 1.0  # every real point inside the inflated fake balls
    assert r.coverage == 0.5  # only the balls of 0 and 1 contain a fake
    assert r.density == 1.0  # 0.5 lies in 2 real balls, 10 in none: 2 / (k * 2)


def test_prdc_identical_disjoint_and_dropped_mode():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(200, 2))
    b = rng.normal(size=(200, 2)) + 50.0
    same = precision_recall(a, a, k=3)
    assert (same.precision, same.recall, same.coverage) == (1.0, 1.0, 1.0)
    far = precision_recall(a, b, k=3)
    assert (far.precision, far.recall, far.coverage, far.density) == (0.0, 0.0, 0.0, 0.0)
    real = np.concatenate([a, b])
    fake = rng.normal(size=(400, 2))  # only the first mode
    dropped = precision_recall(real, fake, k=3)
    assert dropped.precision > 0.9 and 0.4 < dropped.recall <= 0.5 + 1e-9 and dropped.coverage <= 0.5


def test_prdc_chunking_does_not_change_results():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(57, 3)), rng.normal(size=(41, 3)) * 1.3
    assert precision_recall(x, y, chunk=7).as_dict() == pytest.approx(precision_recall(x, y).as_dict())


# -- class coverage ------------------------------------------------------------------------------------------
def test_class_coverage_cases():
    onehot = np.eye(10)[np.arange(100) % 10]
    full = class_coverage(onehot)
    assert full.covered == 10 and full.kl_to_uniform == pytest.approx(0.0) and full.mean_confidence == 1.0
    one = class_coverage(np.eye(10)[np.zeros(50, int)])
    assert one.covered == 1 and one.kl_to_uniform == pytest.approx(math.log(10))
    soft = np.full((4, 10), 0.05)
    soft[np.arange(4), [0, 0, 1, 2]] = 0.55
    c = class_coverage(soft)
    assert (
        c.covered == 3 and c.histogram[:3] == [0.5, 0.25, 0.25] and c.mean_confidence == pytest.approx(0.55)
    )
    assert c.kl_to_uniform == pytest.approx(0.5 * math.log(5) + 2 * 0.25 * math.log(2.5))
    assert class_coverage(onehot[:30], min_count=4).covered == 0


def test_class_coverage_errors():
    with pytest.raises(ValueError, match="apply softmax first"):
        class_coverage(np.ones((3, 10)))
    with pytest.raises(ValueError, match=r"shape \(n, K\)"):
        class_coverage(np.ones(10) / 10)
    with pytest.raises(ValueError, match="non-negative"):
        kl_to_uniform([-1, 2])
