"""Every CPU convolution kernel family, all three passes, against the float64 NumPy reference.

Families: "packed" (the default: NHWC panels, sub-pixel input gradient, batch-level weight-gradient GEMM;
its paths are forced one by one in test_kernels_conv_packed.py), "gemm" (per-image im2col + register-tiled
GEMM), "direct" (loops), "im2col_blas" (Numba im2col/col2im + NumPy BLAS), called through
``kernels.dispatch.conv_kernels`` with the public signatures.
Error norm: max|out - ref| / max|ref| <= 1e-5 in float32. Geometries are drawn by hypothesis, with the
edge cases pinned as examples: batch 1, 1 x 1 kernels, a kernel as large as the padded input, stride 2
with padding, strides and paddings that differ between height and width, and input rows that no window
reaches.
"""

import numpy as np
import pytest
from conv_cases import case, geometry, rel_err
from hypothesis import example, given
from minigan.kernels import dispatch
from minigan.kernels import reference as R

FAMILIES = dispatch.CONV_FAMILIES


EDGE_CASES = [
    dict(n=1, c=1, o=1, h=1, w=1, kh=1, kw=1, stride=(1, 1), padding=(0, 0), seed=0),  # all ones
    dict(n=2, c=3, o=4, h=5, w=5, kh=1, kw=1, stride=(1, 1), padding=(0, 0), seed=1),  # 1 x 1 kernel
    dict(n=1, c=2, o=3, h=4, w=6, kh=4, kw=6, stride=(1, 1), padding=(0, 0), seed=2),  # kernel = input
    dict(n=2, c=3, o=5, h=8, w=8, kh=4, kw=4, stride=(2, 2), padding=(1, 1), seed=3),  # DCGAN layer
    dict(n=1, c=2, o=2, h=7, w=9, kh=3, kw=2, stride=(2, 3), padding=(2, 0), seed=4),  # ragged, unequal
    dict(n=3, c=1, o=6, h=6, w=6, kh=6, kw=6, stride=(3, 3), padding=(2, 2), seed=5),  # kernel > input
]


@pytest.mark.parametrize("family", FAMILIES)
@given(g=geometry())
@example(g=EDGE_CASES[0])
@example(g=EDGE_CASES[1])
@example(g=EDGE_CASES[2])
@example(g=EDGE_CASES[3])
@example(g=EDGE_CASES[4])
@example(g=EDGE_CASES[5])
def test_three_passes_match_reference(family, g):
    x, w, gy = case(**g)
    stride, padding = g["stride"], g["padding"]
    x64, w64, gy64 = x.astype(np.float64), w.astype(np.float64), gy.astype(np.float64)
    k = dispatch.conv_kernels(family)
    y = k["conv2d"](x, w, stride, padding)
    gx = k["conv2d_backward_input"](gy, w, x.shape, stride, padding)
    gw = k["conv2d_backward_weight"](x, gy, w.shape, stride, padding)
    assert (y.shape, gx.shape, gw.shape) == (gy.shape, x.shape, w.shape)
    assert y.dtype == gx.dtype == gw.dtype == np.float32
    assert rel_err(y, R.conv2d_forward(x64, w64, stride, padding)) <= 1e-5
    assert rel_err(gx, R.conv2d_backward_input(gy64, w64, x.shape, stride, padding)) <= 1e-5
    assert rel_err(gw, R.conv2d_backward_weight(x64, gy64, w.shape, stride, padding)) <= 1e-5


@pytest.mark.parametrize("family", ["packed", "im2col_blas"])
def test_float64_and_more_threads_than_images(family):
    """float64 in, float64 out at float64 accuracy; batch 1 leaves all but one thread idle.

    Only for the families behind "kernels" and "vendor", which the float64 gradchecks compile anyway:
    the other two run the same dtype-generic code, and each float64 specialisation of a parallel Numba
    kernel costs several seconds of cold-cache compile time."""
    g = dict(n=1, c=3, o=4, h=7, w=6, kh=3, kw=3, stride=(2, 1), padding=(1, 1), seed=7)
    x, w, gy = case(**g, dtype=np.float64)
    k = dispatch.conv_kernels(family)
    assert rel_err(k["conv2d"](x, w, (2, 1), (1, 1)), R.conv2d_forward(x, w, (2, 1), (1, 1))) <= 1e-12
    gx = k["conv2d_backward_input"](gy, w, x.shape, (2, 1), (1, 1))
    assert gx.dtype == np.float64
    assert rel_err(gx, R.conv2d_backward_input(gy, w, x.shape, (2, 1), (1, 1))) <= 1e-12
    gw = k["conv2d_backward_weight"](x, gy, w.shape, (2, 1), (1, 1))
    assert rel_err(gw, R.conv2d_backward_weight(x, gy, w.shape, (2, 1), (1, 1))) <= 1e-12


@pytest.mark.parametrize("family", FAMILIES)
def test_dcgan_sized_layer(family):
    """A DCGAN layer at a small batch: enough rows, columns and depth for the GEMM's 4 x 4 tiles to fill."""
    x, w, gy = case(n=2, c=16, o=32, h=14, w=14, kh=4, kw=4, stride=(2, 2), padding=(1, 1), seed=8)
    k = dispatch.conv_kernels(family)
    x64, w64, gy64 = x.astype(np.float64), w.astype(np.float64), gy.astype(np.float64)
    assert rel_err(k["conv2d"](x, w, (2, 2), (1, 1)), R.conv2d_forward(x64, w64, 2, 1)) <= 1e-5
    gx = k["conv2d_backward_input"](gy, w, x.shape, (2, 2), (1, 1))
    assert rel_err(gx, R.conv2d_backward_input(gy64, w64, x.shape, 2, 1)) <= 1e-5
    gw = k["conv2d_backward_weight"](x, gy, w.shape, (2, 2), (1, 1))
    assert rel_err(gw, R.conv2d_backward_weight(x64, gy64, w.shape, 2, 1)) <= 1e-5
