"""Toy distributions for the minimax game: 1-D Gaussian, ring of 8, grid of 25, swiss roll. Chapters 06-07.

Every dataset is a small sampler object with the same interface:

- ``sample(n, generator=None) -> np.ndarray`` of shape ``(n, dim)`` and dtype float32. The draws come from
  ``generator`` (a ``numpy.random.Generator``; an int is taken as a seed; ``None`` means minigan's default
  generator, fixed by ``mg.manual_seed``). A sampler holds no random state of its own, so a trainer that
  checkpoints its generator's ``bit_generator.state`` resumes the data stream bit for bit.
- ``dim``, ``name``; ``modes`` (K, dim) and ``std`` for the Gaussian mixtures (what the mode-coverage
  metric of ``minigan.metrics.modes`` needs), ``None`` where the data has no discrete modes.
- ``density(x)`` where the density is known in closed form (1-D Gaussian and the mixtures): the
  ``p_data`` in the optimal discriminator D*(x) = p_data(x) / (p_data(x) + p_g(x)) of chapter 06.

The mixtures follow the mode-coverage benchmark of VEEGAN (Srivastava et al., 2017) and PacGAN (Lin et al.,
2018): ring8 has means (cos 2 pi i/8, sin 2 pi i/8), i = 0..7, and std 0.01; grid25 has means
{-4, -2, 0, 2, 4}^2 and std 0.05; each component has weight 1/K. The ring's angles are ``2 pi i / 8`` for
``i in range(8)``, not ``linspace(0, 2 pi, 8)``, whose end points coincide (7 distinct modes).

``get_dataset(name)`` builds one by name: ``"gaussian1d"``, ``"ring8"``, ``"grid25"``, ``"swissroll"``.
"""

from __future__ import annotations

import math

import numpy as np

from ..random import default_generator


def _generator(generator) -> np.random.Generator:
    """The Generator to draw from: the one given, a fresh one for an int seed, or minigan's default."""
    if generator is None:
        return default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"generator must be a numpy.random.Generator, an int seed or None, got {type(generator).__name__}"
    )


def _check_n(n) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"sample: n must be a non-negative int, got {n!r}")
    return int(n)


class ToyDataset:
    """Base class: a distribution on R^dim that can be sampled. Subclasses set ``name`` and ``dim``."""

    name: str = ""
    dim: int = 0
    modes: np.ndarray | None = None
    std: float | None = None

    def sample(self, n: int, generator=None) -> np.ndarray:
        """``n`` draws, shape (n, dim), float32."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


class Gaussian1D(ToyDataset):
    """N(mean, std^2) on the real line; the target of chapter 06 (default N(4, 0.5^2)).

    ``density(x)`` is the normal pdf, so D*(x) can be drawn exactly.
    """

    name = "gaussian1d"
    dim = 1

    def __init__(self, mean: float = 4.0, std: float = 0.5):
        if not std > 0:
            raise ValueError(f"Gaussian1D: std must be > 0, got {std}")
        self.mean = float(mean)
        self.std = float(std)
        self.modes = np.array([[self.mean]])

    def sample(self, n: int, generator=None) -> np.ndarray:
        n = _check_n(n)
        z = _generator(generator).standard_normal((n, 1))
        return (self.mean + self.std * z).astype(np.float32)

    def density(self, x) -> np.ndarray:
        """p_data(x) for x of any shape (a (n, 1) column gives (n, 1)); float64."""
        x = np.asarray(x, dtype=np.float64)
        u = (x - self.mean) / self.std
        return np.exp(-0.5 * u * u) / (self.std * math.sqrt(2.0 * math.pi))


class GaussianMixture2D(ToyDataset):
    """An equal-weight mixture of isotropic Gaussians N(modes[k], std^2 I) in the plane.

    Sampling draws a component index k ~ Uniform{0..K-1} per sample, then mode + std * N(0, I).
    """

    dim = 2

    def __init__(self, modes, std: float, name: str = "mixture"):
        modes = np.asarray(modes, dtype=np.float64)
        if modes.ndim != 2 or modes.shape[1] != 2 or len(modes) == 0:
            raise ValueError(f"GaussianMixture2D: modes must have shape (K, 2), got {modes.shape}")
        if not std > 0:
            raise ValueError(f"GaussianMixture2D: std must be > 0, got {std}")
        self.modes = modes
        self.std = float(std)
        self.name = name

    @property
    def n_modes(self) -> int:
        return len(self.modes)

    def sample(self, n: int, generator=None) -> np.ndarray:
        n = _check_n(n)
        g = _generator(generator)
        k = g.integers(0, self.n_modes, size=n)
        x = self.modes[k] + self.std * g.standard_normal((n, 2))
        return x.astype(np.float32)

    def density(self, x) -> np.ndarray:
        """p_data(x) for x of shape (n, 2); returns (n,), float64."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"density: x must have shape (n, 2), got {x.shape}")
        d2 = ((x[:, None, :] - self.modes[None, :, :]) ** 2).sum(-1)  # (n, K)
        norm = 1.0 / (2.0 * math.pi * self.std**2)
        return norm * np.exp(-0.5 * d2 / self.std**2).mean(axis=1)


