"""The implicit-GEMM convolution kernels (kernels/cuda/conv.py) under the CUDA simulator, all three passes.

Compared with the float64 NumPy definitions in ``minigan.kernels.reference``. Error criterion, as for
matmul: ``|got - ref| <= 1e-5 * bound`` elementwise, where ``bound`` is the same pass computed on absolute
values (the rounding bound of each output's sum of products). Tiny shapes and 16-thread tiles keep the
simulator fast while still covering several blocks, partial tiles, split-K with atomics, batch 1, 1x1
kernels, a kernel as large as the padded input, strides with padding, and rectangular everything.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minigan.kernels import reference
from minigan.kernels.cuda import conv
from minigan.kernels.cuda.matmul import Tiles

SMALL = Tiles(bm=8, bn=8, bk=4, tm=2, tn=2)

CASES = {  # name: (N, C, H, W, O, KH, KW, stride, padding)
    "3x3, stride 2, padding 1, several blocks": (2, 3, 7, 6, 5, 3, 3, 2, 1),
    "kernel == input (1x1 output)": (1, 2, 5, 5, 3, 5, 5, 1, 0),
    "1x1 kernel": (2, 4, 6, 5, 3, 1, 1, 1, 0),
    "batch 1, stride 2, padding 2, 3x2 kernel": (1, 3, 6, 6, 9, 3, 2, 2, 2),
    "DCGAN 4x4, stride 2, padding 1": (1, 2, 6, 6, 3, 4, 4, 2, 1),
    "per-axis stride (2, 1) and padding (1, 0)": (1, 2, 7, 5, 3, 3, 2, (2, 1), (1, 0)),
}


def _assert_bounded(got, ref, bound, rtol):
    assert got.shape == ref.shape
    err = np.abs(np.asarray(got, np.float64) - ref)
    worst = float(np.max(err / np.maximum(bound, 1e-300), initial=0.0))
    assert np.all(err <= rtol * bound), f"max error {worst:.3g} x bound > {rtol}"


def _problem(case, dtype=np.float32, seed=0):
    n, c, h, w, o, kh, kw, stride, padding = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((o, c, kh, kw)).astype(dtype)
    oh, ow = conv.output_size(h, w, kh, kw, stride, padding)
    gy = rng.standard_normal((n, o, oh, ow)).astype(dtype)
    return x, wt, gy, stride, padding


def _check_all_passes(x, w, gy, stride, padding, tiles, rtol=1e-5, splits=None):
    x64, w64, gy64 = (v.astype(np.float64) for v in (x, w, gy))
    ax, aw, agy = np.abs(x64), np.abs(w64), np.abs(gy64)

    y = conv.conv2d(x, w, stride, padding, tiles=tiles, splits=splits)
    ref = reference.conv2d_forward(x64, w64, stride, padding)
    _assert_bounded(y, ref, reference.conv2d_forward(ax, aw, stride, padding), rtol)
    assert y.dtype == np.result_type(x, w)

    gx = conv.conv2d_backward_input(gy, w, x.shape, stride, padding, tiles=tiles, splits=splits)
    ref = reference.conv2d_backward_input(gy64, w64, x.shape, stride, padding)
    _assert_bounded(gx, ref, reference.conv2d_backward_input(agy, aw, x.shape, stride, padding), rtol)

    gw = conv.conv2d_backward_weight(x, gy, w.shape, stride, padding, tiles=tiles, splits=splits)
    ref = reference.conv2d_backward_weight(x64, gy64, w.shape, stride, padding)
    _assert_bounded(gw, ref, reference.conv2d_backward_weight(ax, agy, w.shape, stride, padding), rtol)


@pytest.mark.parametrize("case", list(CASES))
def test_all_passes_match_float64_reference(case):
    _check_all_passes(*_problem(CASES[case]), tiles=SMALL)


def test_split_k_with_atomics_in_every_pass():
    """Splitting K over grid z and combining with atomic adds gives the same sums (to rounding)."""
    _check_all_passes(*_problem(CASES["3x3, stride 2, padding 1, several blocks"], seed=1), SMALL, splits=3)


def test_default_tiles_used_on_the_gpu():
    """The 64x64x8, 256-thread configuration on a problem smaller than one tile, with the automatic
    split-K choice for the weight gradient (K = N*OH*OW = 50 is too short to split: one split)."""
    _check_all_passes(*_problem((2, 3, 5, 5, 4, 3, 3, 1, 1), seed=2), tiles=conv.CONV_TILES)


def test_float64_is_computed_in_float64():
    _check_all_passes(
        *_problem(CASES["DCGAN 4x4, stride 2, padding 1"], np.float64, seed=3), SMALL, rtol=1e-13
    )


@settings(max_examples=5)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    o=st.integers(1, 4),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    tiles=st.sampled_from([SMALL, Tiles(4, 8, 4, 1, 2), Tiles(8, 4, 8, 2, 1)]),
)
def test_random_geometries(n, c, o, h, w, kh, kw, stride, padding, tiles):
    kh, kw = min(kh, h + 2 * padding), min(kw, w + 2 * padding)
    x, wt, gy, s, p = _problem((n, c, h, w, o, kh, kw, stride, padding), seed=n * c * o + h * w)
    _check_all_passes(x, wt, gy, s, p, tiles)


def test_mixed_float_dtypes_compute_in_float64():
    x, w, gy, s, p = _problem(CASES["1x1 kernel"], seed=4)
    _check_all_passes(x, w.astype(np.float64), gy.astype(np.float64), s, p, SMALL, rtol=1e-13)


def test_choose_splits_fills_the_gpu_only_when_k_is_long():
    t = conv.CONV_TILES
    assert conv.choose_splits(64, 576, 50, t) == 1  # K too short to be worth splitting
    assert conv.choose_splits(64, 576, 128 * 16 * 16, t) == 30  # 9 blocks -> 30 splits ~ 264 blocks
    assert conv.choose_splits(512, 8192, 10**6, t) == 1  # already 1024 blocks


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda x, w: conv.conv2d(x, w[:, :2]), ValueError, "channels"),
        (lambda x, w: conv.conv2d(x.astype(np.int32), w.astype(np.int32)), TypeError, "int32, int32"),
        (lambda x, w: conv.conv2d(x[0], w), ValueError, "expected x"),
        (lambda x, w: conv.conv2d(x, w, stride=0), ValueError, "stride must be"),
        (lambda x, w: conv.conv2d(x, w, padding=(1, 2, 3)), ValueError, "padding must be"),
        (lambda x, w: conv.conv2d(x[:, :, :2, :2], w), ValueError, "larger than the padded input"),
        (
            lambda x, w: conv.conv2d_backward_input(np.zeros((1, 4, 2, 2), np.float32), w, x.shape),
            ValueError,
            "gy",
        ),
    ],
)
def test_bad_arguments_are_named(call, error, match):
    x = np.zeros((1, 3, 5, 5), np.float32)
    w = np.zeros((4, 3, 3, 3), np.float32)
    with pytest.raises(error, match=match):
        call(x, w)
