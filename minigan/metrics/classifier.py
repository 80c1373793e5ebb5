"""A small MNIST classifier, trained with minigan itself: the feature extractor of chapter 09's metrics.

FID uses an Inception-v3 network trained on ImageNet; downloading its weights is exactly what this project
does without. Instead minigan trains its own judge, once, and caches it:

    x (N, 1, 28, 28) -> Conv2d(1, 32, 4, 2, 1) -> ReLU                          (N, 32, 14, 14)
      -> Conv2d(32, 64, 4, 2, 1) -> BatchNorm2d(64) -> ReLU                     (N, 64, 7, 7)
      -> Flatten -> Linear(3136, 128) -> ReLU   = the 128-d FEATURES            (N, 128)
      -> Dropout(0.3) -> Linear(128, 10)        = class logits                  (N, 10)

(about 0.44 M parameters, 2.1 M multiply-adds per image). Training: Adam, batch 64, a one-cycle learning
rate (linear warm-up over the first 20 % of steps to ``lr_max`` = 3e-3, then cosine decay to 0), and
augmentation by random shifts of up to 2 pixels (padding with the background value -1), for 15 epochs.

Data, honestly stated: the classifier trains on one split of the data minus ``n_holdout`` images held out
by a seeded permutation, and its accuracy is measured on those held-out images. In this project's sandbox
only the MNIST *test* set (10 000 images) exists, so it trains on 8 000 test images and is measured on the
other 2 000; with the training set present (``split="train"``) it would train on 58 000 training images.
The metrics of ``image_eval.py`` compare generated images with the held-out images only, which the
classifier has never seen, like the generated ones.

Caching: the trained weights go to ``<data root>/classifiers/<dataset>-<key>.npz`` (``data_root()`` of
``minigan.data.mnist``: ``$MINIGAN_DATA`` or the user cache), where ``key`` hashes the classifier config,
the exact image and label bytes it trains on and ``VERSION``; any change retrains.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from .. import io, nn, optim
from ..autograd import no_grad
from ..creation import tensor
from ..data.loader import DataLoader
from ..data.mnist import data_root, to_unit_range
from ..nn import functional as F
from ..ops.activations import softmax

VERSION = 1
DEFAULT_CONFIG = {
    "width": 32,
    "hidden": 128,
    "dropout": 0.3,
    "epochs": 15,
    "batch_size": 64,
    "lr_max": 3e-3,
    "warmup": 0.2,
    "max_shift": 2,
    "n_holdout": 2000,
    "seed": 0,
}
FEATURE_LAYER = 7  # index in the Sequential of the ReLU whose output is the feature vector


def mnist_classifier(
    width: int = 32, hidden: int = 128, dropout: float = 0.3, n_classes: int = 10, channels=1
):
    """The classifier network (see the module docstring); features are the output of layer 7. ``channels``
    3 reads colour images (the MNIST-M classifier of the CycleGAN evaluation)."""
    return nn.Sequential(
        nn.Conv2d(channels, width, 4, 2, 1),
        nn.ReLU(),
        nn.Conv2d(width, 2 * width, 4, 2, 1),
        nn.BatchNorm2d(2 * width),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * width * 7 * 7, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, n_classes),
    )


def _network(cfg: dict):
    """The untrained network a classifier config describes (``channels``: 1 unless the config says 3)."""
    return mnist_classifier(cfg["width"], cfg["hidden"], cfg["dropout"], channels=cfg.get("channels", 1))


def random_shift(x: np.ndarray, max_shift: int, rng: np.random.Generator, fill: float = -1.0) -> np.ndarray:
    """Each image of ``x`` (N, C, H, W) moved by its own random (dy, dx) in [-max_shift, max_shift]^2.

    One padded copy and one gather: pad by ``max_shift`` with ``fill``, then crop an H x W window at a
    random offset per image. O(N C H W).
    """
    if max_shift == 0:
        return x
    n, c, h, w = x.shape
    p = max_shift
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    dy, dx = rng.integers(0, 2 * p + 1, n), rng.integers(0, 2 * p + 1, n)
    rows = (dy[:, None] + np.arange(h))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx[:, None] + np.arange(w))[:, None, None, :]  # (N, 1, 1, W)
    return xp[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]


def one_cycle_lr(step: int, total: int, lr_max: float, warmup: float = 0.2) -> float:
    """Linear warm-up from lr_max / 25 to lr_max over ``warmup * total`` steps, then cosine decay to 0."""
    w = max(1, int(warmup * total))
    if step < w:
        return lr_max * (0.04 + 0.96 * step / w)
    return lr_max * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - w) / max(1, total - w))))


class Classifier:
    """A trained classifier with its facts: ``model``, ``config``, ``accuracy`` on the held-out images,
    ``holdout_idx`` (indices into the images it was given), ``history`` (per epoch: loss, accuracy)."""

    def __init__(self, model, config, accuracy=float("nan"), holdout_idx=None, history=None, seconds=0.0):
        self.model, self.config, self.accuracy = model, dict(config), float(accuracy)
        self.holdout_idx = np.asarray([] if holdout_idx is None else holdout_idx, dtype=np.int64)
        self.history, self.seconds = list(history or []), float(seconds)

    def _run(self, images, batch: int = 500):
        """(features (N, hidden), probabilities (N, 10)) as float64 NumPy arrays, eval mode, no graph."""
        x = np.asarray(images)
        if x.dtype == np.uint8:
            x = to_unit_range(x)
        if x.ndim == 3:
            x = x[:, None]
        c = self.config.get("channels", 1)
        if x.ndim != 4 or x.shape[1:] != (c, 28, 28):
            raise ValueError(f"classifier: expected images (N, {c}, 28, 28) in [-1, 1], got shape {x.shape}")
        was_training = self.model.training
        self.model.eval()
        feats, probs = [], []
        layers = list(self.model.children())
        try:
            with no_grad():
                for i in range(0, len(x), batch):
                    h = tensor(x[i : i + batch].astype(np.float32))
                    for j, layer in enumerate(layers):
                        h = layer(h)
                        if j == FEATURE_LAYER:
                            feats.append(h.numpy().astype(np.float64))
                    probs.append(softmax(h, dim=1).numpy().astype(np.float64))
        finally:
            self.model.train(was_training)
        return np.concatenate(feats), np.concatenate(probs)

    def features(self, images) -> np.ndarray:
        return self._run(images)[0]

    def predict_proba(self, images) -> np.ndarray:
        return self._run(images)[1]

    def features_and_probs(self, images):
        return self._run(images)

    def score(self, images, labels) -> float:
        """Accuracy on (images, labels)."""
        return float((self.predict_proba(images).argmax(1) == np.asarray(labels)).mean())


def holdout_split(n: int, n_holdout: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, held-out indices), sorted, from a seeded permutation of range(n)."""
    if not 0 < n_holdout < n:
        raise ValueError(f"n_holdout must be in 1..{n - 1} for {n} images, got {n_holdout}")
    perm = np.random.default_rng([seed, 9]).permutation(n)
    return np.sort(perm[n_holdout:]), np.sort(perm[:n_holdout])


