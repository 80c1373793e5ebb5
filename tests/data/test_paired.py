"""Paired tasks (minigan.data.paired): edges, average pooling, holes, the bicubic and mean-fill baselines
and PairedSampler, on small synthetic arrays; one test on the real MNIST test set when it is found.

The real files are looked up in ``$MINIGAN_MNIST_DIR`` if set, else ``../shared/data/mnist`` relative to the
repository root (test_mnist.py's REAL_DIR); without them that test is skipped with that reason.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from test_mnist import REAL_DIR, needs_real  # the real MNIST test files, when they are found

from minigan.data import paired as P
from minigan.data.mnist import load_mnist, to_unit_range


def digits(n=6, size=28, seed=0):
    """uint8 (n, size, size) images that tell apart their index: image i has i + 1 bright pixels in a row."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, (n, size, size)).astype(np.uint8)
    for i in range(n):
        images[i, size // 2, : i + 1] = 255
    return images, np.arange(n, dtype=np.int64) % 10


def index_of(target, images):
    """Which of ``images`` (uint8) each float target (n, 1, H, W) is."""
    flat = to_unit_range(images).reshape(len(images), -1)
    return np.array([int(np.flatnonzero((flat == t.ravel()).all(axis=1))[0]) for t in target])


# -- edges ---------------------------------------------------------------------------------------------------
def test_edges_of_a_square_is_its_ring_by_hand():
    x = -np.ones((1, 1, 9, 9), np.float32)
    x[0, 0, 3:6, 3:6] = 1.0
    expected = -np.ones((9, 9), np.float32)
    expected[2:7, 2:7] = 1.0  # dilation: the 5 x 5 square ...
    expected[4, 4] = -1.0  # ... minus the erosion: the centre, the only pixel with ink all around
    e = P.edges(x)
    assert e.shape == x.shape and e.dtype == np.float32
    np.testing.assert_array_equal(e[0, 0], expected)


def test_edges_threshold_is_strictly_half_the_contrast_and_the_frame_is_no_edge():
    x = -np.ones((2, 1, 6, 6), np.float32)
    x[0, 0, :, 3:] = 0.0  # u = 0.5 on the right half: g = 0.5, not above the threshold
    x[1, 0, :, 3:] = 0.25  # u = 0.625
    e = P.edges(x)
    assert (e[0] == -1).all()
    expected = -np.ones((6, 6), np.float32)
    expected[:, 2:4] = 1.0  # the two columns either side of the step, all the way to the frame
    np.testing.assert_array_equal(e[1, 0], expected)
    assert (P.edges(np.full((1, 1, 5, 5), 0.7, np.float32)) == -1).all()  # replicated border: no frame


@given(arrays(np.float32, (1, 2, 5, 7), elements=st.floats(-1, 1, width=32)))
def test_edges_commute_with_flips_and_transposes(x):
    e = P.edges(x)
    assert set(np.unique(e)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(P.edges(x[..., ::-1]), e[..., ::-1])
    np.testing.assert_array_equal(P.edges(x[..., ::-1, :]), e[..., ::-1, :])
    np.testing.assert_array_equal(P.edges(x.transpose(0, 1, 3, 2)), e.transpose(0, 1, 3, 2))


def test_edges_reject_bad_input():
    with pytest.raises(ValueError, match=r"values must lie in \[-1, 1\], got \[0, 255\]"):
        P.edges(np.array([[[[0.0, 255.0]]]]))
    with pytest.raises(
        ValueError, match=r"edges: expected images of shape \(N, C, H, W\), got shape \(28, 28\)"
    ):
        P.edges(np.zeros((28, 28)))


# -- super-resolution ----------------------------------------------------------------------------------------
def test_downsample_averages_blocks():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4) / 16
    np.testing.assert_allclose(P.downsample(x, 2)[0, 0], np.array([[2.5, 4.5], [10.5, 12.5]]) / 16)
    y = P.downsample(np.zeros((3, 2, 28, 28), np.float32))
    assert y.shape == (3, 2, 7, 7) and y.dtype == np.float32
    with pytest.raises(ValueError, match="image size 28 x 30 is not divisible by factor 4"):
        P.downsample(np.zeros((1, 1, 28, 30)))
    with pytest.raises(ValueError, match="factor must be a positive integer, got 0"):
        P.downsample(np.zeros((1, 1, 4, 4)), 0)


def test_bicubic_matches_the_hand_computed_keys_kernel():
    # input [-0.5, 0.5], factor 2: source positions -0.25, 0.25, 0.75, 1.25. With a = -0.75 the weights at
    # t = 0.75 are (-0.03515625, 0.26171875, 0.87890625, -0.10546875) on taps (-2, -1, 0, 1) -> (0, 0, 0, 1)
    # after replication, so out[0] = -0.5 * 1.10546875 + 0.5 * -0.10546875 = -0.60546875; at t = 0.25 the
    # weights reverse, out[1] = -0.5 * 0.7734375 + 0.5 * 0.2265625 = -0.2734375; the rest by symmetry.
    expected = np.array([-0.60546875, -0.2734375, 0.2734375, 0.60546875])
    x = np.array([[-0.5, 0.5], [-0.5, 0.5]], np.float32)[None, None]
    y = P.bicubic_upsample(x, 2)
    assert y.shape == (1, 1, 4, 4) and y.dtype == np.float32
    np.testing.assert_allclose(y[0, 0], np.tile(expected, (4, 1)), atol=1e-7)
    np.testing.assert_allclose(
        P.bicubic_upsample(x.transpose(0, 1, 3, 2), 2)[0, 0], np.tile(expected, (4, 1)).T
    )
    # [-1, 1] overshoots to -1.2109375 and is clipped; the inner pixels are -0.7734375 + 0.2265625
    np.testing.assert_allclose(
        P.bicubic_upsample(2 * x, 2)[0, 0, 0], [-1.0, -0.546875, 0.546875, 1.0], atol=1e-7
    )


def reference_bicubic_1d(v, factor, a=-0.75):
    """PyTorch's upsample_bicubic2d along one axis, written out pixel by pixel."""

    def k(d):
        d = abs(d)
        if d <= 1:
            return (a + 2) * d**3 - (a + 3) * d**2 + 1
        if d < 2:
            return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
        return 0.0

    out = []
    for j in range(len(v) * factor):
        s = (j + 0.5) / factor - 0.5
        f = int(np.floor(s))
        out.append(sum(k(s - m) * v[min(max(m, 0), len(v) - 1)] for m in range(f - 1, f + 3)))
    return np.array(out)


def test_bicubic_matches_a_pixel_by_pixel_reference_and_keeps_constants():
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.3, 0.3, (2, 1, 5, 6))
    ref = np.stack([reference_bicubic_1d(r, 3) for r in x[1, 0]])  # along W ...
    ref = np.stack([reference_bicubic_1d(c, 3) for c in ref.T]).T  # ... then along H
    np.testing.assert_allclose(P.bicubic_upsample(x, 3)[1, 0], ref, atol=1e-6)
    assert P.bicubic_upsample(np.zeros((1, 1, 7, 7)), 4).shape == (1, 1, 28, 28)
    np.testing.assert_allclose(P.bicubic_upsample(np.full((1, 3, 7, 7), 0.3), 4), 0.3, atol=1e-6)
    np.testing.assert_allclose(P.bicubic_upsample(x, 1), x, atol=1e-7)


