"""Conditional accuracy and intra-class FD (``minigan.metrics.conditional``) against a stand-in classifier
whose answers are known exactly."""

import numpy as np
import pytest

from minigan.metrics.conditional import balanced_labels, conditional_metrics, format_conditional


class OracleClassifier:
    """Reads the class off an image: the digit c is encoded as the pixel value at [0, 0] (c * 20);
    features are 3 x that class's one-hot vector plus a noisy copy of the pixel at [0, 1]."""

    def __init__(self, n_real: int):
        self.holdout_idx = np.arange(n_real)

    def features_and_probs(self, images):
        images = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
        c = np.clip(np.rint(images[:, 0] / 20), 0, 9).astype(int)
        probs = np.eye(10)[c]
        rng = np.random.default_rng(len(images))
        feats = np.concatenate([3 * probs, images[:, 1:2] + rng.normal(0, 1, (len(images), 1))], 1)
        return feats, probs


def images_of(classes, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((len(classes), 28, 28))
    x[:, 0, 0] = 20 * np.asarray(classes)
    x[:, 0, 1] = rng.normal(0, 1, len(classes)) + shift
    return x


def test_balanced_labels():
    assert balanced_labels(20).tolist() == list(range(10)) * 2  # interleaved: every prefix of 10k balanced
    with pytest.raises(ValueError, match="cannot be split evenly"):
        balanced_labels(25)


def test_a_generator_that_draws_what_it_is_asked_for_scores_like_the_real_images():
    real_y = np.arange(400) % 10
    clf = OracleClassifier(400)
    real = images_of(real_y, seed=1)
    asked = balanced_labels(200)
    m = conditional_metrics(images_of(asked, seed=2), asked, clf, real, real_y)
    assert m["accuracy"] == 1.0 and m["min_class_accuracy"] == 1.0 and m["real_accuracy"] == 1.0
    assert [r["n"] for r in m["per_class"]] == [20] * 10
    assert m["intra_fd"] < 1.0 and m["real_intra_fd"] < 1.0
    assert "all" in format_conditional(m)


def test_a_generator_that_ignores_the_label_scores_ten_percent_and_a_large_intra_class_fd():
    real_y = np.arange(400) % 10
    clf = OracleClassifier(400)
    real = images_of(real_y, seed=1)
    asked = balanced_labels(200)
    drawn = np.roll(asked, 7)  # the images drawn belong to other classes than asked
    m = conditional_metrics(images_of(drawn, seed=2), asked, clf, real, real_y)
    assert m["accuracy"] == pytest.approx(np.mean(drawn == asked))
    assert m["intra_fd"] > 10 * max(m["real_intra_fd"], 0.1)
    shifted = conditional_metrics(images_of(asked, shift=3.0, seed=2), asked, clf, real, real_y)
    assert shifted["accuracy"] == 1.0 and shifted["intra_fd"] > 5  # right class, wrong look


def test_mismatched_lengths_are_refused():
    clf = OracleClassifier(20)
    with pytest.raises(ValueError, match="10 generated images but 9 labels"):
        conditional_metrics(images_of(range(10)), np.arange(9), clf, images_of(range(20)), np.arange(20))
