"""A GIF of the generator's distribution during training. Chapters 06-07.

``animate_samples(frames, path)`` turns a list of sample arrays, one per snapshot, into an animated GIF
with ``matplotlib.animation.FuncAnimation`` and ``PillowWriter`` (Pillow is a dependency of matplotlib,
so nothing extra is needed). 2-D samples are drawn as a scatter, 1-D samples as a histogram. Axis
limits are fixed over all frames so motion is visible.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter

from ._common import to_numpy


def animate_samples(
    frames,
    path,
    titles=None,
    modes=None,
    lim=None,
    fps: int = 5,
    bins: int = 60,
    p_data=None,
    dpi: int = 80,
):
    """Write an animated GIF of ``frames`` (a list of (n, 2) or (n, 1) sample arrays); return the Figure.

    titles: one string per frame (e.g. "step 400"). modes: (K, 2) centres drawn as crosses in every 2-D
    frame. lim: (xmin, xmax, ymin, ymax) for 2-D or (xmin, xmax) for 1-D; by default the range of all
    frames. p_data: for 1-D, a density callable drawn as a dashed line on every frame.
    """
    frames = [to_numpy(f).astype(np.float64) for f in frames]
    if not frames:
        raise ValueError("animate_samples: no frames")
    dim = frames[0].reshape(len(frames[0]), -1).shape[1]
    if dim not in (1, 2) or any(f.reshape(len(f), -1).shape[1] != dim for f in frames):
        raise ValueError("animate_samples: every frame must be (n, 1) or (n, 2), all of the same dim")
    if titles is not None and len(titles) != len(frames):
        raise ValueError(f"animate_samples: {len(titles)} titles for {len(frames)} frames")
    allpts = np.concatenate([f.reshape(len(f), dim) for f in frames])
    allpts = allpts[np.all(np.isfinite(allpts), axis=1)]
    if lim is None:
        lo, hi = allpts.min(axis=0), allpts.max(axis=0)
        pad = 0.1 * float((hi - lo).max()) + 0.05
        lim = (lo[0] - pad, hi[0] + pad) + ((lo[1] - pad, hi[1] + pad) if dim == 2 else ())
    fig, ax = plt.subplots(figsize=(4.5, 4.5) if dim == 2 else (6, 3.5))

    def draw(i):
        ax.clear()
        f = frames[i]
        if dim == 2:
            if modes is not None:
                m = np.asarray(modes)
                ax.scatter(m[:, 0], m[:, 1], marker="x", c="black", s=30)
            ax.scatter(f[:, 0], f[:, 1], s=3, c="tab:green", alpha=0.5)
            ax.set_xlim(lim[0], lim[1])
            ax.set_ylim(lim[2], lim[3])
            ax.set_aspect("equal")
        else:
            ax.hist(f.reshape(-1), bins=bins, range=lim[:2], density=True, color="tab:green", alpha=0.6)
            if p_data is not None:
                x = np.linspace(lim[0], lim[1], 300)
                ax.plot(x, p_data(x), "k--")
            ax.set_xlim(lim[0], lim[1])
        if titles is not None:
            ax.set_title(titles[i])

    anim = FuncAnimation(fig, draw, frames=len(frames), interval=1000 / fps)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    anim.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    return fig
