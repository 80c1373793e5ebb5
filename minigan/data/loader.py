"""Seeded, resumable shuffling and batching of in-memory arrays. Chapter 08 (DCGAN on MNIST).

``DataLoader(x, y, batch_size=64, seed=0)`` cuts arrays that share their first axis into batches. Epoch
``e`` visits the examples in the order ``default_rng([seed, e]).permutation(n)``, so the order depends on
nothing but the seed and the epoch number: a run resumed from a checkpoint (``state_dict()`` is just
``{"epoch", "position"}``) sees exactly the batches it would have seen, and two loaders with the same seed
agree. With ``drop_last=True`` (the default, as GAN training wants equal batches for batch norm) the last
``n % batch_size`` examples of each epoch's permutation are skipped; they are different ones every epoch.

Batches are NumPy arrays (``transform`` may turn them into anything, e.g. float images on the GPU); the
trainer wraps them as Tensors. Cost per batch: one fancy-index gather of ``batch_size`` rows.
"""

from __future__ import annotations

import numpy as np


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits ``n`` examples (a function of seed and epoch only)."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


class DataLoader:
    """Iterate over ``arrays`` (same first dimension) in batches.

    ``for xb, yb in loader`` runs one epoch (the next one, each time it is iterated); ``next_batch()``
    draws from an endless stream that moves on to the next epoch by itself, which is what a GAN trainer
    counting steps wants. ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(
        self,
        *arrays,
        batch_size: int = 64,
        shuffle: bool = True,
        drop_last: bool = True,
        seed: int = 0,
        transform=None,
    ):
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        n = len(arrays[0])
        for i, a in enumerate(arrays):
            if len(a) != n:
                raise ValueError(f"DataLoader: array {i} has {len(a)} rows, array 0 has {n}; they must match")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if drop_last and batch_size > n:
            raise ValueError(f"batch_size {batch_size} is larger than the {n} examples and drop_last=True")
        self.arrays, self.n = arrays, n
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.seed, self.transform = int(seed), transform
        self.epoch, self.position = 0, 0
        self._order = None

    def __len__(self) -> int:
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        return epoch_permutation(self.n, self.seed, epoch) if self.shuffle else np.arange(self.n)

    def _take(self, idx):
        batch = tuple(a[idx] for a in self.arrays)
        if self.transform is not None:
            return self.transform(*batch)
        return batch[0] if len(batch) == 1 else batch

    def _epoch_end(self) -> int:
        return self.n - self.n % self.batch_size if self.drop_last else self.n

    def next_batch(self):
        """The next batch of the endless stream (advances ``epoch`` / ``position``)."""
        if self.position >= self._epoch_end():
            self.epoch, self.position = self.epoch + 1, 0
        if self._order is None or self._order[0] != self.epoch:
            self._order = (self.epoch, self.order(self.epoch))
        start = self.position
        self.position = min(start + self.batch_size, self.n)
        return self._take(self._order[1][start : self.position])

    def __iter__(self):
        """The rest of the current epoch (a whole epoch when it has not started, else the next one)."""
        if self.position >= self._epoch_end():
            self.epoch, self.position = self.epoch + 1, 0
        while self.position < self._epoch_end():
            yield self.next_batch()

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self.seed = int(state.get("seed", self.seed))
        self._order = None
