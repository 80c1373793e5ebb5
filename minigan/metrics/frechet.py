"""Fréchet distance between Gaussians fitted to two sets of features (FID without Inception). Chapter 09.

Fit N(mu1, S1) to one set of feature vectors and N(mu2, S2) to the other; the squared 2-Wasserstein
(Fréchet) distance between these Gaussians is

    FD = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).

FID (Heusel et al., 2017) is this with Inception-v3 pool features; minigan uses the penultimate layer of a
classifier it trains itself (``minigan.metrics.classifier``), so its numbers are on their own scale and
only comparable to each other, and to the real-vs-real baseline printed beside them.

The one delicate part is ``tr((S1 S2)^(1/2))``. ``S1 S2`` is not symmetric, so a general matrix square root
(``scipy.linalg.sqrtm``, a Schur decomposition) is the usual tool and returns complex noise for nearly
singular covariances. We avoid it: with ``R = S1^(1/2)`` (the symmetric PSD root, from an eigendecomposition),
``S1 S2 = R (R S2 R) R^(-1)`` is similar to ``M = R S2 R``, which is symmetric PSD. Similar matrices have
the same eigenvalues, and the trace of a square root is the sum of the square roots of the eigenvalues,
so ``tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(M))`` — two ``eigh`` calls, real arithmetic, no SciPy.
(This holds for singular S1 as well, by continuity.) Tiny negative eigenvalues from rounding are clipped
to 0. Cost: O(d^3) for d-dimensional features; d = 64 or 128 here, so microseconds to milliseconds.

Estimated from n samples, FD is biased upwards (roughly by tr-terms of order d/n), so FD values are only
comparable at equal n; chapter 09 shows this.
"""

from __future__ import annotations

import numpy as np

from ..backend import as_numpy


def _as_features(x, name: str) -> np.ndarray:
    x = np.asarray(as_numpy(x.array if hasattr(x, "array") else x), dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name}: expected features of shape (n, d), got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(
            f"{name}: need at least 2 feature vectors to estimate a covariance, got {x.shape[0]}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: features contain NaN or inf")
    return x


def sqrtm_psd(a) -> np.ndarray:
    """The symmetric PSD square root of a symmetric PSD matrix: ``V diag(sqrt(max(w, 0))) V^T``.

    ``a`` is symmetrised first ((a + a^T) / 2) so rounding in a covariance does not matter.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"sqrtm_psd: expected a square matrix, got shape {a.shape}")
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1, sigma2) -> float:
    """``tr((S1 S2)^(1/2))`` for symmetric PSD S1, S2, as ``sum sqrt(eig(S1^(1/2) S2 S1^(1/2)))``."""
    r = sqrtm_psd(sigma1)
    m = r @ np.asarray(sigma2, dtype=np.float64) @ r
    w = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of ``features`` (n, d), float64; the covariance uses n - 1 (unbiased)."""
    x = _as_features(features, "feature_statistics")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (see the module docstring)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = (
        np.atleast_2d(np.asarray(sigma1, np.float64)),
        np.atleast_2d(np.asarray(sigma2, np.float64)),
    )
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"frechet_distance: shapes do not agree: mu1 {mu1.shape}, sigma1 {sigma1.shape}, "
            f"mu2 {mu2.shape}, sigma2 {sigma2.shape} (expected (d,) and (d, d))"
        )
    diff = mu1 - mu2
    fd = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return float(max(fd, 0.0))  # rounding can leave -1e-13 for identical inputs


def frechet_distance_features(features1, features2) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (n1, d) and (n2, d)."""
    f1, f2 = _as_features(features1, "features1"), _as_features(features2, "features2")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"feature dimensions differ: {f1.shape[1]} vs {f2.shape[1]}")
    return frechet_distance(*feature_statistics(f1), *feature_statistics(f2))
