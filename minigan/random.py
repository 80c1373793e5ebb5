"""The random source behind every draw minigan makes. Chapter 01; used by every chapter after it.

One seed fixes everything: ``manual_seed(s)`` resets the default generator that ``randn``, ``rand``, weight
initialisation, dropout, noise for the generator and data shuffling all draw from (unless they are given
a generator of their own). The generator is NumPy's PCG64 ``Generator``; for CUDA tensors the draws are
made on the CPU and copied, so a seed gives the same numbers on every device.
"""

from __future__ import annotations

import numpy as np

_default = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the default generator from ``seed`` (an int >= 0) and return it."""
    global _default
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _default = np.random.default_rng(int(seed))
    return _default


def set_default_generator(gen: np.random.Generator) -> None:
    """Make ``gen`` the default generator (data-parallel training gives each rank a stream of its own:
    ``minigan.distributed.seed_ranks``)."""
    global _default
    if not isinstance(gen, np.random.Generator):
        raise TypeError(f"set_default_generator: expected a numpy Generator, got {type(gen).__name__}")
    _default = gen


def default_generator() -> np.random.Generator:
    """The generator used when none is passed."""
    return _default


def get_rng_state() -> dict:
    """The default generator's state, as a JSON-friendly dict (for checkpoints)."""
    return _default.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``."""
    _default.bit_generator.state = state
