"""Sample grids of images: (N, C, H, W) in [-1, 1] tiled into one picture. Chapter 08 onward.

``make_grid`` is the array operation (like torchvision's ``make_grid``): rows of ``nrow`` images separated
by ``padding`` pixels, returned as (H', W', C) floats in [0, 1] (C = 1 or 3), ready for ``imshow``.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ._common import save, to_numpy


def make_grid(images, nrow: int = 8, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile images (N, C, H, W) with values in [-1, 1] into an (H', W', C) array in [0, 1].

    H' = rows * (H + padding) + padding with rows = ceil(N / nrow); W' likewise with min(N, nrow) columns.
    Values are mapped x -> (x + 1) / 2 and clipped to [0, 1]; empty cells and padding get ``pad_value``.
    """
    x = to_numpy(images).astype(np.float64)
    if x.ndim == 3:  # (N, H, W): one channel
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3) or len(x) == 0:
        raise ValueError(f"make_grid: images must have shape (N, C, H, W) with C in (1, 3), got {x.shape}")
    if nrow < 1:
        raise ValueError(f"make_grid: nrow must be >= 1, got {nrow}")
    n, c, h, w = x.shape
    cols = min(n, nrow)
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), pad_value)
    x = np.clip((x + 1.0) / 2.0, 0.0, 1.0).transpose(0, 2, 3, 1)  # (N, H, W, C)
    for i in range(n):
        r, q = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        grid[top : top + h, left : left + w] = x[i]
    return grid


def plot_image_grid(images, nrow: int = 8, padding: int = 2, title=None, path=None):
    """Show ``make_grid(images)`` on one axis (grey colour map for 1 channel); return the Figure."""
    grid = make_grid(images, nrow, padding)
    fig, ax = plt.subplots(figsize=(max(2.0, grid.shape[1] / 40), max(2.0, grid.shape[0] / 40)))
    if grid.shape[2] == 1:
        ax.imshow(grid[:, :, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return save(fig, path)


def same_size_rows(rows) -> list[np.ndarray]:
    """Arrays of images (n, C, h, w) made comparable: each enlarged (nearest, an integer factor) to the
    largest side, and grey ones given three channels when any row has them."""
    rows = [to_numpy(r) for r in rows]
    side = max(r.shape[-1] for r in rows)
    colour = any(r.shape[1] == 3 for r in rows)
    out = []
    for r in rows:
        if r.shape[-1] != side:
            f = side // r.shape[-1]
            r = r.repeat(f, axis=2).repeat(f, axis=3)
        out.append(np.repeat(r, 3, axis=1) if colour and r.shape[1] == 1 else r)
    return out


def plot_image_rows(rows, labels=None, title=None, path=None):
    """One row of images per array in ``rows`` (each (n, C, h, w) in [-1, 1], C = 1 or 3; sizes may differ:
    ``same_size_rows``), its label on the left: input | output | target pictures of translations
    (chapters 12-13, ``minigan translate``). Returns the Figure."""
    rows = same_size_rows(rows)
    labels = labels or [""] * len(rows)
    n = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), 1, figsize=(max(4.0, 0.55 * n + 1), 0.75 * len(rows) + 0.4))
    for ax, r, label in zip(np.atleast_1d(axes), rows, labels):
        grid = make_grid(r, nrow=n)
        ax.imshow(grid[:, :, 0] if grid.shape[2] == 1 else grid, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return save(fig, path)
