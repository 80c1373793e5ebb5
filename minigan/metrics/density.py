"""Densities on a 1-D grid: kernel density estimate, optimal discriminator, V(D, G) and JSD. Chapter 06.

Goodfellow et al. (2014) show that for a fixed generator with density p_g the discriminator maximising

    V(D, G) = E_{x ~ p_data}[log D(x)] + E_{x ~ p_g}[log(1 - D(x))]
            = integral of  p_data(x) log D(x) + p_g(x) log(1 - D(x))  dx

is, pointwise, D*(x) = p_data(x) / (p_data(x) + p_g(x)) (maximise a log y + b log(1 - y) over y), and that

    V(D*, G) = -log 4 + 2 JSD(p_data || p_g),

so the generator's best response to D* minimises the Jensen-Shannon divergence, and the game's value at the
optimum p_g = p_data is -log 4. These functions evaluate the integrals on a uniform grid (Riemann sums with
spacing dx; the densities are evaluated by the caller), which is how chapter 06 checks the identity
numerically. Everything is float64 NumPy; a grid of m points costs O(m).
"""

from __future__ import annotations

import math

import numpy as np


def gaussian_kde(samples, x, bandwidth: float | None = None) -> np.ndarray:
    """Gaussian kernel density estimate of 1-D ``samples`` (n,) or (n, 1), evaluated at ``x`` (m,).

    bandwidth h defaults to Scott's rule h = std(samples) * n^(-1/5) (what scipy.stats.gaussian_kde uses in
    1-D). p_hat(x) = (1/n) sum_i N(x; s_i, h^2). Cost O(n m) time and memory.
    """
    s = np.asarray(samples, dtype=np.float64).reshape(-1)
    x = np.asarray(x, dtype=np.float64)
    if s.size == 0:
        raise ValueError("gaussian_kde: samples is empty")
    if bandwidth is None:
        bandwidth = float(s.std()) * s.size ** (-0.2)
        if bandwidth == 0.0:  # all samples equal (a collapsed generator): fall back to a narrow bump
            bandwidth = 1e-3
    if not bandwidth > 0:
        raise ValueError(f"gaussian_kde: bandwidth must be > 0, got {bandwidth}")
    u = (x.reshape(-1, 1) - s.reshape(1, -1)) / bandwidth  # (m, n)
    p = np.exp(-0.5 * u * u).mean(axis=1) / (bandwidth * math.sqrt(2.0 * math.pi))
    return p.reshape(x.shape)


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise; 1/2 where both densities are 0.

    (Where neither distribution puts mass, V does not depend on D(x), so any value is optimal; 1/2 is the
    natural choice and keeps the result finite.)
    """
    pd = np.asarray(p_data, dtype=np.float64)
    pg = np.asarray(p_g, dtype=np.float64)
    if np.any(pd < 0) or np.any(pg < 0):
        raise ValueError("optimal_discriminator: densities must be >= 0")
    total = pd + pg
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, pd / np.where(total > 0, total, 1.0), 0.5)


def _xlogy(x, y):
    """x * log(y) with the convention 0 * log(0) = 0."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(np.where(x > 0, y, 1.0)), 0.0)


def value_function(d, p_data, p_g, dx: float) -> float:
    """V(D, G) = sum over the grid of [p_data log D + p_g log(1 - D)] dx, for D, p_data, p_g on the grid."""
    d = np.asarray(d, dtype=np.float64)
    return float(np.sum(_xlogy(p_data, d) + _xlogy(p_g, 1.0 - d)) * dx)


def kl_divergence(p, q, dx: float) -> float:
    """KL(p || q) = sum p log(p / q) dx on a grid (0 log 0 = 0; +inf where p > 0 = q)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if np.any((p > 0) & (q <= 0)):
        return math.inf
    return float(np.sum(_xlogy(p, p) - _xlogy(p, q)) * dx)


def js_divergence(p, q, dx: float) -> float:
    """JSD(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2; between 0 and log 2 (nats)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)
    return 0.5 * kl_divergence(p, m, dx) + 0.5 * kl_divergence(q, m, dx)
