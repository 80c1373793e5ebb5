"""Perceptual path length (Karras et al. 2019, the StyleGAN paper): how much the image changes, as a
feature extractor sees it, for a tiny step in latent space. Chapter 14.

    l = E[ d(G(p(t)), G(p(t + eps))) / eps^2 ],     eps = 1e-4

with p(t) a path between two random latents and d a squared perceptual distance. StyleGAN's ``end``
variant, used here, takes t = 0: the step leaves one end point towards the other. The paths:

    in z (Gaussian noise):  spherical interpolation, slerp(z0, z1; t)     (the paper's choice for Z)
    in w (mapped styles):   linear interpolation, lerp(w0, w1; t)         (W has no spherical structure)

The paper's d is LPIPS in VGG features; minigan's is the squared Euclidean distance in the feature space
of its own MNIST classifier (``classifier.py``, the space every other figure of chapter 09 uses), so the
numbers compare models here, not with the paper's. Following NVlabs, the 1 % smallest and largest
per-pair values are dropped before the mean (a few near-degenerate pairs dominate it otherwise).

A short path length means a smooth, "disentangled" latent space: a small step never jumps between
digits. The mapping network's promise is that w is shorter than z for the same generator.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-4


def slerp(a: np.ndarray, b: np.ndarray, t, keep_norm: bool = True) -> np.ndarray:
    """Spherical interpolation (N, D) between a and b at t (scalar or (N,)): along the great circle
    between their directions. ``keep_norm``: the result's length interpolates |a| and |b| linearly
    (a generator without pixel norm, such as DCGAN's, sees |z| near sqrt(D) as in training); without
    it the result has unit length, as in NVlabs' code."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64).reshape(-1, 1)
    na, nb = np.linalg.norm(a, axis=1, keepdims=True), np.linalg.norm(b, axis=1, keepdims=True)
    ua, ub = a / na, b / nb
    omega = np.arccos(np.clip((ua * ub).sum(1, keepdims=True), -1.0, 1.0))
    so = np.sin(omega)
    small = so < 1e-7  # (anti)parallel: fall back to linear interpolation of the directions
    so = np.where(small, 1.0, so)
    u = np.where(small, (1 - t) * ua + t * ub, (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / so)
    return u * ((1 - t) * na + t * nb) if keep_norm else u


def lerp(a: np.ndarray, b: np.ndarray, t) -> np.ndarray:
    """a + t (b - a), t a scalar or (N,)."""
    t = np.asarray(t, np.float64).reshape(-1, 1)
    return np.asarray(a, np.float64) + t * (np.asarray(b, np.float64) - np.asarray(a, np.float64))


def pair_distances(features_a: np.ndarray, features_b: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Per pair ||f_a - f_b||^2 / eps^2: (N,) from two (N, F) feature arrays."""
    diff = np.asarray(features_a, np.float64) - np.asarray(features_b, np.float64)
    return (diff * diff).sum(1) / (eps * eps)


def summarize(values: np.ndarray) -> dict:
    """Mean of the values between their 1st and 99th percentiles (NVlabs), with how many were kept,
    and that mean's standard error."""
    v = np.asarray(values, np.float64)
    lo, hi = np.percentile(v, 1, method="lower"), np.percentile(v, 99, method="higher")
    kept = v[(v >= lo) & (v <= hi)]
    se = float(kept.std(ddof=1) / np.sqrt(len(kept))) if len(kept) > 1 else float("nan")
    return {"ppl": float(kept.mean()), "stderr": se, "n_pairs": int(len(v)), "n_kept": int(len(kept))}