# -- inpainting ----------------------------------------------------------------------------------------------
def test_hole_masks_are_squares_inside_the_image_at_every_position():
    masks = P.hole_masks(400, 6, 7, np.random.default_rng(0), hole=4)
    assert masks.shape == (400, 1, 6, 7) and masks.dtype == bool
    corners = set()
    for m in masks[:, 0]:
        rows, cols = np.nonzero(m)
        r, c = rows.min(), cols.min()
        assert m.sum() == 16 and m[r : r + 4, c : c + 4].all()  # one whole 4 x 4 square, nothing else
        corners.add((int(r), int(c)))
    assert corners == {(r, c) for r in range(3) for c in range(4)}  # every position where it fits
    # the corners are one documented call on the generator
    g = np.random.default_rng(5)
    rc = np.random.default_rng(5).integers(0, (3, 4), size=(10, 2))
    for m, (r, c) in zip(P.hole_masks(10, 6, 7, g, hole=4)[:, 0], rc):
        assert m[r, c] and m.sum() == 16 and m[r : r + 4, c : c + 4].all()
    with pytest.raises(ValueError, match="a 8 x 8 hole does not fit in a 6 x 7 image"):
        P.hole_masks(1, 6, 7, g, hole=8)


def test_inpaint_input_channels_and_mask():
    images, _ = digits(5)
    x = to_unit_range(images)
    inputs, mask = P.inpaint_input(x, np.random.default_rng(1), return_mask=True)
    assert inputs.shape == (5, 2, 28, 28) and inputs.dtype == np.float32 and mask.shape == (5, 1, 28, 28)
    assert (mask.sum(axis=(1, 2, 3)) == 14 * 14).all()
    np.testing.assert_array_equal(inputs[:, 1:] > 0, mask)
    assert set(np.unique(inputs[:, 1])) == {-1.0, 1.0}
    np.testing.assert_array_equal(inputs[:, :1][mask], -1.0)
    np.testing.assert_array_equal(inputs[:, :1][~mask], x[~mask])
    again = P.inpaint_input(x, np.random.default_rng(1))
    np.testing.assert_array_equal(again, inputs)
    assert not np.array_equal(P.inpaint_input(x, np.random.default_rng(2)), inputs)
    with pytest.raises(ValueError, match="expected 1 channel"):
        P.inpaint_input(np.zeros((1, 3, 28, 28)), np.random.default_rng(0))


