"""Precision and recall (Kynkäänniemi et al., 2019), density and coverage (Naeem et al., 2020). Chapter 09.

FID folds two failures into one number: samples that look wrong (low fidelity) and parts of the data
the generator never produces (low diversity, mode dropping). These metrics separate them with k-nearest
neighbour balls in feature space. For a set of points, the radius of point i is the distance to its k-th
nearest neighbour in the same set (k = 3, not counting itself); the union of those balls is an estimate
of the set's support ("manifold").

- **precision**: the fraction of generated points that fall inside the real manifold (some real point
  x_i with ||y - x_i|| <= r_i). Low precision = unrealistic samples.
- **recall**: the fraction of real points that fall inside the generated manifold. Low recall = missing
  modes.
- **density** (Naeem et al.): (1 / (k M)) sum_j #{i : y_j in B(x_i, r_i)}: how many real balls each
  sample falls into, on average, over k; about 1 when fake and real coincide, and not capped at 1.
- **coverage** (Naeem et al.): the fraction of real points whose ball contains at least one generated
  point; like recall, but with real-data balls only, so robust to outlying fakes inflating the fake balls.

Cost: pairwise distances, O((N + M)^2 d) time; computed in row chunks so memory is O(chunk (N + M)).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .frechet import _as_features


def pairwise_distances(a, b, chunk: int = 2048):
    """Yield (row slice, Euclidean distances (chunk, len(b))) between rows of ``a`` and ``b``, in float64.

    Uses ``|a|^2 + |b|^2 - 2 a.b`` (clipped at 0 against rounding), one chunk of rows of ``a`` at a time.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    bb = (b * b).sum(axis=1)
    for start in range(0, len(a), chunk):
        rows = a[start : start + chunk]
        d2 = (rows * rows).sum(axis=1)[:, None] + bb[None, :] - 2.0 * rows @ b.T
        yield slice(start, start + len(rows)), np.sqrt(np.clip(d2, 0.0, None))


def knn_radii(x, k: int = 3, chunk: int = 2048) -> np.ndarray:
    """Distance from each row of ``x`` to its k-th nearest other row (self excluded)."""
    x = np.asarray(x, np.float64)
    if not 1 <= k < len(x):
        raise ValueError(f"k must be in 1..{len(x) - 1} for {len(x)} points, got {k}")
    radii = np.empty(len(x))
    for rows, d in pairwise_distances(x, x, chunk):
        # each row's own distance (0) sorts first, so index k is the k-th nearest other point
        radii[rows] = np.partition(d, k, axis=1)[:, k]
    return radii


def _count_inside(points, centres, radii, chunk: int = 2048) -> np.ndarray:
    """For each point, how many balls B(centre_i, radius_i) contain it."""
    counts = np.empty(len(points), dtype=np.int64)
    for rows, d in pairwise_distances(points, centres, chunk):
        counts[rows] = (d <= radii[None, :]).sum(axis=1)
    return counts


@dataclass
class PRDC:
    precision: float
    recall: float
    density: float
    coverage: float
    k: int

    def as_dict(self) -> dict:
        return asdict(self)


def precision_recall(real, fake, k: int = 3, chunk: int = 2048) -> PRDC:
    """Precision, recall (Kynkäänniemi et al.), density, coverage (Naeem et al.) of ``fake`` vs ``real``.

    ``real`` (N, d) and ``fake`` (M, d) are feature vectors. Ties count as inside (``<=``).
    """
    real, fake = _as_features(real, "real"), _as_features(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature dimensions differ: {real.shape[1]} vs {fake.shape[1]}")
    real_radii, fake_radii = knn_radii(real, k, chunk), knn_radii(fake, k, chunk)
    fake_in_real = _count_inside(fake, real, real_radii, chunk)  # per fake point: real balls holding it
    real_in_fake = _count_inside(real, fake, fake_radii, chunk)
    covered = np.zeros(len(real), dtype=bool)
    for rows, d in pairwise_distances(real, fake, chunk):
        covered[rows] = d.min(axis=1) <= real_radii[rows]
    return PRDC(
        precision=float((fake_in_real > 0).mean()),
        recall=float((real_in_fake > 0).mean()),
        density=float(fake_in_real.sum() / (k * len(fake))),
        coverage=float(covered.mean()),
        k=int(k),
    )
