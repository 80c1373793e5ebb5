"""MNIST and Fashion-MNIST as training runs: the registry entries behind ``minigan train --data mnist``.
Chapter 08 (DCGAN on MNIST); the evaluation is chapter 09's.

    minigan train --data mnist --split test --out runs/mnist     # --data-dir DIR: IDX files already on disk
    minigan eval runs/mnist

What the trainer gets from here (see ``registry.py`` for the interface):

- ``make_data``: an ``ImageSampler`` over one split, loaded by ``minigan.data.mnist.load_mnist``
  (``data_dir`` / ``split`` / ``dataset`` from the config; the split is never swapped behind the user's
  back). ``sample(n, generator)`` draws n images uniformly with replacement using the generator the
  trainer checkpoints, as float32 (n, 1, 28, 28) in [-1, 1] (the range of G's tanh).
- ``models``: ``dcgan`` (the default), the DCGAN pair of ``dcgan.py`` with N(0, 0.02) initialisation
  (drawn from minigan's default generator, which the trainer seeds; chapter 10's options of D:
  ``--mbstd`` the minibatch-std layer, ``--spectral-norm`` spectral norm and no batch norm, ``--pack M``
  PacGAN packing; ``--set g_ema_kimg=K`` samples and evaluates a moving average of G's weights with a
  half-life of K thousand images, ``minigan.gan.averaged``, off by default); the conditional models ``cgan``,
  ``acgan``, ``projection`` and the semi-supervised ``sgan`` of ``variants/`` (chapters 11 and 15).
- ``defaults``: the DCGAN recipe (batch 64, Adam(2e-4, (0.5, 0.999)), non-saturating loss, z in R^100)
  plus R1 on D (gamma 1) and a learning rate decaying linearly to 10 % over 12 000 steps: on the MNIST
  test images the plain recipe still favours some digits at step 12 000, this one does not (chapter 08,
  section 7, and the README give the numbers). ``--penalty none --lr-decay-steps 0`` restores the
  paper's recipe.
- ``evaluate``: ``minigan.metrics.image_eval`` with the cached minigan-trained classifier (trained on
  first use, a few minutes on 2 CPU cores; see ``minigan.metrics.classifier``). It needs a split larger
  than the classifier's hold-out (2 000 images; ``eval_problem`` says so, with the sizes, before anything
  is computed) and at least 4 generated images (precision / recall use each point's 3 nearest others).
- ``plot_samples``: an 8 x 8 grid of the first 64 samples.
"""

from __future__ import annotations

import numpy as np

from ..data.mnist import load_mnist, to_unit_range
from ..random import default_generator
from . import registry
from .averaged import averaged_generator
from .dcgan import dcgan
from .registry import ModelSpec
from .variants import acgan, cgan, projection, sgan, stylegan

# chapter 10's options of the DCGAN discriminator (``dcgan.dcgan``), off by default
DCGAN_OPTIONS = {"mbstd": False, "spectral_norm": False, "pack": 1}
# the DCGAN's settings: its options, and a moving average of G to sample from (0: none, minigan.gan.averaged)
DCGAN_DEFAULTS = {**DCGAN_OPTIONS, "g_ema_kimg": 0.0}

IMAGE_DEFAULTS = {
    "steps": 12000,  # the quality budget of the README (which gives its time)
    "batch_size": 64,
    "loss": "nonsaturating",
    "penalty": "r1",  # DCGAN has none; R1 (gamma 1) balances the classes (chapter 08, section 7)
    "gamma": 1.0,
    "k": 1,
    "lr": 2e-4,
    "betas": [0.5, 0.999],
    "lr_decay_steps": 12000,  # DCGAN keeps the learning rate constant; decaying it to 10 % helps too
    "z_dim": 100,
    "width": 64,
    "image_size": 28,
    "data_dir": None,
    "split": "train",
    "sample_every": 250,
    "ckpt_every": 250,
    "log_every": 10,
}


class ImageSampler:
    """One split of an image dataset in memory, sampled uniformly with replacement.

    ``images`` uint8 (N, 28, 28), ``labels`` int64 (N,); ``sample(n, generator)`` -> float32
    (n, 1, 28, 28) in [-1, 1]; ``sample_labelled`` the same images with their labels. Holds no random
    state (the trainer passes and checkpoints the generator).
    """

    kind = "image"

    def __init__(self, images, labels, name: str = "mnist", split: str = "train"):
        self.images, self.labels = np.asarray(images), np.asarray(labels)
        self.name, self.split = name, split
        self.shape = (1, *self.images.shape[1:])

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, n: int, generator=None) -> np.ndarray:
        return to_unit_range(self.images[self._indices(n, generator)])

    def sample_labelled(self, n: int, generator=None) -> tuple[np.ndarray, np.ndarray]:
        """(images float32 (n, 1, 28, 28) in [-1, 1], labels int64 (n,)): the same draw as ``sample``."""
        idx = self._indices(n, generator)
        return to_unit_range(self.images[idx]), self.labels[idx].astype(np.int64)

    def _indices(self, n: int, generator) -> np.ndarray:
        if generator is None:
            generator = default_generator()
        elif not isinstance(generator, np.random.Generator):
            generator = np.random.default_rng(generator)
        return generator.integers(0, len(self.images), int(n))

    def __repr__(self):
        return f"ImageSampler({self.name!r}, split={self.split!r}, n={len(self)})"


