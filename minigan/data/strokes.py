"""Synthetic 10-class "digits" for the chapters' quick mode when no MNIST files are found. Chapters 09,
11 and 15 (quick mode only: these are not digits, and no figure in the book is measured on them).

Class c is a bright stroke through the middle of a dark 28 x 28 image at an angle of 18 c degrees (jittered
by a few degrees and shifted by a pixel or two), so a small classifier tells the classes apart and a GAN
has something with classes to learn, in seconds.
"""

from __future__ import annotations

import numpy as np


def strokes(n: int = 1200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, 28, 28), labels int64 (n,)) with labels 0, 1, ..., 9, 0, ...; ``seed`` fixes the
    jitter."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n, dtype=np.int64) % 10
    images = np.zeros((n, 28, 28), np.uint8)
    for im, c in zip(images, labels):
        a = np.pi * c / 10 + rng.normal(0, 0.05)
        r0, c0 = 14 + rng.normal(0, 1.5, 2)
        for t in np.linspace(-9, 9, 40):
            r, q = int(r0 + t * np.sin(a)), int(c0 + t * np.cos(a))
            im[max(r - 1, 0) : r + 2, max(q - 1, 0) : q + 2] = 255
    return images, labels


def mnist_or_strokes(split: str, quick: bool, n_strokes: int = 1200, data_dir=None):
    """(images uint8 (N, 28, 28), labels int64 (N,), source) for a chapter: the MNIST ``split`` (found in
    ``data_dir`` or minigan's cache, downloaded when missing unless ``quick``), or, in quick mode only,
    ``n_strokes`` synthetic strokes when its files are not there (printing a line that says so). Outside
    quick mode a missing split raises ``DatasetNotFoundError`` as ``MNIST`` does."""
    from .mnist import MNIST, DatasetNotFoundError

    try:
        mnist = MNIST(split, data_dir=data_dir, download=False if quick else None)
    except DatasetNotFoundError as err:
        if not quick:
            raise
        print(f"no MNIST files ({str(err)[:100]}...): using synthetic 10-class strokes")
        images, labels = strokes(n_strokes)
        return images, labels, "synthetic strokes"
    return mnist.images, mnist.labels, f"MNIST {split} split"