def test_mean_fill_by_hand():
    x = np.array([[[[0.2, 0.4], [0.6, -1.0]]], [[[1.0, -1.0], [0.0, 0.5]]]], np.float32)
    mask = np.array([[[[False, False], [False, True]]], [[[True, True], [False, False]]]])
    out = P.mean_fill(x, mask)
    np.testing.assert_allclose(out[0, 0], [[0.2, 0.4], [0.6, 0.4]], atol=1e-7)
    np.testing.assert_allclose(out[1, 0], [[0.25, 0.25], [0.0, 0.5]], atol=1e-7)
    np.testing.assert_array_equal(P.mean_fill(x, np.where(mask, 1.0, -1.0)), out)  # the mask channel
    with pytest.raises(ValueError, match="image 1 is masked everywhere"):
        P.mean_fill(x, np.array([[[[False] * 2] * 2], [[[True] * 2] * 2]]))
    with pytest.raises(
        ValueError, match=r"mask shape \(2, 1, 2, 3\) does not match image shape \(2, 1, 2, 2\)"
    ):
        P.mean_fill(x, np.zeros((2, 1, 2, 3), bool))


# -- the sampler ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task, channels, size", [("edges", 1, 28), ("sr4", 1, 7), ("inpaint", 2, 28)])
def test_sampler_shapes_and_attributes(task, channels, size):
    images, labels = digits(6)
    s = P.PairedSampler(images, labels, task, split="test")
    assert (s.in_channels, s.in_size, s.kind, s.task, len(s)) == (channels, size, "paired", task, 6)
    assert (
        s.name == f"mnist-{task}"
        and repr(s) == f"PairedSampler(task={task!r}, name={s.name!r}, split='test', n=6)"
    )
    inputs, target, y = s.sample_labelled(9, np.random.default_rng(0))
    assert inputs.shape == (9, channels, size, size) and inputs.dtype == np.float32
    assert target.shape == (9, 1, 28, 28) and target.dtype == np.float32 and y.dtype == np.int64
    assert -1.0 <= inputs.min() and inputs.max() <= 1.0 and -1.0 <= target.min() and target.max() <= 1.0
    np.testing.assert_array_equal(y, labels[index_of(target, images)])


