"""1-D figure of the game: p_data, p_g, the discriminator D(x) and the optimal D*(x). Chapter 06.

For a fixed generator the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)); the figure
puts the current D next to it, with p_g estimated from generator samples by a Gaussian KDE (and shown as
a histogram too), in the style of Goodfellow et al. (2014), figure 1.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..metrics.density import gaussian_kde, optimal_discriminator
from ._common import save, to_numpy


def plot_density_1d(
    fake,
    p_data=None,
    d_fn=None,
    p_g=None,
    x_range: tuple[float, float] | None = None,
    bins: int = 60,
    n_grid: int = 400,
    title: str | None = None,
    ax=None,
    path=None,
):
    """Plot p_data, p_g (histogram + KDE of ``fake``), D(x) and D*(x) on one axis; return the Figure.

    fake:    generator samples, (n,) or (n, 1).
    p_data:  callable x (m,) -> density (m,) (e.g. ``Gaussian1D().density``); draws p_data and D*.
    d_fn:    callable x (m, 1) -> D(x) (m,) in [0, 1] (e.g. ``viz.discriminator_fn(D)``); draws D.
    p_g:     optional exact generator density (callable), used instead of the KDE for the p_g line and D*.
    x_range: the x interval; by default it spans the samples (and p_data's bulk) with a margin.
    Lines get labels "p_data", "p_g (KDE)" (or "p_g" when exact), "D(x)", "D*(x)"; densities use the left
    axis, D the right. D* is left out (NaN) where p_data + p_g < 1e-3 of its maximum: no sample lands there,
    so any D is optimal and the ratio of two tiny estimates is noise.
    """
    s = to_numpy(fake).astype(np.float64).reshape(-1)
    if x_range is None:
        lo, hi = float(np.min(s)), float(np.max(s))
        if p_data is not None:
            probe = np.linspace(lo - 10 * (hi - lo + 1), hi + 10 * (hi - lo + 1), 4001)
            mass = probe[p_data(probe) > 1e-3 * np.max(p_data(probe))]
            lo, hi = min(lo, mass.min()), max(hi, mass.max())
        pad = 0.1 * (hi - lo) + 1e-3
        x_range = (lo - pad, hi + pad)
    x = np.linspace(x_range[0], x_range[1], n_grid)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    ax.hist(s, bins=bins, range=x_range, density=True, color="tab:green", alpha=0.3, label="G(z) histogram")
    if p_g is None:
        pg = gaussian_kde(s, x)
        ax.plot(x, pg, color="tab:green", label="p_g (KDE)")
    else:
        pg = np.asarray(p_g(x), dtype=np.float64).reshape(-1)
        ax.plot(x, pg, color="tab:green", label="p_g")
    if p_data is not None:
        pd = np.asarray(p_data(x), dtype=np.float64).reshape(-1)
        ax.plot(x, pd, color="black", ls="--", label="p_data")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax2 = ax.twinx()
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("D(x)")
    if d_fn is not None:
        ax2.plot(x, np.asarray(d_fn(x[:, None])).reshape(-1), color="tab:blue", label="D(x)")
    if p_data is not None:
        mass = pd + pg
        d_star = np.where(mass >= 1e-3 * mass.max(), optimal_discriminator(pd, pg), np.nan)
        ax2.plot(x, d_star, color="tab:red", ls=":", lw=2, label="D*(x)")
    ax2.axhline(0.5, color="grey", lw=0.5)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return save(fig, path)
