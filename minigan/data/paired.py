"""Paired image-to-image tasks built from MNIST digits, and their no-learning baselines. Chapter 12 (paired
translation).

Each task turns a digit (the target) into an input that a generator learns to map back to the digit:

    task       input                                              baseline to beat
    "edges"    ``edges(x)``: the digit's outline, (N, 1, 28, 28)  the edge map itself
    "sr4"      ``downsample(x, 4)``: 4 x 4 means, (N, 1, 7, 7)    ``bicubic_upsample(input, 4)``
    "inpaint"  ``inpaint_input(x, generator)``: the digit with    ``mean_fill(input[:, :1], input[:, 1:])``
               a 14 x 14 hole plus the hole's mask, (N, 2, 28, 28)

Every input construction is one public function, deterministic given its arguments (and, for the holes,
the state of the NumPy Generator passed in), so anyone can rebuild exactly the inputs a model saw.
Images are float32 (N, C, H, W) in [-1, 1], as everywhere in minigan; ``PairedSampler`` holds the uint8
digits and draws (input, target) batches from them.
"""

from __future__ import annotations

import numpy as np

from .mnist import check_digits, to_unit_range

TASKS = ("edges", "sr4", "inpaint")
CUBIC_A = -0.75  # Keys' free parameter as PyTorch (and OpenCV) use it; Keys himself recommends -0.5


def _as_images(x, name: str, channels: int | None = None) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{name}: expected images of shape (N, C, H, W), got shape {x.shape}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name}: expected {channels} channel(s), got shape {x.shape}")
    return x.astype(np.float32, copy=False)


def _check_unit_range(x: np.ndarray, name: str) -> None:
    # a [0, 255] or otherwise scaled image would threshold or fill silently wrong
    if x.size and (float(x.min()) < -1.0 - 1e-5 or float(x.max()) > 1.0 + 1e-5):
        raise ValueError(f"{name}: values must lie in [-1, 1], got [{float(x.min()):g}, {float(x.max()):g}]")


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# -- edges ---------------------------------------------------------------------------------------------------
def _extreme3x3(u: np.ndarray, reduce) -> np.ndarray:
    # a 3 x 3 square is the product of a 1 x 3 and a 3 x 1 segment, so max (min) filters separate
    p = np.pad(u, ((0, 0), (0, 0), (1, 1), (0, 0)), mode="edge")
    u = reduce(reduce(p[:, :, :-2], p[:, :, 1:-1]), p[:, :, 2:])
    p = np.pad(u, ((0, 0), (0, 0), (0, 0), (1, 1)), mode="edge")
    return reduce(reduce(p[..., :-2], p[..., 1:-1]), p[..., 2:])


def edges(x) -> np.ndarray:
    """The edge map of each image: float32 (N, C, H, W) in [-1, 1] -> float32 {-1, 1}, same shape.

    The construction is a thresholded morphological gradient, channel by channel:

        u    = (x + 1) / 2                                  (the image in [0, 1])
        g    = dilate3x3(u) - erode3x3(u)                   (max minus min over each 3 x 3 neighbourhood)
        edge = 1 where g > 0.5, else -1

    with the image's border pixels replicated outward for the 3 x 3 neighbourhoods of the outermost pixels
    (so the frame of the image is never an edge, and a constant image has none).

    What it gives on MNIST: the pixels that have both ink and background within one pixel of them, that
    is, the stroke grown by one pixel on either side, hollow only where the stroke is thick enough to have
    a core whose whole 3 x 3 neighbourhood is ink (MNIST strokes are two to four pixels wide). The input
    keeps the digit's shape and loses its stroke width and grey levels, which the generator has to put
    back. Why this rather than a thresholded Sobel magnitude: it has no constant but the threshold, and
    0.5 has a meaning ("more than half the full contrast within one pixel"); the Sobel magnitude of a
    step edge is 4 across a straight edge and 3 sqrt(2) across a diagonal one, so its threshold is a
    tuned number, and on strokes this thin it marks much the same band.

    No-learning baseline for the "edges" task: the edge map itself (it already is an image in [-1, 1]).
    """
    x = _as_images(x, "edges")
    _check_unit_range(x, "edges")
    u = (x + np.float32(1.0)) * np.float32(0.5)
    g = _extreme3x3(u, np.maximum) - _extreme3x3(u, np.minimum)
    return np.where(g > 0.5, np.float32(1.0), np.float32(-1.0))


