"""MNIST loading (minigan.data.mnist): the real test-set files, synthetic files, the md5-checked
downloader (file:// URLs and fake openers only: no network), cache folders and error messages.

The real files are looked up in ``$MINIGAN_MNIST_DIR`` if set, else ``../shared/data/mnist`` relative to the
repository root (where CI and the sandbox keep them); without them the tests that need them are skipped
with that reason (the synthetic-file tests still run).
"""

import gzip
import hashlib
import io
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from minigan.data import mnist as M
from minigan.data.idx import IDXError, write_idx

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_DIR = Path(os.environ.get("MINIGAN_MNIST_DIR", REPO_ROOT.parent / "shared" / "data" / "mnist"))
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
needs_real = pytest.mark.skipif(
    not all((REAL_DIR / f).is_file() for f in TEST_FILES),
    reason=f"real MNIST test files not found in {REAL_DIR} (set MINIGAN_MNIST_DIR)",
)
# class counts of the official MNIST test set
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def synthetic(directory, n=12, split="test", compress=False, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    (img_name, _), (lab_name, _) = M.DATASETS["mnist"].files[split]
    if not compress:
        img_name, lab_name = img_name[:-3], lab_name[:-3]
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / img_name, images, compress=compress)
    write_idx(directory / lab_name, labels, compress=compress)
    return images, labels


@needs_real
def test_real_test_set():
    images, labels = M.load_mnist("test", data_dir=REAL_DIR)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == TEST_COUNTS
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert abs(images.mean() / 255 - 0.1325) < 2e-3  # the well-known MNIST mean pixel value
    x = M.to_unit_range(images[:3])
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32 and x.min() == -1.0 and x.max() == 1.0


@needs_real
def test_train_split_absent_says_so_and_never_falls_back():
    with pytest.raises(M.DatasetNotFoundError) as err:
        M.load_mnist("train", data_dir=REAL_DIR)
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(REAL_DIR) in msg
    assert "--split test" in msg and "never swaps splits" in msg


@needs_real
def test_download_real_file_via_file_url(tmp_path, monkeypatch):
    """The real spec and md5s, with the mirror pointed at the shared folder through a file:// URL."""
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    spec = M.DATASETS["mnist"]
    monkeypatch.setitem(
        M.DATASETS,
        "mnist",
        M.DatasetSpec(
            "mnist", ("file:///nonexistent/", REAL_DIR.as_uri() + "/"), spec.files, sizes=spec.sizes
        ),
    )
    images, labels = M.load_mnist("test")
    assert images.shape == (10000, 28, 28)
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(TEST_FILES)


def test_synthetic_raw_files(tmp_path):
    images, labels = synthetic(tmp_path, compress=False)
    got_images, got_labels = M.load_mnist("test", data_dir=tmp_path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_gz_under_official_name_is_md5_checked(tmp_path):
    images, _ = synthetic(tmp_path, compress=True)
    with pytest.raises(M.ChecksumError, match="is not the published 9fb629c4189551a2d022fa330f9573f3"):
        M.load_mnist("test", data_dir=tmp_path)
    got, _ = M.load_mnist("test", data_dir=tmp_path, verify=False)
    np.testing.assert_array_equal(got, images)


def test_inconsistent_files(tmp_path):
    synthetic(tmp_path, n=12)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(11, np.uint8))
    with pytest.raises(IDXError, match="12 images but .* 11 labels"):
        M.load_mnist("test", data_dir=tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(12, 10, np.uint8))
    with pytest.raises(IDXError, match="label 10 out of range 0..9"):
        M.load_mnist("test", data_dir=tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((12, 28, 28), np.float32))
    with pytest.raises(IDXError, match="expected uint8"):
        M.load_mnist("test", data_dir=tmp_path)


def test_truncated_local_file_named(tmp_path):
    synthetic(tmp_path, n=12)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IDXError, match="t10k-images-idx3-ubyte: IDX payload truncated"):
        M.load_mnist("test", data_dir=tmp_path)


def test_user_dir_is_never_downloaded_into_by_default(tmp_path):
    def opener(url, timeout=None):
        raise AssertionError("must not download")

    with pytest.raises(M.DatasetNotFoundError, match="Pass download=True"):
        M.load_mnist("test", data_dir=tmp_path, opener=opener)


