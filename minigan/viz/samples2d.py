"""2-D figure: generator samples (and data) over the discriminator's contours. Chapter 07.

D is evaluated on an ``n_grid`` x ``n_grid`` grid covering the plot (``discriminator_grid``) and drawn as
filled contours; the generator's samples are drawn on top, the data's modes as crosses. Where D(x) > 1/2
the discriminator believes "real", so a generator that has collapsed shows as a cloud sitting in a region
D has given up on while whole modes stay "real" and unvisited.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ._common import save, to_numpy


def discriminator_grid(d_fn, lim: tuple[float, float, float, float], n_grid: int = 150):
    """(X, Y, Z): meshgrids (n_grid, n_grid) over lim = (xmin, xmax, ymin, ymax) and Z = d_fn on them."""
    xmin, xmax, ymin, ymax = lim
    X, Y = np.meshgrid(np.linspace(xmin, xmax, n_grid), np.linspace(ymin, ymax, n_grid))
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    Z = np.asarray(d_fn(pts), dtype=np.float64).reshape(X.shape)
    return X, Y, Z


def _limits(arrays, margin=0.15):
    pts = np.concatenate([a for a in arrays if a is not None and len(a)])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = margin * (hi - lo).max() + 0.05
    return (lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad)


def plot_samples_2d(
    fake,
    real=None,
    modes=None,
    d_fn=None,
    lim: tuple[float, float, float, float] | None = None,
    n_grid: int = 150,
    probability: bool = True,
    title: str | None = None,
    ax=None,
    path=None,
):
    """Scatter 2-D generator samples ``fake`` (n, 2) over D's contours; return the Figure.

    real:  optional data samples (m, 2), drawn faintly. modes: optional (K, 2) mode centres, drawn as "x".
    d_fn:  optional callable (p, 2) -> (p,) evaluated on the grid (``viz.discriminator_fn(D)``); with
           ``probability=True`` the colour scale is fixed to [0, 1] and the D = 1/2 level is outlined.
    lim:   (xmin, xmax, ymin, ymax); by default it spans fake, real and modes with a margin.
    """
    fake = to_numpy(fake).astype(np.float64)
    if fake.ndim != 2 or fake.shape[1] != 2:
        raise ValueError(f"plot_samples_2d: fake must have shape (n, 2), got {fake.shape}")
    real = None if real is None else to_numpy(real).astype(np.float64)
    modes = None if modes is None else np.asarray(modes, dtype=np.float64)
    finite = fake[np.all(np.isfinite(fake), axis=1)]
    if lim is None:
        lim = _limits([finite, real, modes])
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    else:
        fig = ax.figure
    if d_fn is not None:
        X, Y, Z = discriminator_grid(d_fn, lim, n_grid)
        levels = np.linspace(0, 1, 21) if probability else 20
        cs = ax.contourf(X, Y, Z, levels=levels, cmap="coolwarm", alpha=0.6)
        if probability and Z.min() < 0.5 < Z.max():
            ax.contour(X, Y, Z, levels=[0.5], colors="k", linewidths=0.8)
        fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label="D(x)" if probability else "d(x)")
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=2, c="grey", alpha=0.3, label="data")
    ax.scatter(finite[:, 0], finite[:, 1], s=3, c="tab:green", alpha=0.5, label="G(z)")
    if modes is not None:
        ax.scatter(modes[:, 0], modes[:, 1], marker="x", c="black", s=30, label="modes")
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize="small", markerscale=3)
    if title:
        ax.set_title(title)
    return save(fig, path)
