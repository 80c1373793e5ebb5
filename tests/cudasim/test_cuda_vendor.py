"""The vendor baseline (kernels/cuda/vendor.py: im2col + BLAS GEMM) run on NumPy, against the reference.

On a GPU the same code runs on CuPy with cuBLAS (tests/gpu); here NumPy stands in for CuPy, which checks
the im2col / col2im index bookkeeping that the GPU timings in ``bench`` rely on.
"""

import numpy as np
import pytest
from minigan.kernels import reference
from minigan.kernels.cuda import vendor

CASES = [  # (N, C, H, W, O, KH, KW, stride, padding)
    (2, 3, 7, 6, 5, 3, 3, 2, 1),
    (1, 2, 5, 5, 3, 5, 5, 1, 0),
    (2, 4, 6, 5, 3, 1, 1, 1, 0),
    (1, 3, 6, 6, 9, 3, 2, 2, 2),
    (3, 2, 8, 8, 3, 4, 4, 2, 1),
    (1, 2, 7, 5, 3, 3, 2, (2, 1), (1, 0)),
]


@pytest.mark.parametrize("case", CASES)
def test_vendor_conv_passes_match_reference(case):
    n, c, h, w, o, kh, kw, stride, padding = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((o, c, kh, kw))
    y = vendor.conv2d(x, wt, stride, padding)
    np.testing.assert_allclose(y, reference.conv2d_forward(x, wt, stride, padding), rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    gx = vendor.conv2d_backward_input(gy, wt, x.shape, stride, padding)
    ref = reference.conv2d_backward_input(gy, wt, x.shape, stride, padding)
    np.testing.assert_allclose(gx, ref, rtol=1e-12, atol=1e-12)
    gw = vendor.conv2d_backward_weight(x, gy, wt.shape, stride, padding)
    ref = reference.conv2d_backward_weight(x, gy, wt.shape, stride, padding)
    np.testing.assert_allclose(gw, ref, rtol=1e-12, atol=1e-12)


def test_vendor_matmul_broadcasts_like_numpy():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 2))
    np.testing.assert_allclose(vendor.matmul(a, b), reference.matmul(a, b), rtol=1e-12)