def fit(model, batches, n_batches: int, epochs: int, transform, cfg: dict, on_epoch=None) -> None:
    """Train ``model`` by cross-entropy for ``epochs`` passes over ``batches()`` (a fresh iterable of
    (x (B, C, 28, 28) float32, y (B,) int64) per pass, ``n_batches`` long), each x through ``transform``
    first (the random shifts, and whatever else the caller's inputs need); Adam at ``cfg["lr_max"]`` with
    the one-cycle rate over ``epochs * n_batches`` steps. ``on_epoch(epoch, losses)`` after each pass,
    with that pass's per-step losses. Shared by ``train_classifier`` and ``hole_bound``."""
    opt = optim.Adam(model.parameters(), lr=cfg["lr_max"])
    total, step = epochs * n_batches, 0
    for epoch in range(epochs):
        model.train()  # on_epoch may have scored the model in eval mode
        losses = []
        for xb, yb in batches():
            for group in opt.param_groups:
                group["lr"] = one_cycle_lr(step, total, cfg["lr_max"], cfg["warmup"])
            loss = F.cross_entropy(model(tensor(transform(xb))), tensor(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
            step += 1
        if on_epoch is not None:
            on_epoch(epoch, losses)


def train_classifier(images, labels, config: dict | None = None, log=None) -> Classifier:
    """Train the classifier with minigan on ``images`` (N, 28, 28) uint8 and ``labels`` (N,); with
    ``config["channels"] = 3``, colour images (N, 3, 28, 28) uint8.

    ``config`` overrides ``DEFAULT_CONFIG``; ``log`` (a print-like function) gets one line per epoch.
    """
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    from ..random import manual_seed

    images, labels = np.asarray(images), np.asarray(labels, dtype=np.int64)
    train_idx, hold_idx = holdout_split(len(images), cfg["n_holdout"], cfg["seed"])
    manual_seed(cfg["seed"])
    model = _network(cfg)
    x_train = to_unit_range(images[train_idx])
    loader = DataLoader(x_train, labels[train_idx], batch_size=cfg["batch_size"], seed=cfg["seed"])
    rng = np.random.default_rng([cfg["seed"], 3])
    clf = Classifier(model, cfg, holdout_idx=hold_idx)
    t0 = time.perf_counter()

    def score(epoch, losses):
        acc = clf.score(images[hold_idx], labels[hold_idx])
        clf.history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "holdout_accuracy": acc})
        if log:
            log(f"classifier epoch {epoch + 1}/{cfg['epochs']}: loss {np.mean(losses):.4f}, "
                f"held-out accuracy {100 * acc:.2f} % ({time.perf_counter() - t0:.0f} s)")  # fmt: skip

    def shifted(x):
        return random_shift(x, cfg["max_shift"], rng)

    fit(model, lambda: loader, len(loader), cfg["epochs"], shifted, cfg, score)
    clf.accuracy, clf.seconds = clf.history[-1]["holdout_accuracy"], time.perf_counter() - t0
    return clf


