"""Stacked MNIST as a training run: the registry entry behind ``minigan train --data stacked-mnist``.
Chapter 10 (mode collapse on images); the metrics are ``minigan.metrics.stacked``.

    minigan train --data stacked-mnist --split test --out runs/stacked   # --data-dir DIR as for mnist
    minigan sample runs/stacked --n 64 --out stacked.png
    minigan eval runs/stacked                                            # 26 000 samples (PacGAN)

Each image has 3 channels, and each channel is an MNIST digit drawn on its own, so the data has
10^3 = 1 000 equally likely modes, the digit triples (Metz et al. 2017; Lin et al. 2018). A generator
that drops modes shows it here in numbers that ten MNIST classes cannot give.

What the trainer gets from here (see ``registry.py`` for the interface):

- ``make_data``: a ``StackedSampler`` over one MNIST split, loaded as ``mnist`` loads it
  (``minigan.data.mnist.load_mnist`` with ``split`` / ``data_dir`` from the config, ``--split`` /
  ``--data-dir`` on the command line; the split is never swapped). ``sample(n, generator)`` draws an
  (n, 3) array of image indices, uniformly with replacement, from the generator the trainer passes and
  checkpoints, so each channel's digit is independent of the others; the result is float32
  (n, 3, 28, 28) in [-1, 1]. The sampler holds no random state: the same generator state gives the same
  batch, and a resumed run continues the same stream. There are 10 000^3 possible images (test split).
- ``models``: ``dcgan`` only, the DCGAN pair of ``dcgan.py`` with 3 input / output channels (chapter
  10's options of D, ``--mbstd``, ``--spectral-norm``, ``--pack M``, and the averaged G of ``--set
  g_ema_kimg=K``, as for mnist); it is unconditional
  (``minigan sample --labels`` is refused).
- ``defaults``: those of MNIST (``mnist_run.IMAGE_DEFAULTS``).
- ``evaluate``: the mode count of ``metrics/stacked.py`` with the cached minigan-trained MNIST classifier of
  ``metrics/classifier.py``, the one ``minigan eval`` of an mnist run on the same split uses (same images,
  same cache key, so it is trained once for both). Each channel of the n generated images is classified on
  its own; the real-vs-real line draws n stacked images from the classifier's held-out images (which it
  never trained on) with a fixed seed and judges them the same way. ``eval_problem``: as for mnist, the
  split must be larger than the 2 000-image hold-out. The evaluation at the end of ``minigan train`` and
  ``minigan eval`` without ``--n`` draw ``N_SAMPLES = 26 000`` images (``eval_samples``; about a minute on 2
  CPU cores); ``minigan eval`` refuses fewer than 1 000 (fewer images than modes cannot cover them all).
- ``plot_samples``: the first 64 samples, 4 per row, each drawn as its three channels side by side in grey
  (channel 0 left), separated by a one-pixel grey line: the digits of a triple stay readable, which an
  RGB overlay of three digits does not allow.
"""

from __future__ import annotations

import numpy as np

from ..data.mnist import load_mnist, to_unit_range
from ..metrics import stacked as metrics
from ..random import default_generator
from . import registry
from .mnist_run import DCGAN_DEFAULTS, IMAGE_DEFAULTS, dcgan_pair
from .mnist_run import eval_problem as _mnist_eval_problem
from .registry import ModelSpec

NAME = "stacked-mnist"
CLASSIFIER_DATASET = "mnist"  # the classifier cache is mnist's: one digit classifier for both
MIN_EVAL_SAMPLES = metrics.N_MODES
REAL_SEED = 7  # the real-vs-real images: one fixed draw of the held-out images


class StackedSampler:
    """Stacked MNIST over one MNIST split: images whose 3 channels are independent draws of the split.

    ``images`` uint8 (N, 28, 28) and ``labels`` int64 (N,) are the MNIST split; ``sample(n, generator)``
    -> float32 (n, 3, 28, 28) in [-1, 1]; ``sample_digits`` the same draw with its true digits (n, 3).
    Holds no random state (the trainer passes and checkpoints the generator)."""

    kind = "image"
    channels = metrics.N_CHANNELS

    def __init__(self, images, labels, split: str = "train"):
        self.images, self.labels = np.asarray(images), np.asarray(labels)
        self.name, self.split = NAME, split
        self.shape = (self.channels, *self.images.shape[1:])

    def __len__(self) -> int:
        """The size of the MNIST split the channels are drawn from."""
        return len(self.images)

    def sample(self, n: int, generator=None) -> np.ndarray:
        return self._images(self._indices(n, generator))

    def sample_digits(self, n: int, generator=None) -> tuple[np.ndarray, np.ndarray]:
        """(images float32 (n, 3, 28, 28) in [-1, 1], true digits int64 (n, 3)): the draw of ``sample``."""
        idx = self._indices(n, generator)
        return self._images(idx), self.labels[idx].astype(np.int64)

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return to_unit_range(self.images[idx])  # (n, 3, 28, 28): uint8 gathered, then scaled

    def _indices(self, n: int, generator) -> np.ndarray:
        if generator is None:
            generator = default_generator()
        elif not isinstance(generator, np.random.Generator):
            generator = np.random.default_rng(generator)
        return generator.integers(0, len(self.images), (int(n), self.channels))

    def __repr__(self):
        return f"StackedSampler(split={self.split!r}, n={len(self)})"


def make_data(config: dict) -> StackedSampler:
    split = config.get("split", "train")
    images, labels = load_mnist(split, data_dir=config.get("data_dir"), dataset="mnist")
    return StackedSampler(images, labels, split)