def make_data(config: dict) -> ImageSampler:
    dataset = config.get("dataset", config["data"])
    split = config.get("split", "train")
    images, labels = load_mnist(split, data_dir=config.get("data_dir"), dataset=dataset)
    return ImageSampler(images, labels, dataset, split)


def make_models(config: dict):
    if config.get("image_size", 28) != 28:
        raise ValueError(
            f"{config['data']} images are 28 x 28; image_size {config['image_size']} does not fit"
        )
    return dcgan_pair(config, 1)


def dcgan_pair(config: dict, channels: int):
    """The DCGAN (G, D) for 28 x 28 images of ``channels`` channels with the run's options of D, G
    averaged when ``g_ema_kimg`` asks for it (shared by mnist and stacked-mnist)."""
    options = {key: config.get(key, default) for key, default in DCGAN_OPTIONS.items()}
    G, D = dcgan(28, channels, config["z_dim"], config.get("width", 64), **options)
    return averaged_generator(G, config), D


def eval_problem(data: ImageSampler) -> str | None:
    """Why ``evaluate`` cannot run on ``data`` (None if it can): the split must be larger than the
    classifier's hold-out, which the classifier never trains on."""
    from ..metrics.classifier import DEFAULT_CONFIG

    n_holdout = DEFAULT_CONFIG["n_holdout"]
    if len(data) > n_holdout:
        return None
    return (
        f"the {data.name} evaluation holds out {n_holdout} real images for its classifier and trains it on "
        f"the rest, but split {data.split!r} has only {len(data)} images; use a larger split "
        "(train has 60000 images, test 10000)"
    )


def evaluate(data: ImageSampler, x: np.ndarray, labels: np.ndarray | None = None) -> dict:
    """Image metrics of generated ``x`` vs the held-out real images, with the real-vs-real baseline; with
    the ``labels`` x was drawn for (a conditional model), also conditional accuracy and intra-class FD
    (``metrics.conditional``)."""
    from ..metrics.classifier import load_or_train, stderr_log
    from ..metrics.conditional import conditional_metrics, format_conditional
    from ..metrics.image_eval import evaluate_images

    problem = eval_problem(data)
    if problem is not None:
        raise ValueError(problem)
    x = np.asarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        return {"summary": "generated images contain NaN or inf: nothing to evaluate", "finite": False}
    clf = load_or_train(data.images, data.labels, dataset=data.name, log=stderr_log)
    result = evaluate_images(x, clf, data.images)
    if labels is None:
        return result
    cond = conditional_metrics(x, labels, clf, data.images, data.labels)
    result["conditional"] = cond
    result["summary"] = (
        f"conditional accuracy {100 * cond['accuracy']:.2f} % (lowest class "
        f"{100 * cond['min_class_accuracy']:.2f} %; classifier on real {100 * cond['real_accuracy']:.2f} %), "
        f"intra-class FD {cond['intra_fd']:.2f} (real {cond['real_intra_fd']:.2f}); " + result["summary"]
    )
    result["report"] += "\n  conditional (images drawn for each class asked for):\n" + format_conditional(
        cond
    )
    return result


def plot_samples(x, data, path, title=None, labels=None, **_):
    """An 8 x 8 grid of the first 64 images of ``x`` written to ``path``; with ``labels`` (one per image),
    one row per class asked for, up to 10 images each."""
    import matplotlib.pyplot as plt

    from ..viz import plot_image_grid

    x = np.asarray(x)
    if labels is None:
        fig = plot_image_grid(x[:64], nrow=8, title=title, path=path)
    else:
        labels = np.asarray(labels)
        classes = np.unique(labels)
        per_row = min(10, min(int((labels == c).sum()) for c in classes))
        rows = np.concatenate([x[labels == c][:per_row] for c in classes])
        fig = plot_image_grid(rows, nrow=per_row, title=title, path=path)
    plt.close(fig)


for _name, _desc in [
    ("mnist", "MNIST handwritten digits, 28 x 28, with a DCGAN (chapter 08)"),
    ("fashion-mnist", "Fashion-MNIST clothing images, 28 x 28, with a DCGAN (chapter 08)"),
]:
    registry.register(
        registry.DatasetSpec(
            name=_name,
            kind="image",
            description=_desc,
            make_data=make_data,
            models=(
                ModelSpec(
                    "dcgan", "unconditional DCGAN (chapter 08)", make_models, defaults=dict(DCGAN_DEFAULTS)
                ),
                cgan.MODEL,
                acgan.MODEL,
                projection.MODEL,
                sgan.MODEL,
                stylegan.MODEL,
            ),
            defaults=dict(IMAGE_DEFAULTS),
            evaluate=evaluate,
            plot_samples=plot_samples,
            blas_threads=1,  # G's Linear(100, 6272) is small: OpenBLAS's second thread only spins
            min_eval_samples=4,  # precision / recall (k = 3) need 4 points
            eval_problem=eval_problem,
        )
    )