# -- the downloader ------------------------------------------------------------------------------------------
def fake_spec(monkeypatch, mirrors, payloads):
    files = {
        split: tuple((name, hashlib.md5(payloads[name]).hexdigest()) for name in names)
        for split, names in (("test", TEST_FILES),)
    }
    files["train"] = (("train-images-idx3-ubyte.gz", "0" * 32), ("train-labels-idx1-ubyte.gz", "0" * 32))
    monkeypatch.setitem(M.DATASETS, "mnist", M.DatasetSpec("mnist", tuple(mirrors), files))


def gz_payloads(n=5):
    images = np.random.default_rng(1).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    from minigan.data.idx import to_idx_bytes

    return {
        TEST_FILES[0]: gzip.compress(to_idx_bytes(images)),
        TEST_FILES[1]: gzip.compress(to_idx_bytes(np.arange(n, dtype=np.uint8))),
    }, images


def test_download_into_cache_via_file_url_with_failover(tmp_path, monkeypatch):
    payloads, images = gz_payloads()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, data in payloads.items():
        (mirror / name).write_bytes(data)
    fake_spec(monkeypatch, ["file:///definitely/missing/", mirror.as_uri() + "/"], payloads)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    got, labels = M.load_mnist("test")
    np.testing.assert_array_equal(got, images)
    assert labels.tolist() == [0, 1, 2, 3, 4]
    assert not list((tmp_path / "cache" / "mnist").glob("*.part"))
    # second load: from the cache, no opener call
    M.load_mnist("test", opener=lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-downloaded")))


def test_md5_mismatch_keeps_nothing(tmp_path, monkeypatch):
    payloads, _ = gz_payloads()
    fake_spec(monkeypatch, ["https://example.invalid/"], payloads)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))

    def opener(url, timeout=None):  # a mirror that serves altered bytes
        return io.BytesIO(payloads[url.rsplit("/", 1)[1]] + b"junk")

    with pytest.raises(M.DatasetNotFoundError) as err:
        M.load_mnist("test", opener=opener)
    assert "does not match the published" in str(err.value)
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []


def test_offline_message_names_files_and_folder(tmp_path, monkeypatch):
    payloads, _ = gz_payloads()
    fake_spec(monkeypatch, ["https://a.invalid/", "https://b.invalid/"], payloads)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))

    def opener(url, timeout=None):
        raise urllib.error.URLError("no network")

    with pytest.raises(M.DatasetNotFoundError) as err:
        M.load_mnist("test", opener=opener)
    msg = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and str(tmp_path / "cache" / "mnist") in msg
    assert "https://a.invalid/" in msg and "https://b.invalid/" in msg and "offline" in msg


def test_download_function_md5(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"hello")
    dest = M.download(src.as_uri(), tmp_path / "out" / "f.bin", hashlib.md5(b"hello").hexdigest())
    assert dest.read_bytes() == b"hello"
    with pytest.raises(M.ChecksumError, match="does not match"):
        M.download(src.as_uri(), tmp_path / "out" / "g.bin", "0" * 32)
    assert not (tmp_path / "out" / "g.bin").exists() and not (tmp_path / "out" / "g.bin.part").exists()


def test_cache_locations(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "d"))
    assert M.data_root() == tmp_path / "d"
    monkeypatch.delenv("MINIGAN_DATA")
    monkeypatch.setattr(M.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert M.data_root() == tmp_path / "xdg" / "minigan"


def test_argument_errors():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        M.load_mnist("val")
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        M.load_mnist("test", dataset="cifar")
    assert M.get_spec("Fashion_MNIST").name == "fashion-mnist"


def test_unit_range_round_trip_and_split_off():
    images = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    np.testing.assert_array_equal(M.from_unit_range(M.to_unit_range(images))[:, 0], images)
    ds = M.MNIST.from_arrays(np.zeros((10, 28, 28), np.uint8), np.arange(10))
    rest, hold = ds.split_off(3, seed=5)
    assert len(rest) == 7 and len(hold) == 3
    assert sorted(rest.labels.tolist() + hold.labels.tolist()) == list(range(10))
    assert ds.split_off(3, seed=5)[1].labels.tolist() == hold.labels.tolist()
