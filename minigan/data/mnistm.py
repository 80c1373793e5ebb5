"""MNIST-M, MNIST digits blended into colour photos (Ganin & Lempitsky, 2015), and the unpaired domain pair
``mnist2mnistm``, for unpaired translation (CycleGAN).

Each digit is blended with a random 28 x 28 crop of a colour photo by the absolute difference

    out = | crop - digit |        per channel, crop and digit in [0, 1], the digit broadcast over R, G, B

so the stroke shows the photo's colours inverted and the background shows the photo itself. Ganin &
Lempitsky cut their crops from the BSDS500 photos; minigan downloads nothing and uses photos that ship
inside installed packages (``load_photos``), or any folder of photos given, so its "MNIST-M" has the
construction of the original but not its photos.

The default photos, and where their licences are stated:

- scikit-learn's ``sklearn.datasets.load_sample_images()``, when scikit-learn is importable: ``china.jpg``
  and ``flower.jpg`` (427 x 640). scikit-learn's ``sklearn/datasets/images/README.txt`` says both were
  "Released under a creative commons license", https://creativecommons.org/licenses/by/2.0/ (CC BY 2.0),
  retrieved from Flickr by Robert Layton in 2011: china.jpg by danielbuechele
  (https://www.flickr.com/photos/danielbuechele/6061409035/), flower.jpg from
  https://www.flickr.com/photos/vultilion/6056698931/ (the README credits it to danielbuechele too, but
  links vultilion's photostream). CC BY asks that whoever shows images made from them credits the authors.
- otherwise matplotlib's sample photo ``grace_hopper.jpg`` (600 x 512, mpl-data/sample_data), a portrait
  of Commodore Grace M. Hopper in uniform: a U.S. Navy photograph, so a work of the U.S. federal
  government and in the public domain. The file's own JPEG comment names its source,
  http://commons.wikimedia.org/wiki/File:Grace_Hopper.jpg, and the matplotlib pull request that added it
  (matplotlib/matplotlib#1599) calls it a public-domain image; matplotlib's sample_data README says
  nothing about it.

Which of the two sets is used depends on whether scikit-learn is installed, and domain B changes with it:
``default_photo_paths()`` names the files, so a run can record them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .mnist import check_digits, from_unit_range, to_unit_range

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
CROP = 28  # the side of an MNIST digit, so of every crop
BUILD_CHUNK = 4096  # digits blended per call when UnpairedSampler builds domain B


def _read_photo(path: Path) -> np.ndarray:
    """One photo file as uint8 (H, W, 3); ValueError naming the file if it cannot be read or is too small."""
    from PIL import Image  # Pillow comes with matplotlib; imported here so importing minigan stays light

    try:
        with Image.open(path) as im:
            photo = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as err:  # UnidentifiedImageError is an OSError
        raise ValueError(f"{path}: cannot read it as an image ({err})") from None
    if photo.shape[0] < CROP or photo.shape[1] < CROP:
        raise ValueError(
            f"{path}: photo is {photo.shape[0]} x {photo.shape[1]}, smaller than the {CROP} x {CROP} crop"
        )
    return photo


def default_photo_paths() -> list[Path]:
    """The files ``load_photos()`` reads: scikit-learn's china.jpg and flower.jpg when scikit-learn is
    importable, else matplotlib's grace_hopper.jpg (see the module docstring for their licences)."""
    try:
        from sklearn.datasets import load_sample_images
    except ImportError:
        from matplotlib import cbook

        return [Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))]
    return sorted(Path(p) for p in load_sample_images().filenames)


def load_photos(folder=None) -> list[np.ndarray]:
    """Colour photos to crop MNIST-M backgrounds from: a list of uint8 (H, W, 3) arrays, H, W >= 28.

    ``folder`` given: every .jpg / .jpeg / .png file in it (not in sub-folders; suffixes in any case),
    sorted by name, converted to RGB. ValueError with the folder or file named when the folder does not
    exist or holds no such file, or a file cannot be decoded or is smaller than 28 x 28.
    ``folder=None``: the photos of ``default_photo_paths()``, which ship inside installed packages;
    nothing is downloaded.
    """
    if folder is None:
        return [_read_photo(p) for p in default_photo_paths()]
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ValueError(f"photo folder {folder} does not exist (or is not a folder)")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
    if not paths:
        raise ValueError(f"photo folder {folder} holds no {' / '.join(PHOTO_SUFFIXES)} files")
    return [_read_photo(p) for p in paths]