def make_models(config: dict):
    if config.get("image_size", 28) != 28:
        raise ValueError(f"{NAME} images are 28 x 28; image_size {config['image_size']} does not fit")
    return dcgan_pair(config, metrics.N_CHANNELS)


def eval_problem(data: StackedSampler) -> str | None:
    """Why ``evaluate`` cannot run on ``data`` (None if it can): as for mnist, the split must be larger
    than the classifier's hold-out."""
    return _mnist_eval_problem(data)


def _channels_as_images(x: np.ndarray) -> np.ndarray:
    """(n, 3, 28, 28) -> (3 n, 1, 28, 28): image 0's channels 0, 1, 2, then image 1's, ..."""
    return x.reshape(-1, 1, *x.shape[2:])


def _report(gen: metrics.StackedModes, real: metrics.StackedModes, accuracy: float) -> str:
    rows = [
        f"  Stacked MNIST modes, {gen.n_samples} samples each "
        f"(classifier held-out accuracy {100 * accuracy:.2f} %)",
        f"    {'':<34}{'generated':>11}{'real':>11}",
        f"    {f'modes covered (of {gen.n_modes})':<34}{gen.modes_covered:>11d}{real.modes_covered:>11d}",
        f"    {'KL(mode histogram || uniform)':<34}{gen.kl:>11.4f}{real.kl:>11.4f}",
    ]
    return "\n".join(rows)


def evaluate(data: StackedSampler, x: np.ndarray, labels=None) -> dict:
    """Modes covered (of 1 000) and KL(mode histogram || uniform) of generated ``x`` (n, 3, 28, 28) in
    [-1, 1], each channel classified by the cached MNIST classifier; the same figures for n real stacked
    images drawn (seed ``REAL_SEED``) from the classifier's held-out images. Returns ``{"generated": ...,
    "real_baseline": ...}`` (``StackedModes.as_dict``), ``n``, ``classifier_accuracy``,
    ``real_mode_accuracy`` (the share of those real images whose three digits the classifier all gets
    right), a one-line ``summary`` and a ``report`` table."""
    from ..metrics.classifier import load_or_train, stderr_log

    if labels is not None:
        raise ValueError(f"{NAME} is unconditional: its evaluation takes no labels")
    problem = eval_problem(data)
    if problem is not None:
        raise ValueError(problem)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4 or x.shape[1:] != data.shape or len(x) == 0:
        raise ValueError(f"{NAME} evaluation: expected images (n, 3, 28, 28) with n > 0, got {x.shape}")
    if not np.isfinite(x).all():
        return {"summary": "generated images contain NaN or inf: nothing to evaluate", "finite": False}
    clf = load_or_train(data.images, data.labels, dataset=CLASSIFIER_DATASET, log=stderr_log)
    gen = metrics.stacked_modes(metrics.channel_digits(clf.predict_proba(_channels_as_images(x))))
    # n real stacked images from the held-out set: classifying each of its channels is looking up the
    # classifier's prediction for the held-out image drawn there (eval mode: one image, one answer)
    hold = np.asarray(clf.holdout_idx, dtype=np.int64)
    predicted = clf.predict_proba(data.images[hold]).argmax(axis=1)
    pick = np.random.default_rng([REAL_SEED, 10]).integers(0, len(hold), (len(x), metrics.N_CHANNELS))
    real_digits = predicted[pick]
    real = metrics.stacked_modes(real_digits)
    true_digits = data.labels[hold][pick]
    real_mode_accuracy = float((real_digits == true_digits).all(axis=1).mean())
    summary = f"{gen}; real-vs-real {real.modes_covered}/{real.n_modes} modes, KL {real.kl:.3f}"
    return {
        "generated": gen.as_dict(),
        "real_baseline": real.as_dict(),
        "n": len(x),
        "classifier_accuracy": clf.accuracy,
        "real_mode_accuracy": real_mode_accuracy,
        "summary": summary,
        "report": _report(gen, real, clf.accuracy),
    }


def side_by_side(x: np.ndarray, gap_value: float = 0.0) -> np.ndarray:
    """(n, C, H, W) -> (n, 1, H, C W + C - 1): the channels laid left to right, a 1-pixel column of
    ``gap_value`` between neighbours."""
    x = np.asarray(x, dtype=np.float32)
    n, c, h, _ = x.shape
    gap = np.full((n, h, 1), gap_value, np.float32)
    parts = []
    for i in range(c):
        parts += [x[:, i]] + ([gap] if i < c - 1 else [])
    return np.concatenate(parts, axis=2)[:, None]


def plot_samples(x, data, path, title=None, **_):
    """The first 64 images of ``x``, 4 per row, each as its channels side by side (module docstring)."""
    import matplotlib.pyplot as plt

    from ..viz import plot_image_grid

    fig = plot_image_grid(side_by_side(np.asarray(x)[:64]), nrow=4, title=title, path=path)
    plt.close(fig)


SPEC = registry.register(
    registry.DatasetSpec(
        name=NAME,
        kind="image",
        description="Stacked MNIST: 3 channels, each an independent MNIST digit (1 000 modes), with a "
        "DCGAN (chapter 10)",
        make_data=make_data,
        models=(
            ModelSpec(
                "dcgan",
                "unconditional DCGAN with 3 channels (chapter 10)",
                make_models,
                defaults=dict(DCGAN_DEFAULTS),
            ),
        ),
        defaults=dict(IMAGE_DEFAULTS),
        evaluate=evaluate,
        plot_samples=plot_samples,
        blas_threads=1,
        min_eval_samples=MIN_EVAL_SAMPLES,
        eval_problem=eval_problem,
        eval_samples=metrics.N_SAMPLES,
    )
)
