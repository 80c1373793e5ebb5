"""Per-image similarity of an output to its target: PSNR and SSIM. Chapter 12 (paired translation).

Both compare images pixel by pixel, so they only make sense where a target exists: the paired tasks, and
an unpaired model's round trip (A -> B -> A back to the input). Images are (N, C, H, W), in [-1, 1] in
minigan, so the data range (max - min possible value) is 2; both return one float64 number per image.

PSNR = 10 log10(R^2 / MSE), MSE the mean squared difference over the C * H * W pixels, R the data range.

SSIM (Wang, Bovik, Sheikh & Simoncelli, 2004): with Gaussian-weighted local means mu, variances s^2 and
covariance s_xy around each pixel,

    SSIM(x, y) = (2 mu_x mu_y + C1) (2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1) (s_x^2 + s_y^2 + C2)),

C1 = (0.01 R)^2, C2 = (0.03 R)^2, averaged over the positions where the 11 x 11 window (sigma 1.5) lies
wholly inside the image ('valid'; 18 x 18 of them in a 28 x 28 image) and over the channels.

SSIM, unlike PSNR, is not shift-invariant: it was defined for intensities in [0, R], and its luminance
term assumes non-negative means. On signed values, two mid-grey patches with local means 0.05 and -0.05
would score a luminance term of -0.85 instead of the 0.995 of the same patches in [0, 1], and two negative
terms multiply to a positive SSIM for an inverted image. So ``ssim`` first shifts the images by ``low``, the
bottom of their range (-1 for minigan's images), into [0, R], as every SSIM number in the literature is
computed on [0, 1] or 0..255 images (the same thing, as SSIM does not change when the images and R are
scaled together). Then the convention is scikit-image's: ``ssim(x, y, R, low)`` equals
``structural_similarity(x - low, y - low, data_range=R, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, channel_axis=0)`` for each image: weights exp(-d^2 / (2 sigma^2)) for
d = -5..5, normalised to sum 1, moments as weighted means (no n / (n - 1) correction), and the border
positions, where its filter would reflect the image, left out of the mean.
"""

from __future__ import annotations

import numpy as np

from ..backend import as_numpy

SIGMA = 1.5
WIN = 11  # 2 * round(3.5 sigma) + 1: scikit-image's window for sigma = 1.5 (scipy truncates at 3.5 sigma)
K1, K2 = 0.01, 0.03


def _pair(x, y, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(as_numpy(x.array if hasattr(x, "array") else x), dtype=np.float64)
    y = np.asarray(as_numpy(y.array if hasattr(y, "array") else y), dtype=np.float64)
    if x.ndim != 4 or x.shape != y.shape:
        raise ValueError(
            f"{name}: expected two image arrays of the same shape (N, C, H, W), got {x.shape}, {y.shape}"
        )
    return x, y


def _check_range(data_range, name: str) -> float:
    if not np.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"{name}: data_range must be a positive number, got {data_range!r}")
    return float(data_range)


def psnr(x, y, data_range: float = 2.0) -> np.ndarray:
    """Peak signal-to-noise ratio in dB of each image pair: (N, C, H, W) twice -> float64 (N,).

    ``10 log10(data_range^2 / MSE)``; identical images (MSE 0) give ``inf``, so average PSNRs over a set
    with care (or report the mean MSE as well). Symmetric in x and y.
    """
    x, y = _pair(x, y, "psnr")
    r = _check_range(data_range, "psnr")
    mse = ((x - y) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(r * r / mse)


def gaussian_window(win: int = WIN, sigma: float = SIGMA) -> np.ndarray:
    """The 1-D window, float64 (win,), summing to 1; the 2-D window is its outer product with itself."""
    d = np.arange(win, dtype=np.float64) - (win - 1) / 2
    g = np.exp(-(d * d) / (2.0 * sigma * sigma))
    return g / g.sum()


def _filter_valid(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    # the 2-D Gaussian is separable: filter the rows, then the columns (2 * 11 products per pixel, not 121)
    k = len(g)
    a = np.lib.stride_tricks.sliding_window_view(a, k, axis=-1) @ g
    return np.lib.stride_tricks.sliding_window_view(a, k, axis=-2) @ g


def ssim_map(x, y, data_range: float = 2.0, low: float = -1.0) -> np.ndarray:
    """The local SSIM of each valid window position: (N, C, H, W) twice -> float64 (N, C, H - 10, W - 10)."""
    x, y = _pair(x, y, "ssim")
    r = _check_range(data_range, "ssim")
    if not np.isfinite(low):
        raise ValueError(f"ssim: low must be a finite number, got {low!r}")
    x, y = x - low, y - low  # into [0, R], where SSIM is defined (see the module docstring)
    if x.shape[2] < WIN or x.shape[3] < WIN:
        raise ValueError(f"ssim: images of shape {x.shape} are smaller than the {WIN} x {WIN} window")
    c1, c2 = (K1 * r) ** 2, (K2 * r) ** 2
    # the five moments in one filtering pass: E[x], E[y], E[x^2], E[y^2], E[xy]
    mu_x, mu_y, e_xx, e_yy, e_xy = _filter_valid(np.stack([x, y, x * x, y * y, x * y]), gaussian_window())
    var_x, var_y, cov = e_xx - mu_x * mu_x, e_yy - mu_y * mu_y, e_xy - mu_x * mu_y
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))


def ssim(x, y, data_range: float = 2.0, low: float = -1.0) -> np.ndarray:
    """Structural similarity of each image pair: (N, C, H, W) twice, H, W >= 11 -> float64 (N,) in [-1, 1].

    Images in [low, low + data_range] (default [-1, 1]); the mean of ``ssim_map`` over channels and valid
    positions of the images shifted into [0, data_range] (see the module docstring; ``low=0`` computes it
    on the values as given). 1 exactly when the images are equal; symmetric in x and y. ValueError for
    shapes that differ or are not 4-D, or images smaller than the 11 x 11 window.
    """
    return ssim_map(x, y, data_range, low).mean(axis=(1, 2, 3))