def _check_photos(photos, h: int, w: int) -> list[np.ndarray]:
    if len(photos) == 0:
        raise ValueError("blend: no photos given")
    out = []
    for i, p in enumerate(photos):
        p = np.asarray(p)
        if p.dtype != np.uint8 or p.ndim != 3 or p.shape[2] != 3:
            raise ValueError(f"blend: photos[{i}] must be uint8 (H, W, 3), got {p.dtype} of shape {p.shape}")
        if p.shape[0] < h or p.shape[1] < w:
            raise ValueError(f"blend: photos[{i}] of shape {p.shape} is smaller than the {h} x {w} crop")
        out.append(p)
    return out


def blend(digits, photos, generator) -> np.ndarray:
    """MNIST-M images: digits float (N, 1, h, w) in [-1, 1] -> float32 (N, 3, h, w) in [-1, 1].

    For digit i, photo ``k[i]`` and the top-left corner (``r[i]``, ``c[i]``) of its h x w crop come from
    three calls, in this order: ``k = generator.integers(0, len(photos), size=N)``, then
    ``r = generator.integers(0, H[k] - h + 1)`` and ``c = generator.integers(0, W[k] - w + 1)`` with the
    heights and widths of the chosen photos (uniform over photos, and over the crops that fit). Then
    ``out = 2 | crop / 255 - (digit + 1) / 2 | - 1`` per channel.
    """
    digits = np.asarray(digits)
    if digits.ndim != 4 or digits.shape[1] != 1:
        raise ValueError(f"blend: digits must have shape (N, 1, h, w), got {digits.shape}")
    n, _, h, w = digits.shape
    photos = _check_photos(photos, h, w)
    k = generator.integers(0, len(photos), size=n)
    sizes = np.array([p.shape[:2] for p in photos])
    r = generator.integers(0, sizes[k, 0] - h + 1)
    c = generator.integers(0, sizes[k, 1] - w + 1)
    crops = np.empty((n, 3, h, w), np.float32)
    for j, photo in enumerate(photos):
        mine = np.flatnonzero(k == j)
        if mine.size:
            # a strided view of every h x w window of the photo: indexing it picks the crops without copying
            windows = np.lib.stride_tricks.sliding_window_view(photo, (h, w), axis=(0, 1))
            crops[mine] = windows[r[mine], c[mine]]  # (m, 3, h, w)
    u = (digits.astype(np.float32) + np.float32(1.0)) * np.float32(0.5)
    return np.abs(crops * np.float32(1.0 / 255.0) - u) * np.float32(2.0) - np.float32(1.0)


def background_brightness(digits, images, threshold: float = -0.8) -> np.ndarray:
    """(N,) float64: the mean of ``images`` (N, C, h, w) in [-1, 1] over the pixels where ``digits``
    (N, 1 or C, h, w) in [-1, 1] are background (below ``threshold`` in their first channel): for an
    MNIST-M image, the brightness of the photo crop behind its digit; for a translation of an MNIST digit
    into MNIST-M, the background the generator painted. Chapter 13 compares the two spreads."""
    digits, images = np.asarray(digits), np.asarray(images)
    if digits.ndim != 4 or images.ndim != 4 or digits.shape[0] != images.shape[0]:
        raise ValueError(f"background_brightness: digits {digits.shape} and images {images.shape} must be "
                         "(N, C, h, w) with the same N")  # fmt: skip
    bg = (digits[:, :1] < threshold).astype(np.float64)  # (N, 1, h, w), broadcast over the channels
    count = np.maximum(bg.sum(axis=(1, 2, 3)) * images.shape[1], 1.0)
    return (images * bg).sum(axis=(1, 2, 3)) / count


