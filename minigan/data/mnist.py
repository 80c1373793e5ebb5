"""MNIST and Fashion-MNIST: find, download (md5-checked), cache and load. Chapter 08 (DCGAN on MNIST).

Where the files come from, in order:

1. ``data_dir`` when given (``--data-dir`` on the command line): the four (or two) IDX files, gzipped or
   not, under their usual names. Nothing is downloaded into it unless ``download=True`` is passed.
2. Otherwise the cache ``$MINIGAN_DATA/<dataset>/`` when ``MINIGAN_DATA`` is set, else the user cache
   directory (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
   ``%LOCALAPPDATA%`` on Windows) ``/minigan/<dataset>/``. Missing files are downloaded there from the
   mirrors in turn, written to a temporary name, and kept only if their md5 matches the published one.

Offline, the error names the missing files, the mirrors tried and the directory to put them in.

The split is always explicit: ``split="train"`` (60 000 images) or ``split="test"`` (10 000). When only
the test set is present (as in the folder of MNIST test files that ``MINIGAN_MNIST_DIR`` names for the
tests and chapters 08-09), asking for the train split is an error that says so; the loader never falls
back to the other split on its own, because a model trained on the test set must not be evaluated on it
without the reader knowing.

Gzipped files under the official names are checked against the published md5 on every load, so a corrupt
cache is caught; every file is also validated as IDX (``idx.py``): magic number, dimensions, length, and
that images and labels agree in count and range.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .idx import IDXError, read_idx


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset lives online and what its files are: split -> ((images, md5), (labels, md5))."""

    name: str
    mirrors: tuple
    files: dict = field(default_factory=dict)
    image_shape: tuple = (28, 28)
    n_classes: int = 10
    sizes: dict = field(default_factory=dict)


DATASETS = {
    "mnist": DatasetSpec(
        name="mnist",
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        files={
            "train": (
                ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
            ),
            "test": (
                ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
            ),
        },
        sizes={"train": 60000, "test": 10000},
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        files={
            "train": (
                ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
            ),
            "test": (
                ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
            ),
        },
        sizes={"train": 60000, "test": 10000},
    ),
}
SPLITS = ("train", "test")


class DatasetNotFoundError(FileNotFoundError):
    """A split's files are neither on disk nor downloadable; the message says where to put them."""


class ChecksumError(IOError):
    """A file's md5 is not the published one (a truncated or altered download)."""


