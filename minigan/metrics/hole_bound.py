"""How much of a digit's label survives a hole: chapter 09's classifier trained on the holed inputs
themselves. Chapter 12 (inpainting's label preservation).

    python -m minigan.metrics.hole_bound --data-dir DIR --split test            # 40 epochs, width 32
    python -m minigan.metrics.hole_bound --data-dir DIR --split test --epochs 60 --width 64 --hidden 256

Why: an inpainting G followed by the own classifier is itself a classifier of the holed input x, so its
label preservation is at most the best accuracy any classifier of holed inputs can reach (the Bayes
accuracy of the label given x). This module trains one such classifier directly: the network of
``classifier.py`` with 2 input channels (the holed digit and the mask, exactly what
``minigan.data.paired.inpaint_input`` gives pix2pix), a fresh random hole for every image in every batch,
random shifts of up to 2 pixels, Adam with the one-cycle rate, on the classifier's training digits
(``holdout_split``); it is scored on the held-out digits with ``repeats`` fresh holes each.

What the number means: it is a lower bound on the Bayes accuracy (another classifier might read more),
so it says how high the ceiling is at least, not at most; when a trained inpainting model comes within a
point or two of it, the model keeps nearly all the label information the hole leaves to this family of
classifiers. Cost: ``epochs`` passes of N / 64 classifier steps (on one core of a 2-core x86 CPU, about
5 s per epoch of 8 000 digits at width 32, about 15 s at width 64 / hidden 256).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from ..data.mnist import to_unit_range
from ..data.paired import inpaint_input
from ..random import manual_seed
from .classifier import DEFAULT_CONFIG, Classifier, fit, holdout_split, mnist_classifier, random_shift


def hole_bound(images, labels, epochs: int = 40, width: int = 32, hidden: int = 128, hole: int = 14,
               repeats: int = 5, seed: int = 0, n_holdout: int | None = None, log=None) -> dict:  # fmt: skip
    """Train on holed ``images`` (N, 28, 28) uint8 with ``labels`` (N,) and score on the held-out part.

    Returns ``accuracy`` (the mean over ``repeats`` fresh holes of the held-out digits), ``accuracies``
    (each repeat's), ``n_train``, ``n_heldout``, the settings and ``seconds``. ``n_holdout`` defaults to
    the own classifier's (2 000), so the held-out digits are the ones every evaluation scores on.
    """
    images, labels = np.asarray(images), np.asarray(labels, dtype=np.int64)
    n_holdout = DEFAULT_CONFIG["n_holdout"] if n_holdout is None else n_holdout
    train_idx, hold_idx = holdout_split(len(images), n_holdout, DEFAULT_CONFIG["seed"])
    manual_seed(seed)
    model = mnist_classifier(width, hidden, DEFAULT_CONFIG["dropout"], channels=2)
    rng = np.random.default_rng([seed, 12])  # one stream for the order, the holes and the shifts
    x_train, y_train = to_unit_range(images[train_idx]), labels[train_idx]  # x (N, 1, 28, 28) in [-1, 1]
    batch = DEFAULT_CONFIG["batch_size"]
    n_batches = max(1, len(train_idx) // batch)
    t0 = time.perf_counter()

    def batches():  # a fresh order every pass; the last partial batch is dropped
        order = rng.permutation(len(train_idx))
        for b in range(n_batches):
            idx = order[b * batch : (b + 1) * batch]
            yield x_train[idx], y_train[idx]

    def holed(x):  # a fresh hole for every image in every batch, then the classifier's shifts
        return random_shift(inpaint_input(x, rng, hole), DEFAULT_CONFIG["max_shift"], rng)

    def report(epoch, losses):
        if log:
            log(f"epoch {epoch + 1}/{epochs}: loss {losses[-1]:.4f} ({time.perf_counter() - t0:.0f} s)")

    fit(model, batches, n_batches, epochs, holed, DEFAULT_CONFIG, report)
    clf = Classifier(model, {"channels": 2})
    x_hold = to_unit_range(images[hold_idx])
    accs = [
        clf.score(inpaint_input(x_hold, np.random.default_rng([seed, 13, r]), hole), labels[hold_idx])
        for r in range(repeats)
    ]
    return {
        "accuracy": float(np.mean(accs)),
        "accuracies": [float(a) for a in accs],
        "n_train": len(train_idx),
        "n_heldout": len(hold_idx),
        "epochs": epochs,
        "width": width,
        "hidden": hidden,
        "hole": hole,
        "seed": seed,
        "seconds": time.perf_counter() - t0,
    }


def main(argv=None) -> int:
    from ..data.mnist import load_mnist

    prog, what = "python -m minigan.metrics.hole_bound", __doc__.split("\n")[0]
    p = argparse.ArgumentParser(prog=prog, description=what)
    p.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files")
    p.add_argument("--split", default="train", choices=["train", "test"])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--hole", type=int, default=14)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        images, labels = load_mnist(args.split, data_dir=args.data_dir)
    except (OSError, ValueError) as err:
        print(f"hole_bound: {err}", file=sys.stderr)
        return 2
    out = hole_bound(images, labels, args.epochs, args.width, args.hidden, args.hole, args.repeats, args.seed,
                     log=lambda m: print(m, file=sys.stderr, flush=True))  # fmt: skip
    print(json.dumps({"split": args.split, **out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
