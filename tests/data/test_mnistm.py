"""MNIST-M (minigan.data.mnistm): photo folders and their errors (small PNGs written by Pillow), the default
photos, the blend, and the unpaired domain pair; one test on the real MNIST test set when it is found.

The real files are looked up in ``$MINIGAN_MNIST_DIR`` if set, else ``../shared/data/mnist`` relative to the
repository root (test_mnist.py's REAL_DIR); without them that test is skipped with that reason.
"""

import sys
import types

import numpy as np
import pytest
from PIL import Image
from test_mnist import REAL_DIR, needs_real  # the real MNIST test files, when they are found

from minigan.data import mnistm as M
from minigan.data.mnist import from_unit_range, load_mnist, to_unit_range


def photo(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def position_photo(h=30, w=31):
    """A photo whose pixel (r, c) is (8 r, 8 c, 255): a crop tells where it was cut."""
    r, c = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return np.stack([8 * r, 8 * c, np.full_like(r, 255)], axis=-1).astype(np.uint8)


def save(path, array, mode=None):
    Image.fromarray(array, mode=mode).save(path)
    return path


# -- photo folders -------------------------------------------------------------------------------------------
def test_load_photos_reads_images_of_a_folder_sorted_by_name(tmp_path):
    save(tmp_path / "b.png", photo(30, 40, 1))
    save(tmp_path / "a.PNG", photo(50, 28, 2))
    grey = np.random.default_rng(3).integers(0, 256, (29, 33), dtype=np.uint8)
    save(tmp_path / "c.png", grey)
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / "sub.png").mkdir()  # a folder, not a file
    photos = M.load_photos(tmp_path)
    assert len(photos) == 3 and all(p.dtype == np.uint8 for p in photos)
    np.testing.assert_array_equal(photos[0], photo(50, 28, 2))
    np.testing.assert_array_equal(photos[1], photo(30, 40, 1))
    np.testing.assert_array_equal(photos[2], np.repeat(grey[:, :, None], 3, axis=2))  # grey -> RGB
    save(tmp_path / "d.jpg", photo(32, 32, 4))
    assert [p.shape for p in M.load_photos(str(tmp_path))][-1] == (32, 32, 3)


def test_load_photos_errors_name_the_folder_or_file(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ValueError, match=f"photo folder {missing} does not exist"):
        M.load_photos(missing)
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match=f"photo folder {tmp_path} holds no .jpg / .jpeg / .png files"):
        M.load_photos(tmp_path)
    save(tmp_path / "small.png", photo(20, 40))
    with pytest.raises(ValueError, match=r"small.png: photo is 20 x 40, smaller than the 28 x 28 crop"):
        M.load_photos(tmp_path)
    (tmp_path / "small.png").unlink()
    (tmp_path / "broken.jpg").write_bytes(b"this is not a JPEG")
    with pytest.raises(ValueError, match=r"broken.jpg: cannot read it as an image"):
        M.load_photos(tmp_path)
    (tmp_path / "broken.jpg").unlink()
    good = save(tmp_path / "cut.png", photo(64, 64))
    good.write_bytes(good.read_bytes()[:200])  # a truncated file: the header is fine, the pixels are not
    with pytest.raises(ValueError, match=r"cut.png: cannot read it as an image"):
        M.load_photos(tmp_path)