# -- where ---------------------------------------------------------------------------------------------------
def user_cache_dir() -> Path:
    """The per-user cache folder for minigan (not created)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minigan"


def data_root() -> Path:
    """``$MINIGAN_DATA`` if set, else ``user_cache_dir()``: the folder holding one sub-folder per dataset."""
    env = os.environ.get("MINIGAN_DATA")
    return Path(env).expanduser() if env else user_cache_dir()


def get_spec(dataset: str) -> DatasetSpec:
    key = dataset.lower().replace("_", "-")
    if key == "fashion":
        key = "fashion-mnist"
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}: expected one of {', '.join(DATASETS)}")
    return DATASETS[key]


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


def find_file(directory: Path, gz_name: str) -> Path | None:
    """``directory/gz_name``, or the same name without ``.gz`` (an unpacked copy); None if neither exists."""
    for candidate in (directory / gz_name, directory / gz_name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


# -- download ------------------------------------------------------------------------------------------------
def md5_of(path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dest, md5: str | None = None, opener=None, timeout: float = 30.0) -> Path:
    """Fetch ``url`` to ``dest``, keeping it only if its md5 equals ``md5`` (when given).

    The bytes go to ``dest + '.part'`` first and are renamed into place after the check, so an
    interrupted or corrupt download never looks like a good file. ``opener(url, timeout=...)`` defaults
    to ``urllib.request.urlopen``; tests pass their own (or a ``file://`` URL) so no network is touched.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    opener = opener or urllib.request.urlopen
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with opener(url, timeout=timeout) as response, open(tmp, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if md5 is not None and digest.hexdigest() != md5:
            raise ChecksumError(
                f"{url}: md5 {digest.hexdigest()} does not match the published {md5} "
                "(truncated download, or the mirror serves something else); nothing was kept"
            )
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def fetch(spec: DatasetSpec, gz_name: str, md5: str, directory: Path, opener=None) -> Path:
    """Download one file of ``spec`` into ``directory``, trying each mirror in turn.

    Raises DatasetNotFoundError, listing every mirror's error, when all of them fail.
    """
    errors = []
    for mirror in spec.mirrors:
        try:
            return download(mirror + gz_name, directory / gz_name, md5, opener=opener)
        except (OSError, ValueError) as err:  # URLError, HTTPError, timeouts and ChecksumError are OSErrors
            errors.append(f"  {mirror + gz_name}: {err}")
    raise DatasetNotFoundError(
        f"could not download {gz_name} for {spec.name}; tried:\n" + "\n".join(errors) + "\n"
        f"If this machine is offline, copy {gz_name} (md5 {md5}) into {directory} "
        "(or point MINIGAN_DATA / data_dir / --data-dir at a folder holding it)."
    )


# -- load ----------------------------------------------------------------------------------------------------
def _missing_message(spec, split, directory, missing, from_user_dir: bool) -> str:
    names = ", ".join(missing)
    msg = f"{spec.name} {split} split: {names} not found in {directory}."
    other = "test" if split == "train" else "train"
    if all(find_file(directory, n) is not None for n, _ in spec.files[other]):
        flag = "--split " + other
        msg += (
            f" The {other} split IS there: pass split={other!r} ({flag} on the command line) to use it "
            "explicitly; minigan never swaps splits on its own."
        )
    if from_user_dir:
        msg += " Pass download=True to fetch the files into this folder, or copy them there."
    return msg


def resolve_split_files(
    split: str = "train", data_dir=None, dataset: str = "mnist", download: bool | None = None, opener=None
) -> tuple[Path, Path]:
    """Paths of (images, labels) for ``split``, downloading into the cache when needed and allowed.

    ``download=None`` means: download into the cache when ``data_dir`` is None, never into a
    user-given ``data_dir``. Raises DatasetNotFoundError with a message that says what to do.
    """
    spec, split = get_spec(dataset), _check_split(split)
    from_user_dir = data_dir is not None
    directory = Path(data_dir).expanduser() if from_user_dir else data_root() / spec.name
    if download is None:
        download = not from_user_dir
    wanted = spec.files[split]
    paths = [find_file(directory, name) for name, _ in wanted]
    missing = [name for (name, _), p in zip(wanted, paths) if p is None]
    if missing and not download:
        raise DatasetNotFoundError(_missing_message(spec, split, directory, missing, from_user_dir))
    for i, (name, md5) in enumerate(wanted):
        if paths[i] is None:
            paths[i] = fetch(spec, name, md5, directory, opener=opener)
    return paths[0], paths[1]


def load_mnist(
    split: str = "train",
    data_dir=None,
    dataset: str = "mnist",
    download: bool | None = None,
    verify: bool = True,
    opener=None,
) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of one split: uint8 ``(N, 28, 28)`` and int64 ``(N,)`` in 0..9.

    ``dataset`` is ``"mnist"`` or ``"fashion-mnist"``. With ``verify`` (default) a gzipped file under
    its official name must have the published md5 (ChecksumError otherwise); raw (unpacked) files are
    checked as IDX only.
    """
    spec = get_spec(dataset)
    image_path, label_path = resolve_split_files(split, data_dir, dataset, download, opener)
    for path, (name, md5) in zip((image_path, label_path), spec.files[split]):
        if verify and path.name == name and md5_of(path) != md5:
            raise ChecksumError(
                f"{path}: md5 {md5_of(path)} is not the published {md5} for {spec.name} {name}; "
                "the file is corrupt or a different dataset: delete it and download it again"
            )
    images = read_idx(image_path, expect_shape=(None, *spec.image_shape))
    labels = read_idx(label_path, expect_shape=(None,))
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise IDXError(
            f"{image_path}, {label_path}: expected uint8 images and labels, "
            f"got {images.dtype}, {labels.dtype}"
        )
    if len(images) != len(labels):
        raise IDXError(f"{image_path} holds {len(images)} images but {label_path} holds {len(labels)} labels")
    if labels.size and int(labels.max()) >= spec.n_classes:
        raise IDXError(f"{label_path}: label {int(labels.max())} out of range 0..{spec.n_classes - 1}")
    return images, labels.astype(np.int64)


def check_digits(images, labels, who: str, at_least: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) as arrays after checking them: uint8 (N, H, W) digits, one label each, at least
    ``at_least`` of them; ValueError naming ``who`` and what is wrong otherwise."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{who}: images must be uint8 (N, H, W), got {images.dtype} of shape {images.shape}")
    if labels.shape != (len(images),):
        raise ValueError(f"{who}: labels of shape {labels.shape} do not match {len(images)} images")
    if len(images) < at_least:
        raise ValueError(f"{who}: need at least {at_least} images, got {len(images)}")
    return images, labels


def to_unit_range(images: np.ndarray, dtype=np.float32) -> np.ndarray:
    """uint8 ``(N, H, W)`` -> float ``(N, 1, H, W)`` in [-1, 1] (the range of the generator's tanh)."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    return images.astype(dtype) * dtype(2.0 / 255.0) - dtype(1.0)


def from_unit_range(x) -> np.ndarray:
    """float images in [-1, 1] -> uint8 in 0..255 (clipped), the inverse of ``to_unit_range``."""
    return np.clip(np.rint((np.asarray(x, dtype=np.float64) + 1.0) * 127.5), 0, 255).astype(np.uint8)


class MNIST:
    """One split of MNIST / Fashion-MNIST in memory.

    ``images`` uint8 ``(N, 28, 28)``, ``labels`` int64 ``(N,)``; ``float_images()`` gives ``(N, 1, 28, 28)``
    float32 in [-1, 1]. ``subset(idx)`` and ``split_off(n_holdout, seed)`` carve out a held-out part (the
    classifier of chapter 09 trains on 8 000 test images and measures on the other 2 000).
    """

    def __init__(
        self, split="train", data_dir=None, dataset="mnist", download=None, verify=True, opener=None
    ):
        self.split, self.dataset = split, get_spec(dataset).name
        self.images, self.labels = load_mnist(split, data_dir, dataset, download, verify, opener)

    @classmethod
    def from_arrays(cls, images, labels, split="custom", dataset="mnist") -> MNIST:
        obj = cls.__new__(cls)
        obj.split, obj.dataset = split, dataset
        obj.images, obj.labels = np.asarray(images), np.asarray(labels, dtype=np.int64)
        return obj

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self):
        return f"MNIST(dataset={self.dataset!r}, split={self.split!r}, n={len(self)})"

    def float_images(self, dtype=np.float32) -> np.ndarray:
        return to_unit_range(self.images, dtype)

    def subset(self, idx) -> MNIST:
        return MNIST.from_arrays(self.images[idx], self.labels[idx], self.split, self.dataset)

    def split_off(self, n_holdout: int, seed: int = 0) -> tuple[MNIST, MNIST]:
        """(rest, holdout): a seeded random partition with ``n_holdout`` images held out."""
        if not 0 < n_holdout < len(self):
            raise ValueError(f"n_holdout must be in 1..{len(self) - 1}, got {n_holdout}")
        perm = np.random.default_rng(seed).permutation(len(self))
        return self.subset(np.sort(perm[n_holdout:])), self.subset(np.sort(perm[:n_holdout]))