def ring8(radius: float = 1.0, std: float = 0.01) -> GaussianMixture2D:
    """8 Gaussians evenly spaced on a circle: means radius * (cos 2 pi i/8, sin 2 pi i/8), std 0.01."""
    angles = 2.0 * math.pi * np.arange(8) / 8.0  # not linspace(0, 2 pi, 8): its ends coincide
    modes = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture2D(modes, std, name="ring8")


def grid25(spacing: float = 2.0, std: float = 0.05) -> GaussianMixture2D:
    """25 Gaussians on a 5 x 5 grid: means {-4, -2, 0, 2, 4}^2 (spacing 2), std 0.05."""
    ticks = spacing * (np.arange(5) - 2.0)
    modes = np.array([(a, b) for a in ticks for b in ticks])
    return GaussianMixture2D(modes, std, name="grid25")


class SwissRoll(ToyDataset):
    """A 2-D swiss roll, standardised to zero mean and unit variance per coordinate.

    t ~ Uniform[1.5 pi, 4.5 pi], x = (t cos t, t sin t); the curve's mean and per-coordinate std (computed
    once, on a fine grid of t, so no randomness is involved) are subtracted / divided, then Gaussian noise
    of std ``noise`` is added. No discrete modes: ``modes`` and ``std`` are None.
    """

    name = "swissroll"
    dim = 2

    def __init__(self, noise: float = 0.05):
        if noise < 0:
            raise ValueError(f"SwissRoll: noise must be >= 0, got {noise}")
        self.noise = float(noise)
        t = np.linspace(1.5 * math.pi, 4.5 * math.pi, 200_001)
        curve = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
        self._center = curve.mean(axis=0)
        self._scale = curve.std(axis=0)

    def sample(self, n: int, generator=None) -> np.ndarray:
        n = _check_n(n)
        g = _generator(generator)
        t = g.uniform(1.5 * math.pi, 4.5 * math.pi, size=n)
        x = (np.stack([t * np.cos(t), t * np.sin(t)], axis=1) - self._center) / self._scale
        x = x + self.noise * g.standard_normal((n, 2))
        return x.astype(np.float32)


DATASETS = {
    "gaussian1d": Gaussian1D,
    "ring8": ring8,
    "grid25": grid25,
    "swissroll": SwissRoll,
}


def get_dataset(name: str, **kwargs) -> ToyDataset:
    """The toy dataset called ``name`` (one of ``DATASETS``); ``kwargs`` go to its constructor."""
    try:
        make = DATASETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(DATASETS))
        raise ValueError(f"unknown toy dataset {name!r}; valid names: {valid}") from None
    return make(**kwargs)