class UnpairedSampler:
    """The unpaired domain pair ``mnist2mnistm``: domain A = MNIST digits, domain B = MNIST-M.

    ``images`` uint8 (N, 28, 28) and ``labels`` (N,) are split by ``default_rng(seed).permutation(N)``: its
    first N // 2 indices are domain A, the rest domain B, so no digit is in both and no (A, B) pair of the
    same digit exists to learn from. Domain B is built once, here: ``blend`` of its digits (in the order of
    ``b_index``, ``BUILD_CHUNK`` = 4096 digits per call) with ``photos`` (default ``load_photos()``),
    drawing from the same seeded generator after the permutation, and kept as uint8 (lossless: |a - b| / 255
    of uint8 values is a multiple of 1 / 255).

    ``sample(n, generator)`` draws n indices uniformly with replacement in A, then n in B (independently),
    and returns float32 (x_A (n, 1, 28, 28), x_B (n, 3, 28, 28)) in [-1, 1]; the sampler itself holds no
    random state. ``sample_labelled`` adds the labels: (x_A, y_A, x_B, y_B).

    Attributes: ``a_images`` uint8 (N_A, 28, 28), ``a_labels``, ``a_index`` (their indices in ``images``),
    ``b_images`` uint8 (N_B, 3, 28, 28), ``b_labels``, ``b_index``; ``to_unit_range`` turns either into
    float32 (n, C, 28, 28). Also ``name``, ``split``, ``seed``, ``a_channels`` = 1, ``b_channels`` = 3,
    ``image_size`` and ``kind``. ``len()`` is N, the digits shared out between the domains.
    """

    kind = "unpaired"

    def __init__(
        self, images, labels, photos=None, seed: int = 0, split: str = "custom", name="mnist2mnistm"
    ):
        images, labels = check_digits(images, labels, "UnpairedSampler", at_least=2)  # one per domain
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(images))
        half = len(images) // 2
        self.a_index, self.b_index = perm[:half], perm[half:]
        photos = load_photos() if photos is None else photos
        self.a_images, self.a_labels = images[self.a_index], labels[self.a_index].astype(np.int64)
        # in chunks, so building domain B of the 60 000-image train split never holds it all as float32
        self.b_images = np.concatenate(
            [
                from_unit_range(blend(to_unit_range(images[self.b_index[i : i + BUILD_CHUNK]]), photos, rng))
                for i in range(0, len(self.b_index), BUILD_CHUNK)
            ]
        )
        self.b_labels = labels[self.b_index].astype(np.int64)
        self.seed, self.split, self.name = seed, split, name
        self.a_channels, self.b_channels, self.image_size = 1, 3, images.shape[1]

    @classmethod
    def from_mnist(cls, mnist, photos=None, seed: int = 0, name="mnist2mnistm") -> UnpairedSampler:
        """The domain pair of an ``MNIST`` split (its images, labels and split name)."""
        return cls(mnist.images, mnist.labels, photos, seed=seed, split=mnist.split, name=name)

    def __len__(self) -> int:
        return len(self.a_images) + len(self.b_images)

    def __repr__(self):
        return (
            f"UnpairedSampler(name={self.name!r}, split={self.split!r}, n_a={len(self.a_images)}, "
            f"n_b={len(self.b_images)}, seed={self.seed})"
        )

    def sample_labelled(self, n: int, generator):
        """(x_A float32 (n, 1, 28, 28), y_A int64 (n,), x_B float32 (n, 3, 28, 28), y_B int64 (n,))."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"UnpairedSampler.sample: n must be a positive integer, got {n!r}")
        ia = generator.integers(0, len(self.a_images), size=n)
        ib = generator.integers(0, len(self.b_images), size=n)
        return (
            to_unit_range(self.a_images[ia]),
            self.a_labels[ia],
            to_unit_range(self.b_images[ib]),
            self.b_labels[ib],
        )

    def sample(self, n: int, generator) -> tuple[np.ndarray, np.ndarray]:
        """(x_A (n, 1, 28, 28), x_B (n, 3, 28, 28)), float32 in [-1, 1]; same draws as ``sample_labelled``."""
        x_a, _, x_b, _ = self.sample_labelled(n, generator)
        return x_a, x_b
