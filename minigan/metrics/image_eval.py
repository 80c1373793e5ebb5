"""Evaluate generated MNIST-like images against real ones, next to a real-vs-real baseline. Chapter 09.

Every number here is computed in the feature space of minigan's own classifier (``classifier.py``), so it
means nothing on its own: Fréchet distance 3.1 is good or bad only next to what two sets of REAL images
score. ``evaluate_images`` therefore reports each metric twice:

    generated   n generated images   vs  n held-out real images (the reference set)
    real        n other held-out real images  vs  the same reference set   (the baseline)

with the same n for both, because FD (and precision / recall) depend on the sample size. The held-out
images are the ones the classifier never trained on (``Classifier.holdout_idx``), so real and generated
images are both "unseen" to it. With the default 2 000 held-out images, n = 1 000.

Metrics: Fréchet distance (``frechet.py``), KID = unbiased MMD^2 with the cubic kernel, mean and std over
subsets (``kid.py``), precision / recall / density / coverage with k = 3 (``prdc.py``), and from the
classifier's predictions on ALL the generated images given: classes covered of 10, KL of the predicted
class histogram to uniform, mean confidence (``classes.py``).
"""

from __future__ import annotations

import numpy as np

from .classes import class_coverage
from .frechet import frechet_distance_features
from .kid import kernel_distance
from .prdc import precision_recall

ROWS = [
    ("frechet_distance", "Fréchet distance (classifier features)", "{:.3f}"),
    ("kid", "KID (MMD^2, mean over subsets)", "{:.3f}"),
    ("precision", "precision (k=3)", "{:.3f}"),
    ("recall", "recall (k=3)", "{:.3f}"),
    ("density", "density (k=3)", "{:.3f}"),
    ("coverage", "coverage (k=3)", "{:.3f}"),
    ("classes_covered", "classes covered (of 10)", "{:d}"),
    ("class_kl", "KL(class histogram || uniform)", "{:.4f}"),
    ("mean_confidence", "mean classifier confidence", "{:.3f}"),
]


def compare(feat_a, probs_a, feat_ref, k: int = 3, kid_subsets: int = 50, seed: int = 0) -> dict:
    """Metrics of set A (features, probabilities) against reference features; A's class stats use all of A."""
    n = min(len(feat_ref), len(feat_a))
    fa = feat_a[:n]
    prdc = precision_recall(feat_ref[:n], fa, k=k)
    # subsets of half the set (at most 1000, as in the reference code), so the std across them means something
    kid = kernel_distance(
        fa, feat_ref[:n], n_subsets=kid_subsets, subset_size=min(1000, max(2, n // 2)), seed=seed
    )
    cc = class_coverage(probs_a)
    return {
        "n": n,
        "frechet_distance": frechet_distance_features(fa, feat_ref[:n]),
        "kid": kid.mean,
        "kid_std": kid.std,
        **{key: value for key, value in prdc.as_dict().items() if key != "k"},
        "classes_covered": cc.covered,
        "class_kl": cc.kl_to_uniform,
        "mean_confidence": cc.mean_confidence,
        "class_histogram": cc.histogram,
    }


def evaluate_images(fake, classifier, real_images, seed: int = 0) -> dict:
    """Generated ``fake`` (M, 1, 28, 28) in [-1, 1] vs the held-out part of ``real_images`` (uint8).

    Returns ``{"generated": {...}, "real_baseline": {...}, "n": n, "classifier_accuracy": ...,
    "summary": one line, "report": a table}``.
    """
    hold = np.asarray(real_images)[classifier.holdout_idx]
    if len(hold) < 4:
        raise ValueError(f"need at least 4 held-out real images, the classifier has {len(hold)}")
    order = np.random.default_rng([seed, 5]).permutation(len(hold))
    n = min(len(hold) // 2, len(fake))
    ref, other = hold[order[:n]], hold[order[n : 2 * n]]
    f_ref, _ = classifier.features_and_probs(ref)
    f_other, p_other = classifier.features_and_probs(other)
    f_fake, p_fake = classifier.features_and_probs(fake)
    gen = compare(f_fake, p_fake, f_ref, seed=seed)
    base = compare(f_other, p_other, f_ref, seed=seed)
    out = {"n": n, "n_generated": len(fake), "classifier_accuracy": classifier.accuracy,
           "generated": gen, "real_baseline": base}  # fmt: skip
    out["summary"] = (
        f"FD {gen['frechet_distance']:.2f} (real {base['frechet_distance']:.2f}), "
        f"KID {gen['kid']:.3g} (real {base['kid']:.3g}), "
        f"precision {gen['precision']:.2f} recall {gen['recall']:.2f}, "
        f"{gen['classes_covered']}/10 classes, class KL {gen['class_kl']:.4f}"
    )
    out["report"] = format_report(out)
    return out


def format_report(result: dict) -> str:
    """A two-column table: generated vs the real baseline."""
    gen, base = result["generated"], result["real_baseline"]
    lines = [
        f"  {'metric':<40} {'generated':>10} {'real':>10}    (n = {result['n']} vs {result['n']} held-out "
        f"real; class stats on {result['n_generated']} generated)",
    ]
    for key, label, fmt in ROWS:
        lines.append(f"  {label:<40} {fmt.format(gen[key]):>10} {fmt.format(base[key]):>10}")
    lines.append(f"  classifier held-out accuracy: {100 * result['classifier_accuracy']:.2f} %")
    return "\n".join(lines)
