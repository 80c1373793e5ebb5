"""Mode coverage on Gaussian mixtures, as in VEEGAN and PacGAN. Chapter 07 (and the quality benchmark).

Protocol (Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN, whose public evaluation code this
follows): draw ``N_SAMPLES = 2500`` samples from the generator; for each, find the nearest mode in
std-normalised distance ``||x - mu_k|| / std`` (all components share one isotropic std, so this is also
the Euclidean nearest mode).

- A sample is **high quality** if that distance is below ``threshold = 3`` (within 3 std of its mode).
- A mode is **covered** if it is the nearest mode of at least one high-quality sample.
- **Reverse KL** is KL(q || p) = sum_k q_k log(q_k / p_k), where q_k is the fraction of the high-quality
  samples whose nearest mode is k and p_k = 1/K is the true (uniform) weight of mode k.

Empty modes: a mode with q_k = 0 contributes 0 to KL(q || p) (the limit q log q -> 0), exactly as PacGAN's
``KLD`` skips terms with q_k = 0; no epsilon is added anywhere, because p, the uniform distribution, is
never 0 and so the divergence is always finite. It ranges from 0 (all K modes equally filled) to log K (all
high-quality samples on one mode). When there is no high-quality sample at all, q is undefined and
``reverse_kl`` is NaN (and ``modes_covered`` is 0). NaN or inf samples (a diverged generator) count as
not high quality.

Cost: O(n K dim) time and memory (2500 x 25 x 2 distances for grid25).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..backend import as_numpy

N_SAMPLES = 2500
THRESHOLD = 3.0


@dataclass(frozen=True)
class ModeCoverage:
    """The result of ``mode_coverage``; ``str()`` gives a one-line summary."""

    modes_covered: int  # number of modes that are the nearest mode of >= 1 high-quality sample
    n_modes: int  # K
    high_quality: float  # fraction of samples within `threshold` std of their nearest mode, in [0, 1]
    reverse_kl: float  # KL(q || uniform) over the modes of the high-quality samples (NaN if none)
    counts: tuple  # high-quality samples per mode, length K
    n_samples: int

    @property
    def all_covered(self) -> bool:
        return self.modes_covered == self.n_modes

    def as_dict(self) -> dict:
        d = asdict(self)
        d["counts"] = list(self.counts)
        return d

    def __str__(self) -> str:
        return (
            f"{self.modes_covered}/{self.n_modes} modes, {100 * self.high_quality:.1f}% high quality, "
            f"reverse KL {self.reverse_kl:.3f} ({self.n_samples} samples)"
        )


def nearest_modes(samples, modes) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest mode, Euclidean distance to it) for each of the n samples; shapes (n,), (n,)."""
    x = np.asarray(samples, dtype=np.float64)
    mu = np.asarray(modes, dtype=np.float64)
    d2 = ((x[:, None, :] - mu[None, :, :]) ** 2).sum(-1)  # (n, K)
    k = d2.argmin(axis=1)
    return k, np.sqrt(d2[np.arange(len(x)), k])


def reverse_kl_uniform(counts) -> float:
    """KL(q || uniform) for q = counts / counts.sum(); empty bins contribute 0; NaN when counts are all 0."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total == 0:
        return math.nan
    q = c[c > 0] / total
    return float(np.sum(q * np.log(q * len(c))))


def _as_array(samples) -> np.ndarray:
    if hasattr(samples, "detach") and not isinstance(samples, np.ndarray):  # a minigan Tensor
        samples = samples.detach().numpy()
    return as_numpy(samples)


def mode_coverage(samples, modes, std: float, threshold: float = THRESHOLD) -> ModeCoverage:
    """Mode coverage of ``samples`` (n, dim) against mixture ``modes`` (K, dim) of common ``std``.

    ``samples`` may be a NumPy/CuPy array or a minigan Tensor. The protocol uses n = ``N_SAMPLES`` (2500);
    any n >= 1 is accepted. See the module docstring for the definitions.
    """
    x = _as_array(samples)
    mu = np.asarray(modes, dtype=np.float64)
    if mu.ndim != 2 or len(mu) == 0:
        raise ValueError(f"mode_coverage: modes must have shape (K, dim), got {mu.shape}")
    if x.ndim != 2 or x.shape[1] != mu.shape[1] or len(x) == 0:
        raise ValueError(
            f"mode_coverage: samples must have shape (n, {mu.shape[1]}) with n >= 1 to match modes "
            f"{mu.shape}, got {x.shape}"
        )
    if not (std is not None and std > 0):
        raise ValueError(f"mode_coverage: std must be > 0, got {std}")
    k, dist = nearest_modes(x, mu)
    good = np.isfinite(dist) & (dist < threshold * std)  # a diverged (NaN / inf) sample is never good
    counts = np.bincount(k[good], minlength=len(mu))
    return ModeCoverage(
        modes_covered=int((counts > 0).sum()),
        n_modes=len(mu),
        high_quality=float(good.mean()),
        reverse_kl=reverse_kl_uniform(counts),
        counts=tuple(int(c) for c in counts),
        n_samples=len(x),
    )


def evaluate_modes(dataset, samples, threshold: float = THRESHOLD) -> ModeCoverage:
    """``mode_coverage`` against a toy dataset's ``modes`` and ``std`` (e.g. ``get_dataset("ring8")``)."""
    if getattr(dataset, "modes", None) is None or getattr(dataset, "std", None) is None:
        raise ValueError(
            f"evaluate_modes: dataset {getattr(dataset, 'name', dataset)!r} has no discrete modes"
        )
    return mode_coverage(samples, dataset.modes, dataset.std, threshold)