# -- super-resolution ----------------------------------------------------------------------------------------
def downsample(x, factor: int = 4) -> np.ndarray:
    """Average pooling: float (N, C, H, W) -> float32 (N, C, H / factor, W / factor).

    Each output pixel is the mean of a non-overlapping ``factor`` x ``factor`` block (28 -> 7 for the
    "sr4" task). ValueError when H or W is not divisible by ``factor``.
    """
    x = _as_images(x, "downsample")
    f = _positive_int(factor, "downsample: factor")
    n, c, h, w = x.shape
    if h % f or w % f:
        raise ValueError(f"downsample: image size {h} x {w} is not divisible by factor {f}")
    return x.reshape(n, c, h // f, f, w // f, f).mean(axis=(3, 5), dtype=np.float64).astype(np.float32)


def _cubic_weights(t: np.ndarray, a: float = CUBIC_A) -> np.ndarray:
    """Keys' cubic convolution weights of the taps at offsets -1, 0, 1, 2 from floor(s), t = s - floor(s)."""
    d = np.stack([t + 1.0, t, 1.0 - t, 2.0 - t], axis=-1)  # distances of the taps, in [0, 2]
    near = ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0  # |d| <= 1
    far = ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a  # 1 < |d| < 2
    return np.where(d <= 1.0, near, far)


def cubic_matrix(n_in: int, factor: int) -> np.ndarray:
    """The (n_in * factor, n_in) matrix of 1-D bicubic upsampling, float64; rows sum to 1.

    Output pixel j samples the input at s = (j + 0.5) / factor - 0.5 (pixel centres aligned, PyTorch's
    ``align_corners=False``; s is not clamped at 0, as PyTorch does not clamp it for cubic), from the four
    pixels floor(s) - 1 .. floor(s) + 2 with ``_cubic_weights``; indices beyond the image are replaced by the
    nearest border pixel (replication), so their weight goes to it.
    """
    j = np.arange(n_in * factor, dtype=np.float64)
    s = (j + 0.5) / factor - 0.5
    base = np.floor(s)
    weights = _cubic_weights(s - base)
    taps = np.clip(base[:, None].astype(np.int64) + np.arange(-1, 3), 0, n_in - 1)
    m = np.zeros((n_in * factor, n_in))
    np.add.at(m, (np.repeat(np.arange(n_in * factor), 4), taps.ravel()), weights.ravel())
    return m


def bicubic_upsample(x, factor: int = 4) -> np.ndarray:
    """Bicubic upsampling, the "sr4" baseline: float (N, C, H, W) -> float32 (N, C, H * f, W * f) in [-1, 1].

    Keys' cubic convolution with a = -0.75, separable (rows, then columns), pixel centres aligned and border
    pixels replicated: the same numbers as PyTorch's ``F.interpolate(x, scale_factor=f, mode="bicubic",
    align_corners=False)`` (see ``cubic_matrix``), then clipped to [-1, 1], because the cubic's negative
    lobes overshoot at sharp edges and a generator's tanh cannot leave that range either.
    """
    x = _as_images(x, "bicubic_upsample")
    f = _positive_int(factor, "bicubic_upsample: factor")
    rows, cols = cubic_matrix(x.shape[2], f), cubic_matrix(x.shape[3], f)
    y = np.einsum("ih,nchw,jw->ncij", rows, x.astype(np.float64), cols, optimize=True)
    return np.clip(y, -1.0, 1.0).astype(np.float32)


# -- inpainting ----------------------------------------------------------------------------------------------
def hole_masks(n: int, height: int, width: int, generator, hole: int = 14) -> np.ndarray:
    """``n`` square holes: bool (n, 1, height, width), True inside the ``hole`` x ``hole`` square.

    The top-left corners (row, column) come from ONE call,
    ``generator.integers(0, (height - hole + 1, width - hole + 1), size=(n, 2))``: uniform over all the
    positions where the square fits inside the image. ValueError when it does not fit at all.
    """
    hole = _positive_int(hole, "hole_masks: hole")
    if hole > height or hole > width:
        raise ValueError(f"hole_masks: a {hole} x {hole} hole does not fit in a {height} x {width} image")
    corners = generator.integers(0, (height - hole + 1, width - hole + 1), size=(n, 2))
    r, c = corners[:, 0, None], corners[:, 1, None]
    in_rows = (np.arange(height) >= r) & (np.arange(height) < r + hole)  # (n, height)
    in_cols = (np.arange(width) >= c) & (np.arange(width) < c + hole)  # (n, width)
    return (in_rows[:, :, None] & in_cols[:, None, :])[:, None]


def apply_hole(x, mask) -> np.ndarray:
    """The inpainting input: digits float (N, 1, H, W) in [-1, 1] and bool mask (N, 1, H, W) -> float32
    (N, 2, H, W).

    Channel 0 is the digit with the masked pixels set to -1 (background: a hole looks like missing ink),
    channel 1 the mask as an image, 1 inside the hole and -1 outside. The mask channel is what tells the
    network which dark pixels are unknown and which are really background; ``input[:, 1:] > 0`` recovers
    the bool mask from an input.
    """
    x = _as_images(x, "apply_hole: x", channels=1)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != x.shape:
        raise ValueError(f"apply_hole: mask shape {mask.shape} does not match image shape {x.shape}")
    digit = np.where(mask, np.float32(-1.0), x)
    return np.concatenate([digit, np.where(mask, np.float32(1.0), np.float32(-1.0))], axis=1)


def inpaint_input(x, generator, hole: int = 14, return_mask: bool = False):
    """Digits float (N, 1, H, W) in [-1, 1] -> inpainting inputs float32 (N, 2, H, W) (see ``apply_hole``),
    with one random ``hole`` x ``hole`` hole per image from ``hole_masks(N, H, W, generator, hole)``.

    With ``return_mask=True`` returns (inputs, mask), the bool (N, 1, H, W) mask the evaluation scores on.
    """
    x = _as_images(x, "inpaint_input", channels=1)
    mask = hole_masks(x.shape[0], x.shape[2], x.shape[3], generator, hole)
    inputs = apply_hole(x, mask)
    return (inputs, mask) if return_mask else inputs


def mean_fill(x, mask) -> np.ndarray:
    """The "inpaint" baseline: float (N, C, H, W) -> float32, same shape, with each image's masked pixels
    set to the mean of its unmasked pixels (per image and channel); unmasked pixels are left as they are.

    ``mask`` is bool (N, 1 or C, H, W), True where the pixel is missing, or the mask channel of an input
    (1 inside, -1 outside; anything > 0 counts as masked): ``mean_fill(inputs[:, :1], inputs[:, 1:])``.
    ValueError when the shapes differ or an image has no unmasked pixel to take a mean of.
    """
    x = _as_images(x, "mean_fill: x")
    mask = np.asarray(mask)
    mask = mask if mask.dtype == bool else mask > 0
    if mask.ndim != 4 or mask.shape[0] != x.shape[0] or mask.shape[2:] != x.shape[2:]:
        raise ValueError(f"mean_fill: mask shape {mask.shape} does not match image shape {x.shape}")
    if mask.shape[1] not in (1, x.shape[1]):
        raise ValueError(f"mean_fill: mask has {mask.shape[1]} channels, images have {x.shape[1]}")
    mask = np.broadcast_to(mask, x.shape)
    known = (~mask).sum(axis=(2, 3))
    if np.any(known == 0):
        raise ValueError(f"mean_fill: image {int(np.argwhere(known == 0)[0, 0])} is masked everywhere")
    mean = np.where(mask, 0.0, x).sum(axis=(2, 3), dtype=np.float64) / known
    return np.where(mask, mean[:, :, None, None].astype(np.float32), x)


# -- the sampler ---------------------------------------------------------------------------------------------
class PairedSampler:
    """(input, target) batches of one paired task drawn from uint8 MNIST digits.

    ``images`` uint8 (N, H, W) (MNIST: 28 x 28), ``labels`` int64 (N,), ``task`` one of ``TASKS``. Targets are
    the digits, float32 (n, 1, H, W) in [-1, 1]; inputs are ``edges(target)`` (1, H, W),
    ``downsample(target, 4)`` (1, H/4, W/4) or ``inpaint_input(target, generator, hole)`` (2, H, W).

    The sampler holds no random state: ``sample(n, generator)`` draws the image indices with
    ``generator.integers(0, N, size=n)`` (uniform, with replacement) and, for "inpaint", then the holes from
    the same generator, so checkpointing the caller's generator checkpoints the data stream.
    ``fixed(idx, seed)`` gives the pairs of chosen images, with holes from ``default_rng(seed)``, for
    evaluation sets that never change.

    Attributes: ``images``, ``labels``, ``task``, ``name`` (default ``"mnist-<task>"``), ``split``, ``hole``,
    ``in_channels`` (1, 1, 2 for edges, sr4, inpaint), ``in_size`` (28, 7, 28 for MNIST) and ``kind``.
    """

    kind = "paired"

    def __init__(self, images, labels, task: str, split: str = "custom", name: str | None = None, hole=14):
        images, labels = check_digits(images, labels, "PairedSampler")
        if task not in TASKS:
            raise ValueError(f"PairedSampler: unknown task {task!r}: expected one of {', '.join(TASKS)}")
        h, w = images.shape[1:]
        if task == "sr4" and (h % 4 or w % 4):
            raise ValueError(f"PairedSampler: task 'sr4' needs a size divisible by 4, got {h} x {w}")
        self.hole = _positive_int(hole, "PairedSampler: hole")
        if task == "inpaint" and (self.hole > h or self.hole > w):
            raise ValueError(f"PairedSampler: a {self.hole} x {self.hole} hole does not fit in {h} x {w}")
        self.images, self.labels = images, labels.astype(np.int64)
        self.task, self.split = task, split
        self.name = name if name is not None else f"mnist-{task}"
        self.in_channels = 2 if task == "inpaint" else 1
        self.in_size = h // 4 if task == "sr4" else h

    @classmethod
    def from_mnist(cls, mnist, task: str, name: str | None = None, hole=14) -> PairedSampler:
        """The sampler of an ``MNIST`` split (its images, labels and split name)."""
        return cls(mnist.images, mnist.labels, task, split=mnist.split, name=name, hole=hole)

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self):
        return f"PairedSampler(task={self.task!r}, name={self.name!r}, split={self.split!r}, n={len(self)})"

    def _pairs(self, idx, generator) -> tuple[np.ndarray, np.ndarray]:
        target = to_unit_range(self.images[idx])
        if self.task == "edges":
            return edges(target), target
        if self.task == "sr4":
            return downsample(target, 4), target
        return inpaint_input(target, generator, self.hole), target

    def sample_labelled(self, n: int, generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(input float32, target float32 (n, 1, H, W), labels int64 (n,)); same draws as ``sample``."""
        n = _positive_int(n, "PairedSampler.sample: n")
        idx = generator.integers(0, len(self), size=n)
        inputs, target = self._pairs(idx, generator)
        return inputs, target, self.labels[idx]

    def sample(self, n: int, generator) -> tuple[np.ndarray, np.ndarray]:
        """(input float32, target float32 (n, 1, H, W)) of ``n`` images drawn uniformly with replacement."""
        inputs, target, _ = self.sample_labelled(n, generator)
        return inputs, target

    def fixed(self, idx, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(input, target, labels) of the images ``idx`` (in that order), holes from ``default_rng(seed)``."""
        idx = np.asarray(idx)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"PairedSampler.fixed: idx must be a 1-D array of integers, got {idx!r}")
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise ValueError(f"PairedSampler.fixed: indices must lie in 0..{len(self) - 1}")
        inputs, target = self._pairs(idx, np.random.default_rng(seed))
        return inputs, target, self.labels[idx]
