"""One seed, one stream per rank: what each rank of a data-parallel run draws. Chapter 16 (scaling out).

A run's randomness has two sources (``minigan train``'s docstring): minigan's default generator (weights,
noise z, labels, penalties' interpolates) and the data stream (which images a batch holds). In a
data-parallel run the weights must be the same on every rank (rank 0's are broadcast anyway) and
everything else must differ: rank r's shard of a batch is B / p other images and B / p other z. So after
the models are made from ``manual_seed(seed)``, each rank switches to streams of its own, derived from
(seed, stream, rank, world size) by NumPy's ``SeedSequence``: independent, and the same every time the
run is started with that world size. A run of one process keeps the streams it always had, so
distributed training changes nothing for it.

Stream numbers: 1 the data (``shard_stream(seed, 1, ...)``), 2 the fixed noise of training pictures
(rank 0 only, the same for every world size), 3 minigan's default generator on each rank.
"""

from __future__ import annotations

import numpy as np

from ..random import set_default_generator

DATA, PICTURES, DEFAULT = 1, 2, 3


def shard_stream(seed: int, stream: int, rank: int = 0, world_size: int = 1) -> np.random.Generator:
    """The generator of ``stream`` on ``rank`` of ``world_size`` ranks; one process: [seed, stream]."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in 0..{world_size - 1}")
    key = [seed, stream] if world_size == 1 else [seed, stream, rank, world_size]
    return np.random.default_rng(key)


def seed_ranks(seed: int, rank: int, world_size: int) -> None:
    """Give minigan's default generator this rank's own stream (nothing changes for one process)."""
    if world_size > 1:
        set_default_generator(shard_stream(seed, DEFAULT, rank, world_size))
