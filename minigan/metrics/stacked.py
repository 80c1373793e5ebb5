"""Mode coverage on Stacked MNIST: how many of the 1 000 digit triples a generator produces, and how evenly.
Chapter 10 (mode collapse on images) teaches it.

A Stacked MNIST image has 3 channels, each an independently drawn MNIST digit, so the data has
K = 10^3 = 1 000 modes, one per triple (d0, d1, d2), all equally likely (Metz et al. 2017, "Unrolled
GANs"; Lin et al. 2018, PacGAN). The protocol counts them with a digit classifier:

1. Draw ``N_SAMPLES = 26 000`` images from the generator (PacGAN's number).
2. Classify each channel on its own (argmax of the classifier's probabilities): digits (n, 3) in 0..9.
3. The **mode** of an image is ``100 * d0 + 10 * d1 + d2`` in 0..999 (``modes_of``).
4. The **mode histogram** counts the images per mode (``mode_histogram``, length 1 000).
5. **Modes covered**: the number of modes holding at least one image (``modes_covered``), of 1 000.
6. **KL to uniform**: KL(p || q) with p the histogram normalised to sum 1 and q_k = 1 / 1 000
   (``kl_to_uniform``). Empty bins: the sum runs over the modes with p_k > 0 only,
   KL = sum_{p_k > 0} p_k log(p_k / q_k) (the limit p log p -> 0); no epsilon is added anywhere, and as
   q is never 0 the value is always finite: 0 for a perfectly even histogram, log 1 000 = 6.908 nats
   when every image falls in one mode.

These numbers mean something only next to the same numbers for real images judged by the same
classifier (its mistakes move images between modes too) and with the same n: n images spread over
1 000 equally likely modes leave about 1 000 exp(-n / 1 000) modes empty and a KL near 999 / (2 n) from
sampling alone (0.019 for n = 26 000, 0.2 for n = 2 500). ``minigan eval`` therefore reports a
real-vs-real line beside the generated one.

Everything here is NumPy on integer arrays; O(n) time, O(n + K) memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

N_DIGITS = 10
N_CHANNELS = 3
N_MODES = N_DIGITS**N_CHANNELS  # 1 000
N_SAMPLES = 26000  # PacGAN's evaluation size


def modes_of(digits) -> np.ndarray:
    """Mode index int64 (n,) of per-channel digits ``digits`` (n, 3) in 0..9: 100 d0 + 10 d1 + d2.

    ValueError for another shape or a digit outside 0..9."""
    d = np.asarray(digits)
    if d.ndim != 2 or d.shape[1] != N_CHANNELS:
        raise ValueError(f"modes_of: expected digits of shape (n, {N_CHANNELS}), got {d.shape}")
    if d.size and (not np.issubdtype(d.dtype, np.integer) or d.min() < 0 or d.max() >= N_DIGITS):
        raise ValueError(f"modes_of: digits must be integers in 0..{N_DIGITS - 1}")
    d = d.astype(np.int64)
    return d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]


def digits_of(modes) -> np.ndarray:
    """The inverse of ``modes_of``: mode indices (n,) in 0..999 -> digits int64 (n, 3)."""
    m = np.asarray(modes, dtype=np.int64)
    return np.stack([m // 100, (m // 10) % 10, m % 10], axis=1)


def mode_histogram(modes, n_modes: int = N_MODES) -> np.ndarray:
    """Counts int64 (n_modes,): how many of ``modes`` (ints in 0..n_modes-1) fall in each mode."""
    m = np.asarray(modes).ravel()
    if m.size and (not np.issubdtype(m.dtype, np.integer) or m.min() < 0 or m.max() >= n_modes):
        raise ValueError(f"mode_histogram: modes must be integers in 0..{n_modes - 1}")
    return np.bincount(m.astype(np.int64), minlength=n_modes).astype(np.int64)


def modes_covered(counts, min_count: int = 1) -> int:
    """The number of modes with at least ``min_count`` (default 1) images in histogram ``counts``."""
    return int((np.asarray(counts) >= min_count).sum())


def kl_to_uniform(counts) -> float:
    """KL(p || uniform over len(counts) modes) in nats, p = counts / counts.sum().

    Empty bins contribute 0: the sum is over p_k > 0 of p_k log(p_k / q_k), q_k = 1 / K. Range 0 (every
    mode equally filled) to log K (one mode holds everything). ValueError for a histogram that is empty,
    negative or sums to 0 (p is then undefined)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or c.size == 0 or np.any(c < 0) or not np.isfinite(c).all() or c.sum() <= 0:
        raise ValueError("kl_to_uniform: expected a non-negative 1-D histogram with a positive sum")
    p = c[c > 0] / c.sum()
    return float(np.sum(p * np.log(p * c.size)))


def channel_digits(probs, n_channels: int = N_CHANNELS) -> np.ndarray:
    """Digits int64 (n, n_channels) from classifier probabilities ``probs`` (n * n_channels, 10) of the
    channels taken image by image (image 0's channels 0, 1, 2, then image 1's, ...): the argmax of each."""
    p = np.asarray(probs)
    if p.ndim != 2 or len(p) % n_channels:
        raise ValueError(f"channel_digits: expected ({n_channels} n, classes) probabilities, got {p.shape}")
    return p.argmax(axis=1).reshape(-1, n_channels).astype(np.int64)


@dataclass(frozen=True)
class StackedModes:
    """The figures of one set of images; ``str()`` is a one-line summary."""

    modes_covered: int  # modes holding >= 1 image
    n_modes: int  # 1 000
    kl: float  # KL(mode histogram || uniform), nats
    n_samples: int
    counts: tuple  # images per mode, length n_modes

    def as_dict(self) -> dict:
        return {
            "modes_covered": self.modes_covered,
            "n_modes": self.n_modes,
            "kl": self.kl,
            "n_samples": self.n_samples,
            "counts": list(self.counts),
        }

    def __str__(self) -> str:
        return f"{self.modes_covered}/{self.n_modes} modes, KL {self.kl:.3f} ({self.n_samples} samples)"


def stacked_modes(digits) -> StackedModes:
    """Modes covered and KL to uniform of the images whose per-channel digits are ``digits`` (n, 3), n > 0."""
    counts = mode_histogram(modes_of(digits))
    if counts.sum() == 0:
        raise ValueError("stacked_modes: no images to count")
    return StackedModes(
        modes_covered(counts),
        N_MODES,
        kl_to_uniform(counts),
        int(counts.sum()),
        tuple(int(c) for c in counts),
    )


def expected_uniform_coverage(n: int, n_modes: int = N_MODES) -> float:
    """Expected modes covered by n draws from the uniform distribution over n_modes: K (1 - (1 - 1/K)^n)."""
    return n_modes * (1.0 - math.exp(n * math.log1p(-1.0 / n_modes)))
