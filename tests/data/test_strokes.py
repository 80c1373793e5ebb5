"""Synthetic strokes: the quick-mode stand-in for MNIST in chapters 09, 11 and 15."""

import numpy as np

from minigan.data import strokes


def test_strokes_are_seeded_labelled_images_whose_class_is_the_angle():
    images, labels = strokes(40, seed=3)
    assert images.shape == (40, 28, 28) and images.dtype == np.uint8 and labels.dtype == np.int64
    assert labels.tolist() == [i % 10 for i in range(40)]
    np.testing.assert_array_equal(images, strokes(40, seed=3)[0])
    assert not np.array_equal(images, strokes(40, seed=4)[0])
    # class 0 is a horizontal stroke (its pixels spread over columns), class 5 a vertical one (over rows)
    rows, cols = np.nonzero(images[0])
    assert np.ptp(cols) > 3 * np.ptp(rows)
    rows, cols = np.nonzero(images[5])
    assert np.ptp(rows) > 3 * np.ptp(cols)


def test_mnist_or_strokes_stands_in_only_in_quick_mode(tmp_path, monkeypatch, capsys):
    import pytest

    from minigan.data import DatasetNotFoundError, mnist_or_strokes

    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path))  # an empty cache: no MNIST files
    images, labels, source = mnist_or_strokes("test", True, 30, data_dir=tmp_path)
    assert source == "synthetic strokes" and images.shape == (30, 28, 28) and labels.shape == (30,)
    assert "using synthetic 10-class strokes" in capsys.readouterr().out
    with pytest.raises(DatasetNotFoundError):
        mnist_or_strokes("test", False, 30, data_dir=tmp_path / "missing")
