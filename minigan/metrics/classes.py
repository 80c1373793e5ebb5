"""Class coverage of generated images, judged by a classifier: the image-space analogue of mode coverage
(chapter 07) for chapter 09.

Give a classifier's predicted probabilities ``p`` (n, K) for n generated images. Then

- the **class histogram** h_c is the fraction of images whose most likely class (argmax) is c;
- **classes covered** is the number of classes with at least ``min_count`` images;
- **KL to uniform** is KL(h || u) = sum_c h_c log(h_c K) = log K - H(h), with 0 log 0 = 0: 0 when every
  class is equally frequent (what MNIST's near-uniform classes ask for), log K when one class takes all;
- **mean confidence** is the average of max_c p_c: a generator of blurry in-between digits scores low even
  when its histogram is flat.

A real test set is itself not exactly uniform (MNIST test: 892 to 1135 per class, KL 0.0017), which
the real-vs-real baseline of ``minigan eval`` shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..backend import as_numpy


@dataclass
class ClassCoverage:
    covered: int
    n_classes: int
    histogram: list
    kl_to_uniform: float
    mean_confidence: float

    def as_dict(self) -> dict:
        return asdict(self)


def kl_to_uniform(histogram) -> float:
    """KL(h || uniform) for a histogram (normalised here), with 0 log 0 = 0."""
    h = np.asarray(histogram, np.float64)
    if h.ndim != 1 or h.size == 0 or np.any(h < 0) or h.sum() <= 0:
        raise ValueError(f"kl_to_uniform: expected a non-negative, non-empty 1-D histogram, got {h}")
    h = h / h.sum()
    nz = h > 0
    return float(np.sum(h[nz] * np.log(h[nz] * h.size)))


def class_coverage(probs, min_count: int = 1) -> ClassCoverage:
    """Class statistics of predictions ``probs`` (n, K), rows summing to 1 (softmax outputs)."""
    p = np.asarray(as_numpy(probs.array if hasattr(probs, "array") else probs), np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"class_coverage: expected probabilities of shape (n, K) with n > 0, got {p.shape}")
    if not np.allclose(p.sum(axis=1), 1.0, atol=1e-3) or np.any(p < 0):
        raise ValueError("class_coverage: rows of probs must be probability vectors (apply softmax first)")
    k = p.shape[1]
    counts = np.bincount(p.argmax(axis=1), minlength=k)
    hist = counts / counts.sum()
    return ClassCoverage(
        covered=int((counts >= min_count).sum()),
        n_classes=k,
        histogram=[float(v) for v in hist],
        kl_to_uniform=kl_to_uniform(hist),
        mean_confidence=float(p.max(axis=1).mean()),
    )