def cache_key(images, labels, config: dict) -> str:
    """A hash of the config, the exact training bytes and VERSION (what decides the trained weights)."""
    h = hashlib.sha256()
    h.update(json.dumps({**DEFAULT_CONFIG, **config, "version": VERSION}, sort_keys=True).encode())
    h.update(np.ascontiguousarray(images).tobytes())
    h.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


def load_or_train(
    images, labels, config=None, dataset: str = "mnist", cache_dir=None, log=None
) -> Classifier:
    """The cached classifier for these images / labels / config, training (and caching) it if needed."""
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    cache_dir = Path(cache_dir) if cache_dir is not None else data_root() / "classifiers"
    path = cache_dir / f"{dataset}-{cache_key(images, labels, cfg)}.npz"
    if path.is_file():
        try:
            state = io.load_checkpoint(path)
            model = _network(cfg)
            model.load_state_dict(state["model"])
            return Classifier(
                model, cfg, state["accuracy"], state["holdout_idx"], state["history"], state["seconds"]
            )
        except (io.CheckpointError, KeyError, ValueError, RuntimeError) as err:
            if log:
                log(f"classifier cache {path} unusable ({err}); retraining")
    if log:
        log(f"training the {dataset} feature classifier with minigan (once; cached in {path})")
    clf = train_classifier(images, labels, cfg, log=log)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        io.save_checkpoint(path, {
            "model": clf.model.state_dict(), "config": cfg, "accuracy": clf.accuracy,
            "holdout_idx": clf.holdout_idx, "history": clf.history, "seconds": clf.seconds,
        })  # fmt: skip
    except OSError as err:  # a read-only data folder: keep going, just without the cache
        if log:
            log(f"could not cache the classifier in {path} ({err}); it will be retrained next time")
    return clf


def stderr_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
