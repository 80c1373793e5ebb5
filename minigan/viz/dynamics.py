"""Phase portraits of two-parameter games: a vector field with quiver and trajectories. Chapter 07.

For Dirac-GAN (``minigan.gan.dirac``) the state is (theta, psi): the generator's point mass and the
discriminator's slope. ``plot_vector_field`` draws the descent directions on a grid with ``quiver`` and
overlays trajectories of gradient descent (simultaneous, alternating, with R1...), so one sees at a glance
whether the dynamics circle, spiral out, or converge to the equilibrium at the origin.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ._common import save


def plot_vector_field(
    xs,
    ys,
    u,
    v,
    trajectories=None,
    labels=None,
    equilibrium=(0.0, 0.0),
    xlabel: str = "theta (generator)",
    ylabel: str = "psi (discriminator)",
    title=None,
    ax=None,
    path=None,
):
    """Quiver of the field (u, v) on the grid xs x ys, plus trajectories; return the Figure.

    xs (nx,), ys (ny,): grid coordinates; u, v: (ny, nx) arrays, the field's components (e.g. from
    ``minigan.gan.dirac.vector_field``). trajectories: a list of (T, 2) arrays of visited points, each
    drawn as a line with its start marked "o"; labels: one legend label per trajectory.
    """
    xs, ys = np.asarray(xs), np.asarray(ys)
    u, v = np.asarray(u), np.asarray(v)
    if u.shape != (len(ys), len(xs)) or v.shape != u.shape:
        expected = (len(ys), len(xs))
        raise ValueError(f"plot_vector_field: u, v must have shape {expected}, got {u.shape}, {v.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    else:
        fig = ax.figure
    X, Y = np.meshgrid(xs, ys)
    ax.quiver(X, Y, u, v, color="grey", angles="xy", alpha=0.7)
    trajectories = trajectories or []
    if labels is not None and len(labels) != len(trajectories):
        raise ValueError(f"plot_vector_field: {len(labels)} labels for {len(trajectories)} trajectories")
    for i, t in enumerate(trajectories):
        t = np.asarray(t)
        (line,) = ax.plot(t[:, 0], t[:, 1], lw=1.5, label=None if labels is None else labels[i])
        ax.plot(t[0, 0], t[0, 1], "o", color=line.get_color())
    if equilibrium is not None:
        ax.plot(*equilibrium, "k*", ms=12)
    ax.set_xlim(xs.min(), xs.max())
    ax.set_ylim(ys.min(), ys.max())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("equal")
    if labels is not None:
        ax.legend(fontsize="small", loc="upper right")
    if title:
        ax.set_title(title)
    return save(fig, path)
