"""Training curves from the trainer's per-step records (or a run's metrics.jsonl). Chapters 06-08.

Two panels: the losses (loss_D, loss_G) and the discriminator's mean outputs on real and generated data
(D(x), D(G(z)); the trainer's records spell them ``D_x`` and ``D_G_z``, and both spellings are read). For
the minimax loss an equilibrium shows as loss_D -> log 4 ~ 1.386 and
D(x) = D(G(z)) = 1/2; the panels draw those reference lines. Keys not present are skipped.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ._common import save

LOSS_KEYS = ("loss_D", "loss_G")
PROB_KEYS = ("D(x)", "D(G(z))")
ALIASES = {"D(x)": ("D(x)", "D_x"), "D(G(z))": ("D(G(z))", "D_G_z")}  # label -> keys it may be stored as


def read_metrics(path) -> list[dict]:
    """The records of a metrics.jsonl file (one JSON object per line; blank lines skipped)."""
    with open(Path(path), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _series(records, label):
    steps, values = [], []
    for i, r in enumerate(records):
        key = next((k for k in ALIASES.get(label, (label,)) if r.get(k) is not None), None)
        if key is not None:
            steps.append(r.get("step", i))
            values.append(float(r[key]))
    return np.asarray(steps), np.asarray(values)


def _smooth(v, window):
    if window <= 1 or len(v) < window:
        return v
    kernel = np.ones(window) / window
    return np.convolve(v, kernel, mode="valid")


def plot_training_curves(records, smooth: int = 1, reference: bool = True, title=None, path=None):
    """Plot losses and D outputs against step; ``records`` is a list of dicts or a metrics.jsonl path.

    smooth: moving-average window (1 = raw). reference: draw log 4 on the loss panel and 1/2 on the
    D panel (the values at the minimax game's equilibrium). Returns the Figure (2 axes).
    """
    if isinstance(records, (str, Path)):
        records = read_metrics(records)
    records = list(records)
    known = [k for label in LOSS_KEYS + PROB_KEYS for k in ALIASES.get(label, (label,))]
    if not any(k in r for r in records for k in known):
        raise ValueError(
            f"plot_training_curves: no records with any of {tuple(known)} "
            f"(got keys {sorted({k for r in records for k in r})})"
        )
    fig, (ax_loss, ax_d) = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, keys in ((ax_loss, LOSS_KEYS), (ax_d, PROB_KEYS)):
        for key in keys:
            steps, v = _series(records, key)
            if len(v):
                sv = _smooth(v, smooth)
                ax.plot(steps[len(steps) - len(sv) :], sv, label=key)
        ax.set_xlabel("step")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    if reference:
        ax_loss.axhline(math.log(4), color="grey", ls=":", lw=1)
        ax_d.axhline(0.5, color="grey", ls=":", lw=1)
    ax_loss.set_title("losses")
    ax_d.set_title("discriminator outputs")
    ax_d.set_ylim(-0.02, 1.02)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)
