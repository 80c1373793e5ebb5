"""Shared plumbing for the figures: saving, and turning a discriminator module into a NumPy function.

Every plotting function in ``minigan.viz`` returns its matplotlib ``Figure`` and, given ``path``, also
writes it as a PNG (parent folders are created). Figures are made with ``pyplot`` so a chapter can
``plt.show()`` them; under the Agg backend (tests, CI, ``MPLBACKEND=Agg``) nothing is displayed. Close
figures you no longer need (``plt.close(fig)``) when making many.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..autograd import no_grad
from ..backend import as_numpy
from ..creation import tensor


def save(fig, path=None, dpi: int = 100):
    """Write ``fig`` to ``path`` (a PNG) if a path is given; return ``fig``."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig


def sigmoid(t) -> np.ndarray:
    """1 / (1 + exp(-t)), computed without overflow for large |t|."""
    t = np.asarray(t, dtype=np.float64)
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def discriminator_fn(D, logits: bool = True, batch: int = 8192):
    """Wrap a discriminator ``D`` (a minigan Module, or any callable on tensors) as ``f(x) -> (m,)`` NumPy.

    ``x`` is a NumPy array (m, dim); ``D`` sees it as a float32 tensor under ``no_grad``, in chunks of
    ``batch`` rows, in eval mode (restored afterwards). With ``logits=True`` (D outputs logits d(x)) the
    result is the probability D(x) = sigmoid(d(x)); with ``logits=False`` the raw output is returned
    (a Wasserstein critic, or a D that already ends in a sigmoid).
    """

    def f(x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        was_training = getattr(D, "training", None)
        if was_training and hasattr(D, "eval"):
            D.eval()
        try:
            out = []
            with no_grad():
                for i in range(0, len(x), batch):
                    y = D(tensor(x[i : i + batch]))
                    out.append(as_numpy(y.array if hasattr(y, "array") else y).reshape(-1))
        finally:
            if was_training and hasattr(D, "train"):
                D.train()
        y = np.concatenate(out) if out else np.zeros(0)
        return sigmoid(y) if logits else y.astype(np.float64)

    return f


def to_numpy(x) -> np.ndarray:
    """A NumPy array from an array, a CuPy array or a minigan Tensor."""
    if hasattr(x, "detach") and not isinstance(x, np.ndarray):  # a minigan Tensor, maybe with a graph
        x = x.detach().numpy()
    return as_numpy(x)