def test_default_photos_without_scikit_learn_are_matplotlibs_grace_hopper(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # importing it now raises ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    paths = M.default_photo_paths()
    assert [p.name for p in paths] == ["grace_hopper.jpg"] and paths[0].is_file()
    (hopper,) = M.load_photos()
    assert hopper.shape == (600, 512, 3) and hopper.dtype == np.uint8 and hopper.std() > 20


def test_default_photos_with_scikit_learn_are_its_sample_images(tmp_path, monkeypatch):
    files = [save(tmp_path / "flower.jpg", photo(40, 30, 1)), save(tmp_path / "china.jpg", photo(30, 40, 2))]
    datasets = types.ModuleType("sklearn.datasets")
    datasets.load_sample_images = lambda: types.SimpleNamespace(filenames=[str(f) for f in files])
    monkeypatch.setitem(sys.modules, "sklearn", types.ModuleType("sklearn"))
    monkeypatch.setitem(sys.modules, "sklearn.datasets", datasets)
    assert [p.name for p in M.default_photo_paths()] == ["china.jpg", "flower.jpg"]
    assert [p.shape for p in M.load_photos()] == [(30, 40, 3), (40, 30, 3)]


# -- the blend -----------------------------------------------------------------------------------------------
def test_blend_is_the_absolute_difference_by_hand():
    colour = np.empty((28, 28, 3), np.uint8)
    colour[...] = (255, 0, 128)
    x = -np.ones((2, 1, 28, 28), np.float32)
    x[0, 0, 10:18, 12:14] = 1.0  # ink on digit 0; digit 1 is all background
    out = M.blend(x, [colour], np.random.default_rng(0))
    assert out.shape == (2, 3, 28, 28) and out.dtype == np.float32
    # ink (1 in [0, 1]): |255/255 - 1|, |0 - 1|, |128/255 - 1| -> -1, 1, 2 * 127/255 - 1
    np.testing.assert_allclose(out[0, :, 12, 12], [-1.0, 1.0, 2 * 127 / 255 - 1], atol=1e-6)
    # background (0): the photo itself, in [-1, 1]
    np.testing.assert_allclose(out[1, :, 0, 0], [1.0, -1.0, 2 * 128 / 255 - 1], atol=1e-6)
    np.testing.assert_allclose(out[0, :, 0, 0], out[1, :, 0, 0])


def test_blend_crops_come_from_the_documented_draws():
    photos = [position_photo(30, 31), position_photo(29, 28)]
    background = -np.ones((600, 1, 28, 28), np.float32)  # digit 0 everywhere: out is the crop itself
    crops = from_unit_range(M.blend(background, photos, np.random.default_rng(4)))
    g = np.random.default_rng(4)
    k = g.integers(0, 2, size=600)
    r = g.integers(0, np.array([30, 29])[k] - 27)
    c = g.integers(0, np.array([31, 28])[k] - 27)
    np.testing.assert_array_equal(crops[:, 0, 0, 0], 8 * r)  # the top-left pixel names the crop corner
    np.testing.assert_array_equal(crops[:, 1, 0, 0], 8 * c)
    for j, (h, w) in enumerate([(30, 31), (29, 28)]):
        corners = {(int(a), int(b)) for a, b in zip(r[k == j], c[k == j])}
        assert corners == {(a, b) for a in range(h - 27) for b in range(w - 27)}  # every crop that fits
        for i in np.flatnonzero(k == j)[:5]:
            np.testing.assert_array_equal(
                crops[i], photos[j][r[i] : r[i] + 28, c[i] : c[i] + 28].transpose(2, 0, 1)
            )
    np.testing.assert_array_equal(
        from_unit_range(M.blend(background, photos, np.random.default_rng(4))), crops
    )
    assert not np.array_equal(from_unit_range(M.blend(background, photos, np.random.default_rng(5))), crops)


def test_blend_rejects_bad_input():
    g = np.random.default_rng(0)
    x = np.zeros((2, 1, 28, 28), np.float32)
    with pytest.raises(ValueError, match=r"digits must have shape \(N, 1, h, w\), got \(2, 28, 28\)"):
        M.blend(x[:, 0], [photo(30, 30)], g)
    with pytest.raises(
        ValueError, match=r"photos\[1\] of shape \(27, 40, 3\) is smaller than the 28 x 28 crop"
    ):
        M.blend(x, [photo(30, 30), photo(27, 40)], g)
    with pytest.raises(ValueError, match=r"photos\[0\] must be uint8 \(H, W, 3\), got float64"):
        M.blend(x, [photo(30, 30) / 255.0], g)
    with pytest.raises(ValueError, match="no photos given"):
        M.blend(x, [], g)


# -- the domain pair -----------------------------------------------------------------------------------------
def unique_digits(n=21):
    """uint8 (n, 28, 28) images that are all different, labels (n,)."""
    images = np.random.default_rng(1).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(n)  # distinct even if the random parts collided
    return images, (np.arange(n) % 10).astype(np.int64)


def test_background_brightness_averages_the_image_where_the_digit_is_background():
    digits = -np.ones((2, 1, 4, 4), np.float32)
    digits[:, :, 1:3, 1:3] = 1.0  # a 2 x 2 stroke in the middle of each digit
    images = np.zeros((2, 3, 4, 4), np.float32)
    images[0] = 0.5  # background 0.5 everywhere behind digit 0
    images[1, :, 1:3, 1:3] = -1.0  # image 1: its stroke pixels do not count, its background is 0
    images[1, 0] += 0.3 * (digits[1, 0] < -0.8)  # red channel of the background 0.3
    np.testing.assert_allclose(M.background_brightness(digits, images), [0.5, 0.1], atol=1e-6)
    with pytest.raises(ValueError, match=r"digits \(2, 1, 4, 4\) and images \(1, 3, 4, 4\)"):
        M.background_brightness(digits, images[:1])


def test_domains_are_disjoint_halves_and_b_is_built_from_its_own_digits():
    images, labels = unique_digits(21)
    photos = [photo(40, 50, 1), photo(30, 30, 2)]
    u = M.UnpairedSampler(images, labels, photos, seed=3, split="test")
    assert len(u.a_index) == 10 and len(u.b_index) == 11 and len(u) == 21
    assert not set(u.a_index.tolist()) & set(u.b_index.tolist())
    assert sorted(u.a_index.tolist() + u.b_index.tolist()) == list(range(21))
    np.testing.assert_array_equal(u.a_images, images[u.a_index])
    np.testing.assert_array_equal(u.a_labels, labels[u.a_index])
    np.testing.assert_array_equal(u.b_labels, labels[u.b_index])
    assert u.b_images.shape == (11, 3, 28, 28) and u.b_images.dtype == np.uint8
    # the documented recipe: one seeded generator, the permutation, then the blend of B's digits
    g = np.random.default_rng(3)
    perm = g.permutation(21)
    np.testing.assert_array_equal(u.a_index, perm[:10])
    expected = M.blend(to_unit_range(images[perm[10:]]), photos, g)
    np.testing.assert_array_equal(u.b_images, from_unit_range(expected))
    np.testing.assert_allclose(to_unit_range(u.b_images), expected, atol=1e-6)  # uint8 storage is lossless
    v = M.UnpairedSampler(images, labels, photos, seed=4)
    assert not np.array_equal(v.a_index, u.a_index)
    assert (u.kind, u.name, u.split, u.a_channels, u.b_channels, u.image_size) == (
        "unpaired",
        "mnist2mnistm",
        "test",
        1,
        3,
        28,
    )
    assert repr(u) == "UnpairedSampler(name='mnist2mnistm', split='test', n_a=10, n_b=11, seed=3)"


def test_sample_draws_each_domain_independently_with_replacement():
    images, labels = unique_digits(21)
    u = M.UnpairedSampler(images, labels, [photo(40, 40)], seed=0)
    x_a, y_a, x_b, y_b = u.sample_labelled(200, np.random.default_rng(9))
    assert x_a.shape == (200, 1, 28, 28) and x_b.shape == (200, 3, 28, 28)
    assert x_a.dtype == x_b.dtype == np.float32 and y_a.dtype == y_b.dtype == np.int64
    assert x_a.min() >= -1 and x_a.max() <= 1 and x_b.min() >= -1 and x_b.max() <= 1
    g = np.random.default_rng(9)
    ia, ib = g.integers(0, 10, size=200), g.integers(0, 11, size=200)
    np.testing.assert_array_equal(from_unit_range(x_a)[:, 0], u.a_images[ia])
    np.testing.assert_array_equal(from_unit_range(x_b), u.b_images[ib])
    np.testing.assert_array_equal(y_a, u.a_labels[ia])
    np.testing.assert_array_equal(y_b, u.b_labels[ib])
    assert len(set(ia.tolist())) == 10 and len(set(ib.tolist())) == 11
    # domain A's samples are never one of B's digits
    b_digits = {images[i].tobytes() for i in u.b_index}
    assert not any(from_unit_range(x)[0].tobytes() in b_digits for x in x_a)
    a2, b2 = u.sample(200, np.random.default_rng(9))
    np.testing.assert_array_equal(a2, x_a)
    np.testing.assert_array_equal(b2, x_b)
    with pytest.raises(ValueError, match="n must be a positive integer, got -1"):
        u.sample(-1, g)


def test_unpaired_sampler_rejects_bad_input():
    images, labels = unique_digits(4)
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) do not match 4 images"):
        M.UnpairedSampler(images, labels[:3], [photo(30, 30)])
    with pytest.raises(ValueError, match="need at least 2 images"):
        M.UnpairedSampler(images[:1], labels[:1], [photo(30, 30)])
    with pytest.raises(ValueError, match=r"images must be uint8 \(N, H, W\)"):
        M.UnpairedSampler(images[:, None], labels, [photo(30, 30)])


@needs_real
def test_real_mnist_m_with_the_default_photos():
    images, labels = load_mnist("test", data_dir=REAL_DIR)
    u = M.UnpairedSampler(images[:400], labels[:400], seed=0, split="test")
    assert u.b_images.shape == (200, 3, 28, 28)
    assert not set(u.a_index.tolist()) & set(u.b_index.tolist())
    x_b = to_unit_range(u.b_images).astype(np.float64)
    digit = to_unit_range(images[u.b_index])
    # the stroke is where the colour flips: ink pixels differ from their photo pixels by a lot on average
    assert x_b.std() > 0.2 and np.unique(u.b_images.reshape(200, 3, -1)[:, :, 0], axis=0).shape[0] > 20
    assert (np.abs(x_b - digit) > 0.05).mean() > 0.5  # not the digit copied into three channels
