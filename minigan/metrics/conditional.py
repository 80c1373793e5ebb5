"""Evaluating a class-conditional generator: did it draw the class it was asked for, and does each class
look like that class's real images? Chapter 11.

Given generated images ``fake`` (M, 1, 28, 28) drawn for the labels ``asked`` (M,), and minigan's own
classifier (``classifier.py``) with its held-out real images:

    conditional accuracy   the share of fakes the classifier assigns to the class asked for, overall and
                           per class (a generator that ignores y scores about 10 %)
    intra-class FD         for each class c, the Fréchet distance (``frechet.py``) between the classifier
                           features of the fakes asked for c and those of held-out real images of class c,
                           averaged over the classes. An unconditional FD can be low while classes are
                           swapped or blended; this one cannot.
    real vs real           the same two figures for held-out real images: the classifier's own per-class
                           accuracy (what "99 %" can be compared with) and the intra-class FD between two
                           disjoint halves of each class's held-out images

Each class's FD uses the same number of images on both sides (n_c = the size of the smaller half, about
100 per class for 2 000 held-out images), because FD depends on the sample size; with n_c < 128 features
the covariances are singular, which ``frechet.py``'s formula allows, and the figures are comparable only to
each other at the same n_c (the real-vs-real column).
"""

from __future__ import annotations

import numpy as np

from .frechet import frechet_distance_features


def balanced_labels(n: int, classes=range(10)) -> np.ndarray:
    """int64 (n,): n / len(classes) of each class, interleaved (0, 1, ..., 9, 0, 1, ...), so that every
    prefix of a multiple of len(classes) is balanced too: the unconditional metrics of ``image_eval`` use
    the first n of the samples they are given. n must divide evenly."""
    classes = np.asarray(list(classes), dtype=np.int64)
    if n % len(classes):
        raise ValueError(f"{n} samples cannot be split evenly over {len(classes)} classes")
    return np.tile(classes, n // len(classes))


def conditional_metrics(fake, asked, classifier, real_images, real_labels, seed: int = 0) -> dict:
    """The figures of the module docstring; ``real_images`` / ``real_labels`` are the classifier's data
    (its ``holdout_idx`` picks the held-out part)."""
    asked = np.asarray(asked, dtype=np.int64)
    if len(asked) != len(fake):
        raise ValueError(f"{len(fake)} generated images but {len(asked)} labels")
    hold = classifier.holdout_idx
    real_x, real_y = np.asarray(real_images)[hold], np.asarray(real_labels, dtype=np.int64)[hold]
    f_fake, p_fake = classifier.features_and_probs(fake)
    f_real, p_real = classifier.features_and_probs(real_x)
    pred_fake, pred_real = p_fake.argmax(1), p_real.argmax(1)
    rng = np.random.default_rng([seed, 11])
    per_class = []
    for c in np.unique(asked):
        mine = asked == c
        idx = rng.permutation(np.flatnonzero(real_y == c))
        n_c = min(len(idx) // 2, int(mine.sum()))
        ref, other = f_real[idx[:n_c]], f_real[idx[n_c : 2 * n_c]]
        enough = n_c >= 2  # a covariance needs two samples
        per_class.append({
            "class": int(c),
            "n": n_c,
            "accuracy": float((pred_fake[mine] == c).mean()),
            "real_accuracy": float((pred_real[real_y == c] == c).mean()),
            "fd": frechet_distance_features(f_fake[mine][:n_c], ref) if enough else float("nan"),
            "real_fd": frechet_distance_features(other, ref) if enough else float("nan"),
        })  # fmt: skip
    asked_classes = np.isin(real_y, asked)
    return {
        "accuracy": float((pred_fake == asked).mean()),
        "min_class_accuracy": min(r["accuracy"] for r in per_class),
        "real_accuracy": float((pred_real[asked_classes] == real_y[asked_classes]).mean()),
        "intra_fd": float(np.mean([r["fd"] for r in per_class])),
        "real_intra_fd": float(np.mean([r["real_fd"] for r in per_class])),
        "per_class": per_class,
    }


def format_conditional(m: dict) -> str:
    """A per-class table (accuracy and intra-class FD, generated vs real) with the overall figures."""
    lines = [f"  {'class':>5} {'n':>5} {'accuracy':>9} {'real acc':>9} {'FD':>8} {'real FD':>8}"]
    for r in m["per_class"]:
        lines.append(
            f"  {r['class']:>5} {r['n']:>5} {100 * r['accuracy']:>8.2f}% {100 * r['real_accuracy']:>8.2f}% "
            f"{r['fd']:>8.2f} {r['real_fd']:>8.2f}"
        )
    lines.append(
        f"  {'all':>5} {'':>5} {100 * m['accuracy']:>8.2f}% {100 * m['real_accuracy']:>8.2f}% "
        f"{m['intra_fd']:>8.2f} {m['real_intra_fd']:>8.2f}   (FD: mean over the classes)"
    )
    return "\n".join(lines)
