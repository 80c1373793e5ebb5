"""The minigan-trained feature classifier (training, augmentation, cache) and the image-evaluation
protocol (generated vs held-out real, next to the real-vs-real baseline)."""

import numpy as np
import pytest

from minigan.metrics import classifier as C
from minigan.metrics.image_eval import evaluate_images


def bars(n, seed=0):
    """Three classes of 28x28 uint8 images: a horizontal bar, a vertical bar, a square, at random places."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    y = np.arange(n) % 3
    for i in range(n):
        r, c = rng.integers(4, 20, 2)
        if y[i] == 0:
            x[i, r : r + 3, 4:24] = 255
        elif y[i] == 1:
            x[i, 4:24, c : c + 3] = 255
        else:
            x[i, r : r + 7, c : c + 7] = 255
    return x, y


def test_random_shift_matches_a_loop():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2, 6, 7)).astype(np.float32)
    got = C.random_shift(x, 2, np.random.default_rng(1), fill=-1.0)
    r = np.random.default_rng(1)
    dy, dx = r.integers(0, 5, 5), r.integers(0, 5, 5)
    pad = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1.0)
    for i in range(5):
        np.testing.assert_array_equal(got[i], pad[i, :, dy[i] : dy[i] + 6, dx[i] : dx[i] + 7])
    assert C.random_shift(x, 0, rng) is x


def test_one_cycle_lr_shape():
    lrs = [C.one_cycle_lr(s, 100, 1.0, 0.2) for s in range(101)]
    assert lrs[0] == pytest.approx(0.04) and lrs[20] == pytest.approx(1.0)
    assert max(lrs) == pytest.approx(1.0) and lrs[100] == pytest.approx(0.0, abs=1e-12)
    assert all(a >= b for a, b in zip(lrs[20:], lrs[21:]))


def test_holdout_split():
    tr, ho = C.holdout_split(50, 10, seed=3)
    assert len(ho) == 10 and sorted(np.concatenate([tr, ho]).tolist()) == list(range(50))
    np.testing.assert_array_equal(ho, C.holdout_split(50, 10, seed=3)[1])
    with pytest.raises(ValueError, match="n_holdout must be in 1..49"):
        C.holdout_split(50, 50, 0)


def test_train_cache_and_features(tmp_path):
    x, y = bars(300)
    cfg = {
        "width": 8,
        "hidden": 16,
        "epochs": 4,
        "n_holdout": 60,
        "lr_max": 1e-2,
        "dropout": 0.0,
        "batch_size": 32,
    }
    logs = []
    clf = C.load_or_train(x, y, cfg, dataset="bars", cache_dir=tmp_path, log=logs.append)
    assert clf.accuracy >= 0.9 and len(clf.history) == 4 and len(clf.holdout_idx) == 60
    assert any("training the bars feature classifier" in m for m in logs)
    feats, probs = clf.features_and_probs(x[:7])
    assert feats.shape == (7, 16) and probs.shape == (7, 10) and (feats >= 0).all()
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    # second call: loaded from the cache, same predictions, no training
    logs.clear()
    again = C.load_or_train(x, y, cfg, dataset="bars", cache_dir=tmp_path, log=logs.append)
    assert logs == [] and again.accuracy == clf.accuracy
    np.testing.assert_allclose(again.predict_proba(x[:7]), probs, rtol=1e-6)
    np.testing.assert_array_equal(again.holdout_idx, clf.holdout_idx)
    # the key changes with the config and with the data
    assert C.cache_key(x, y, cfg) != C.cache_key(x, y, {**cfg, "epochs": 5})
    assert C.cache_key(x, y, cfg) != C.cache_key(x[::-1], y, cfg)
    with pytest.raises(ValueError, match=r"expected images \(N, 1, 28, 28\)"):
        clf.features(np.zeros((2, 1, 14, 14), np.float32))


class FakeClassifier:
    """A stand-in with the Classifier interface: features = 4x4 block means, class = argmax of 10 bins."""

    accuracy = 1.0

    def __init__(self, n, n_holdout):
        self.holdout_idx = np.arange(n - n_holdout, n)

    def features_and_probs(self, images):
        x = np.asarray(images, np.float64)
        if x.dtype == np.uint8 or x.max() > 1.5:
            x = x / 127.5 - 1
        x = x.reshape(len(x), 28, 28)
        feats = x.reshape(len(x), 7, 4, 7, 4).mean(axis=(2, 4)).reshape(len(x), 49)
        cls = np.clip(((x.mean(axis=(1, 2)) + 1) * 5).astype(int), 0, 9)
        return feats, np.eye(10)[cls]


def test_evaluate_images_protocol():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (400, 28, 28), dtype=np.uint8)
    clf = FakeClassifier(400, 200)
    as_float = lambda u: u[:, None].astype(np.float32) / 127.5 - 1
    same = evaluate_images(as_float(rng.integers(0, 256, (300, 28, 28), dtype=np.uint8)), clf, real)
    assert same["n"] == 100 and same["n_generated"] == 300
    g, b = same["generated"], same["real_baseline"]
    assert g["frechet_distance"] < 2 * b["frechet_distance"] + 0.05
    assert g["precision"] > 0.5 and g["recall"] > 0.5
    black = evaluate_images(np.full((300, 1, 28, 28), -1, np.float32), clf, real)
    gb = black["generated"]
    assert gb["frechet_distance"] > 10 * b["frechet_distance"] and gb["classes_covered"] == 1
    assert gb["precision"] == 0.0 and gb["class_kl"] == pytest.approx(np.log(10))
    assert "Fréchet distance" in black["report"] and "1/10 classes" in black["summary"]


def test_unwritable_cache_is_not_fatal(tmp_path):
    x, y = bars(90)
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the cache folder should be")
    logs = []
    cfg = {"width": 4, "hidden": 8, "epochs": 1, "n_holdout": 20, "batch_size": 32}
    clf = C.load_or_train(x, y, cfg, cache_dir=blocker, log=logs.append)
    assert len(clf.holdout_idx) == 20 and any("could not cache the classifier" in m for m in logs)
