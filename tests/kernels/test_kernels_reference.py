"""The NumPy references of kernels/reference.py against the definitions written as plain loops, and the
adjoint identities that tie the three convolution passes together (chapter 04)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from minigan.kernels import reference as R


def conv_loops(x, w, stride, padding):
    """y[n, o, i, j] = sum_{c, a, b} w[o, c, a, b] x[n, c, i*sh - ph + a, j*sw - pw + b], as six loops."""
    (sh, sw), (ph, pw) = stride, padding
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, o, ho, wo))
    for ni in range(n):
        for oi in range(o):
            for i in range(ho):
                for j in range(wo):
                    for ci in range(c):
                        for a in range(kh):
                            for b in range(kw):
                                ih, iw = i * sh - ph + a, j * sw - pw + b
                                if 0 <= ih < h and 0 <= iw < wd:
                                    y[ni, oi, i, j] += w[oi, ci, a, b] * x[ni, ci, ih, iw]
    return y


@st.composite
def conv_case(draw):
    """A small convolution geometry with at least one output position, and float64 data for it."""
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, wd = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    kh, kw = draw(st.integers(1, h + 2 * ph)), draw(st.integers(1, wd + 2 * pw))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    x = rng.standard_normal((n, c, h, wd))
    w = rng.standard_normal((o, c, kh, kw))
    return x, w, (sh, sw), (ph, pw)


@given(conv_case())
def test_forward_matches_loops(case):
    x, w, stride, padding = case
    want = conv_loops(x, w, stride, padding)
    np.testing.assert_allclose(R.conv2d_forward(x, w, stride, padding), want, atol=1e-12)


@given(conv_case(), st.integers(0, 2**31))
def test_backward_passes_are_adjoints(case, seed):
    """<conv(x, w), gy> = <x, conv^T(gy, w)> = <w, corr(x, gy)>: both gradients of the bilinear form."""
    x, w, stride, padding = case
    y = R.conv2d_forward(x, w, stride, padding)
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    gx = R.conv2d_backward_input(gy, w, x.shape, stride, padding)
    gw = R.conv2d_backward_weight(x, gy, w.shape, stride, padding)
    assert gx.shape == x.shape and gw.shape == w.shape
    form = np.sum(y * gy)
    np.testing.assert_allclose(np.sum(x * gx), form, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.sum(w * gw), form, rtol=1e-10, atol=1e-10)


def test_conv_transpose_shape_and_adjoint():
    """conv_transpose2d(x, w) with PyTorch's output size, and it is the adjoint of conv2d with the same w."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 5))
    w = rng.standard_normal((4, 3, 4, 4))  # (C_in, C_out, kh, kw)
    y = R.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    assert y.shape == (2, 3, (5 - 1) * 2 - 2 + 4 + 1, 11)
    z = rng.standard_normal(y.shape)
    np.testing.assert_allclose(np.sum(y * z), np.sum(x * R.conv2d_forward(z, w, 2, 1)), rtol=1e-10)


def test_matmul_reference_semantics():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 2))
    np.testing.assert_allclose(R.matmul(a, b), a @ b, rtol=1e-12)
    v = rng.standard_normal(4)
    np.testing.assert_allclose(R.matmul(v, b), v @ b, rtol=1e-12)
    np.testing.assert_allclose(R.matmul(a, v), a @ v, rtol=1e-12)