def test_sampler_draws_indices_then_holes_from_the_callers_generator():
    images, labels = digits(6)
    s = P.PairedSampler(images, labels, "inpaint")
    inputs, target = s.sample(50, np.random.default_rng(3))
    g = np.random.default_rng(3)
    idx = g.integers(0, 6, size=50)
    np.testing.assert_array_equal(target, to_unit_range(images[idx]))
    np.testing.assert_array_equal(inputs, P.inpaint_input(target, g, 14))
    assert len(set(idx.tolist())) == 6  # with replacement, over all images
    again = s.sample_labelled(50, np.random.default_rng(3))
    np.testing.assert_array_equal(again[0], inputs)
    np.testing.assert_array_equal(again[1], target)
    assert not np.array_equal(s.sample(50, np.random.default_rng(4))[0], inputs)


def test_sampler_inputs_are_the_documented_functions_of_the_target():
    images, labels = digits(4)
    g = np.random.default_rng(0)
    inputs, target = P.PairedSampler(images, labels, "edges").sample(8, g)
    np.testing.assert_array_equal(inputs, P.edges(target))
    inputs, target = P.PairedSampler(images, labels, "sr4").sample(8, g)
    np.testing.assert_array_equal(inputs, P.downsample(target, 4))


def test_fixed_gives_the_same_pairs_for_the_same_indices_and_seed():
    images, labels = digits(6)
    s = P.PairedSampler(images, labels, "inpaint")
    a = s.fixed([4, 0, 4], seed=7)
    np.testing.assert_array_equal(a[1], to_unit_range(images[[4, 0, 4]]))
    np.testing.assert_array_equal(a[2], labels[[4, 0, 4]])
    np.testing.assert_array_equal(a[0], P.inpaint_input(a[1], np.random.default_rng(7)))
    b = s.fixed(np.array([4, 0, 4]), seed=7)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(s.fixed([4, 0, 4], seed=8)[0], a[0])
    with pytest.raises(ValueError, match=r"indices must lie in 0..5"):
        s.fixed([6])


def test_sampler_rejects_bad_construction():
    images, labels = digits(3)
    with pytest.raises(ValueError, match="unknown task 'sr2': expected one of edges, sr4, inpaint"):
        P.PairedSampler(images, labels, "sr2")
    with pytest.raises(ValueError, match=r"images must be uint8 \(N, H, W\), got float32"):
        P.PairedSampler(images.astype(np.float32), labels, "edges")
    with pytest.raises(ValueError, match=r"labels of shape \(2,\) do not match 3 images"):
        P.PairedSampler(images, labels[:2], "edges")
    with pytest.raises(ValueError, match="task 'sr4' needs a size divisible by 4, got 30 x 30"):
        P.PairedSampler(np.zeros((2, 30, 30), np.uint8), labels[:2], "sr4")
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        P.PairedSampler(images, labels, "edges").sample(0, np.random.default_rng(0))


@needs_real
def test_real_digits_baselines_are_sensible():
    images, labels = load_mnist("test", data_dir=REAL_DIR)
    s = P.PairedSampler(images[:300], labels[:300], "sr4", split="test")
    small, target, _ = s.fixed(np.arange(300))
    mse_bicubic = ((P.bicubic_upsample(small, 4) - target) ** 2).mean()
    mse_nearest = ((small.repeat(4, axis=2).repeat(4, axis=3) - target) ** 2).mean()
    assert mse_bicubic < 0.9 * mse_nearest
    e = P.edges(target)
    ink = target > 0
    assert ((e > 0) & ink).sum() > 0.8 * ink.sum()  # the band covers the strokes ...
    assert 0.1 < (e > 0).mean() < 0.4  # ... and is far from the whole image
