"""Kernel distance (KID): an unbiased estimate of MMD^2 with a cubic polynomial kernel. Chapter 09.

Bińkowski et al. (2018, "Demystifying MMD GANs") replace FID's Gaussian fit by the squared maximum mean
discrepancy between feature sets X (m vectors) and Y (n vectors) in dimension d, with the kernel

    k(x, y) = (x . y / d + 1)^3.

The unbiased estimator leaves out the diagonal terms k(x_i, x_i), whose expectation differs:

    MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
              - 2/(mn) sum_{i, j} k(x_i, y_j).

Unlike FID it has no bias from the sample size: its expectation is the true MMD^2 (0 when both sets come
from the same distribution), so a single estimate can be slightly negative. Its variance shrinks with the
set size; following the reference code, ``kernel_distance`` averages over ``n_subsets`` random subsets of
``subset_size`` vectors from each set and reports the mean and the standard deviation across subsets.

Cost: O(s^2 d) per subset of size s (three s x s kernel matrices).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .frechet import _as_features


def polynomial_kernel(x, y, degree: int = 3, gamma: float | None = None, coef0: float = 1.0) -> np.ndarray:
    """``(gamma x . y + coef0)^degree`` for all pairs of rows: (m, d), (n, d) -> (m, n); gamma = 1/d."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * (x @ y.T) + coef0) ** degree


def mmd2_unbiased(x, y, kernel=polynomial_kernel) -> float:
    """The unbiased MMD^2 estimate between rows of ``x`` (m, d) and ``y`` (n, d), m, n >= 2."""
    x, y = _as_features(x, "x"), _as_features(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature dimensions differ: {x.shape[1]} vs {y.shape[1]}")
    m, n = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    sum_xx = kxx.sum() - np.trace(kxx)
    sum_yy = kyy.sum() - np.trace(kyy)
    return float(sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2.0 * kxy.sum() / (m * n))


@dataclass
class KID:
    """Mean and standard deviation of the unbiased MMD^2 over random subsets."""

    mean: float
    std: float
    n_subsets: int
    subset_size: int

    def as_dict(self) -> dict:
        return asdict(self)


def kernel_distance(
    features1, features2, n_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> KID:
    """KID between two feature sets: unbiased MMD^2 averaged over ``n_subsets`` subsets.

    ``subset_size`` is capped at the smaller set's size; subsets are drawn without replacement, from a
    generator seeded with ``seed`` (so a report is reproducible). When the subsets would be both whole
    sets, one estimate is made (std 0).
    """
    f1, f2 = _as_features(features1, "features1"), _as_features(features2, "features2")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"feature dimensions differ: {f1.shape[1]} vs {f2.shape[1]}")
    s = min(subset_size, len(f1), len(f2))
    if s == len(f1) == len(f2):
        n_subsets = 1  # every "subset" would be the whole of both sets: one estimate, std 0
    rng = np.random.default_rng(seed)
    values = np.array(
        [
            mmd2_unbiased(
                f1[rng.choice(len(f1), s, replace=False)], f2[rng.choice(len(f2), s, replace=False)]
            )
            for _ in range(n_subsets)
        ]
    )
    return KID(float(values.mean()), float(values.std()), int(n_subsets), int(s))
