"""PSNR and SSIM (minigan.metrics.similarity): hand-computable cases, symmetry, and SSIM against a
straightforward window-by-window implementation written here from Wang et al.'s formula (on images in
[0, R], into which ``ssim`` shifts minigan's [-1, 1] images first)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import minigan
from minigan.metrics.similarity import gaussian_window, psnr, ssim, ssim_map

C1, C2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2  # data range 2


def loop_ssim(x, y, data_range=2.0):
    """SSIM of one pair (C, H, W) of images in [0, data_range], every 11 x 11 window in full, the moments as
    weighted sums."""
    d = np.arange(11) - 5
    w = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * 1.5**2))
    w /= w.sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for ch in range(x.shape[0]):
        for i in range(x.shape[1] - 10):
            for j in range(x.shape[2] - 10):
                p, q = x[ch, i : i + 11, j : j + 11], y[ch, i : i + 11, j : j + 11]
                mp, mq = (w * p).sum(), (w * q).sum()
                vp, vq = (w * (p - mp) ** 2).sum(), (w * (q - mq) ** 2).sum()
                cov = (w * (p - mp) * (q - mq)).sum()
                values.append((2 * mp * mq + c1) * (2 * cov + c2) / ((mp**2 + mq**2 + c1) * (vp + vq + c2)))
    return np.mean(values)


def test_psnr_of_known_mse_and_identical_images():
    x = np.zeros((3, 1, 4, 5))
    y = x.copy()
    y[0] += 0.1  # MSE 0.01: 10 log10(4 / 0.01)
    y[1, 0, 0, :] = 1.0  # 5 of 20 pixels off by 1: MSE 0.25
    p = psnr(x, y)
    assert p.shape == (3,) and p.dtype == np.float64
    np.testing.assert_allclose(p[:2], [10 * np.log10(400), 10 * np.log10(16)])
    assert p[2] == np.inf
    np.testing.assert_allclose(psnr(x[:1], y[:1], data_range=1.0), [20.0])


def test_ssim_of_identical_images_is_one_and_of_constants_is_the_luminance_term():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 3, 12, 16))
    np.testing.assert_allclose(ssim(x, x), [1.0, 1.0], atol=1e-12)
    a, b = np.full((1, 1, 11, 11), 0.0), np.full((1, 1, 11, 11), 0.5)
    # zero variances: the structure term is C2 / C2 = 1, the luminance term (2ab + C1) / (a^2 + b^2 + C1)
    # of the images shifted from [-1, 1] into [0, 2]: a + 1 = 1, b + 1 = 1.5
    np.testing.assert_allclose(ssim(a, b), [(2 * 1.5 + C1) / (1 + 2.25 + C1)], rtol=1e-9)
    np.testing.assert_allclose(ssim(a, b, low=0.0), [C1 / (0.25 + C1)], rtol=1e-9)  # the values as given
    # mid-grey patches a little either side of 0 are nearly the same grey, not opposites
    np.testing.assert_allclose(ssim(a + 0.05, a - 0.05), [(2 * 1.05 * 0.95 + C1) / (1.05**2 + 0.95**2 + C1)])
    assert ssim(a + 0.05, a - 0.05)[0] > 0.99 and ssim(a + 0.05, a - 0.05, low=0.0)[0] < -0.8


def test_constant_offset():
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (1, 1, 14, 14))
    y = x + 0.2
    np.testing.assert_allclose(psnr(x, y), [10 * np.log10(4 / 0.04)])
    # y has x's variance, and their covariance is that variance too: the structure term is 1 and only the
    # luminance term, (2 m (m + 0.2) + C1) / (m^2 + (m + 0.2)^2 + C1) with m the local mean of x + 1, is < 1
    local = ssim_map(x, y)
    assert local.shape == (1, 1, 4, 4)
    g = gaussian_window()
    w = np.outer(g, g)
    m = np.array([[(w * x[0, 0, i : i + 11, j : j + 11]).sum() + 1 for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(
        local[0, 0], (2 * m * (m + 0.2) + C1) / (m**2 + (m + 0.2) ** 2 + C1), rtol=1e-9
    )
    np.testing.assert_allclose(ssim(x, y), local.mean(axis=(1, 2, 3)))
    assert np.all(local < 1)


def test_ssim_matches_the_window_by_window_formula():
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, 2, 13, 14))
    y = np.clip(x + rng.normal(0, 0.3, x.shape), -1, 1)
    s = ssim(x, y)
    assert s.shape == (2,) and s.dtype == np.float64
    np.testing.assert_allclose(s, [loop_ssim(x[i] + 1, y[i] + 1) for i in range(2)], rtol=1e-10)
    u, v = (x + 1) / 2, (y + 1) / 2  # the same images in [0, 1]: the same SSIM
    np.testing.assert_allclose(ssim(u, v, 1.0, low=0.0), s, rtol=1e-10)
    np.testing.assert_allclose(ssim(u, v, 1.0, low=0.0)[0], loop_ssim(u[0], v[0], 1.0), rtol=1e-10)
    assert ssim(x, -x).max() < -0.5  # an inverted image: anti-correlated structure


def test_gaussian_window():
    g = gaussian_window()
    assert g.shape == (11,) and abs(g.sum() - 1) < 1e-15 and g.argmax() == 5
    np.testing.assert_allclose(g[4] / g[5], np.exp(-1 / (2 * 1.5**2)))


@given(
    arrays(np.float64, (2, 1, 11, 12), elements=st.floats(-1, 1)),
    arrays(np.float64, (2, 1, 11, 12), elements=st.floats(-1, 1)),
)
def test_symmetric_and_bounded(x, y):
    np.testing.assert_allclose(ssim(x, y), ssim(y, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(psnr(x, y), psnr(y, x))
    assert np.all(np.abs(ssim(x, y)) <= 1 + 1e-12)


def test_accepts_float32_and_tensors():
    x = np.random.default_rng(3).uniform(-1, 1, (2, 1, 12, 12)).astype(np.float32)
    y = np.zeros_like(x)
    np.testing.assert_allclose(ssim(minigan.tensor(x), minigan.tensor(y)), ssim(x.astype(np.float64), y))
    np.testing.assert_allclose(psnr(minigan.tensor(x), y), psnr(x.astype(np.float64), y))


def test_bad_input_names_the_shapes():
    x = np.zeros((2, 1, 12, 12))
    with pytest.raises(ValueError, match=r"psnr: .* got \(2, 1, 12, 12\), \(2, 1, 12, 11\)"):
        psnr(x, x[..., :11])
    with pytest.raises(ValueError, match=r"ssim: .* got \(12, 12\), \(12, 12\)"):
        ssim(x[0, 0], x[0, 0])
    with pytest.raises(ValueError, match=r"smaller than the 11 x 11 window"):
        ssim(x[..., :10, :], x[..., :10, :])
    with pytest.raises(ValueError, match="data_range must be a positive number, got 0"):
        psnr(x, x, data_range=0)
    with pytest.raises(ValueError, match="low must be a finite number, got nan"):
        ssim(x, x, low=float("nan"))
