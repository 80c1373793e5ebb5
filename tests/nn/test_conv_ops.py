"""conv2d / conv_transpose2d: values vs a loop-by-definition NumPy reference, PyTorch's output sizes,
first and second derivatives vs finite differences, and the error messages."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigan as mg
import minigan.nn.functional as F
from minigan.ops.conv import (
    conv2d_arrays,
    conv2d_backward_input_arrays,
    conv2d_backward_weight_arrays,
)
from minigan.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def t64(shape, requires_grad=True, rng=RNG):
    return mg.tensor(rng.standard_normal(shape), dtype=np.float64, requires_grad=requires_grad)


def conv2d_loops(x, w, stride, padding):
    """y[n, o, i, j] = sum_{c, a, b} w[o, c, a, b] xpad[n, c, i*sh + a, j*sw + b], by the definition."""
    (sh, sw), (ph, pw) = stride, padding
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xpad = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xpad[:, :, ph : ph + h, pw : pw + wd] = x
    ho, wo = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xpad[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            y[:, :, i, j] = np.einsum("ncab,ocab->no", patch, w)
    return y


def conv_transpose2d_loops(x, w, stride, padding, output_padding):
    """Scatter form: every input pixel adds x[n, ci, i, j] * w[ci, :, :, :] at (i*sh - ph, j*sw - pw)."""
    (sh, sw), (ph, pw), (oph, opw) = stride, padding, output_padding
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    hout, wout = (h - 1) * sh - 2 * ph + kh + oph, (wd - 1) * sw - 2 * pw + kw + opw
    full = np.zeros((n, cout, hout + 2 * ph + kh, wout + 2 * pw + kw))
    for i in range(h):
        for j in range(wd):
            full[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += np.einsum(
                "nc,cdab->ndab", x[:, :, i, j], w
            )
    return full[:, :, ph : ph + hout, pw : pw + wout]


CONV_CASES = [  # (N, C, H, W, O, kh, kw, stride, padding)
    (2, 3, 5, 6, 4, 3, 3, (1, 1), (0, 0)),
    (1, 2, 7, 6, 3, 3, 2, (2, 1), (1, 2)),
    (2, 2, 4, 4, 3, 1, 1, (2, 2), (0, 0)),  # 1x1 kernel, stride 2
    (1, 2, 3, 4, 2, 3, 4, (1, 1), (0, 0)),  # kernel == input
    (2, 1, 8, 8, 2, 4, 4, (2, 2), (1, 1)),  # DCGAN's down-sampling layer
    (1, 2, 5, 5, 1, 2, 3, (3, 2), (1, 0)),  # rows left over: (5 + 2 - 2) % 3 != 0
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_definition(case):
    n, c, h, w_, o, kh, kw, stride, padding = case
    x, w, b = RNG.standard_normal((n, c, h, w_)), RNG.standard_normal((o, c, kh, kw)), RNG.standard_normal(o)
    f64 = lambda a: mg.tensor(a, dtype=np.float64)  # noqa: E731
    y = F.conv2d(f64(x), f64(w), f64(b), stride, padding)
    np.testing.assert_allclose(y.array, conv2d_loops(x, w, stride, padding) + b[:, None, None], atol=1e-12)


TRANSPOSE_CASES = [  # (N, C_in, H, W, C_out, kh, kw, stride, padding, output_padding)
    (2, 3, 3, 4, 2, 3, 3, (1, 1), (0, 0), (0, 0)),
    (1, 2, 3, 3, 3, 4, 4, (2, 2), (1, 1), (0, 0)),  # DCGAN's up-sampling layer
    (1, 2, 3, 2, 2, 3, 3, (2, 2), (1, 1), (1, 1)),
    (2, 2, 2, 3, 2, 1, 1, (2, 3), (0, 0), (1, 2)),  # 1x1 kernel, output_padding per axis
    (1, 1, 2, 2, 2, 3, 2, (3, 2), (1, 0), (2, 0)),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_conv_transpose2d_matches_definition(case):
    n, cin, h, w_, cout, kh, kw, stride, padding, opad = case
    x, w = RNG.standard_normal((n, cin, h, w_)), RNG.standard_normal((cin, cout, kh, kw))
    b = RNG.standard_normal(cout)
    f64 = lambda a: mg.tensor(a, dtype=np.float64)  # noqa: E731
    y = F.conv_transpose2d(f64(x), f64(w), f64(b), stride, padding, opad)
    expected = conv_transpose2d_loops(x, w, stride, padding, opad) + b[:, None, None]
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.array, expected, atol=1e-12)


@given(
    n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
    k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
)  # fmt: skip
def test_output_sizes_follow_pytorch_formulas(n, c, o, h, w, k, s, p):
    x = mg.zeros(n, c, h, w)
    if k <= min(h, w) + 2 * p:
        y = F.conv2d(x, mg.zeros(o, c, k, k), stride=s, padding=p)
        assert y.shape == (n, o, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
    for op in range(s):
        hout, wout = (h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op
        if hout > 0 and wout > 0:
            y = F.conv_transpose2d(x, mg.zeros(c, o, k, k), stride=s, padding=p, output_padding=op)
            assert y.shape == (n, o, hout, wout)


@given(
    n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6),
    kh=st.integers(1, 3), kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
    ph=st.integers(0, 2), pw=st.integers(0, 2), seed=st.integers(0, 2**16),
)  # fmt: skip
def test_conv2d_and_its_adjoints_on_random_configurations(n, c, o, h, w, kh, kw, sh, sw, ph, pw, seed):
    assume(kh <= h + 2 * ph and kw <= w + 2 * pw)  # else no output: see test_errors_name_the_problem
    rng = np.random.default_rng(seed)
    x, wt = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, kh, kw))
    stride, padding = (sh, sw), (ph, pw)
    y = conv2d_arrays(x, wt, stride, padding)
    np.testing.assert_allclose(y, conv2d_loops(x, wt, stride, padding), atol=1e-12)
    gy = rng.standard_normal(y.shape)
    gx = conv2d_backward_input_arrays(gy, wt, x.shape, stride, padding)
    gw = conv2d_backward_weight_arrays(x, gy, wt.shape, stride, padding)
    np.testing.assert_allclose(np.sum(x * gx), np.sum(y * gy), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.sum(wt * gw), np.sum(y * gy), rtol=1e-10, atol=1e-12)


def test_adjoint_identities_of_the_three_passes():
    """<conv(x, w), gy> = <x, conv^T(gy, w)> = <w, corr(x, gy)>: the relations the backward rests on."""
    for n, c, h, w_, o, kh, kw, stride, padding in CONV_CASES:
        x, w = RNG.standard_normal((n, c, h, w_)), RNG.standard_normal((o, c, kh, kw))
        y = conv2d_arrays(x, w, stride, padding)
        gy = RNG.standard_normal(y.shape)
        gx = conv2d_backward_input_arrays(gy, w, x.shape, stride, padding)
        gw = conv2d_backward_weight_arrays(x, gy, w.shape, stride, padding)
        assert gx.shape == x.shape and gw.shape == w.shape
        lhs = np.sum(y * gy)
        np.testing.assert_allclose(np.sum(x * gx), lhs, rtol=1e-12)
        np.testing.assert_allclose(np.sum(w * gw), lhs, rtol=1e-12)


def test_float32_stays_float32():
    x, w = mg.randn(2, 3, 6, 6), mg.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, stride=2, padding=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32
    assert F.conv_transpose2d(x, mg.randn(3, 2, 4, 4), stride=2, padding=1).dtype == np.float32


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_gradcheck_and_gradgradcheck(case):
    n, c, h, w_, o, kh, kw, stride, padding = case
    x, w, b = t64((n, c, h, w_)), t64((o, c, kh, kw)), t64((o,))
    fn = lambda x, w, b: F.conv2d(x, w, b, stride, padding)  # noqa: E731
    assert gradcheck(fn, [x, w, b])
    # squared so that the second derivative in x alone is not trivially zero
    assert gradgradcheck(lambda x, w, b: fn(x, w, b) ** 2, [x, w, b], max_elements=40)


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_conv_transpose2d_gradcheck_and_gradgradcheck(case):
    n, cin, h, w_, cout, kh, kw, stride, padding, opad = case
    x, w, b = t64((n, cin, h, w_)), t64((cin, cout, kh, kw)), t64((cout,))
    fn = lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, opad)  # noqa: E731
    assert gradcheck(fn, [x, w, b])
    assert gradgradcheck(lambda x, w, b: fn(x, w, b) ** 2, [x, w, b], max_elements=40)


def test_third_derivative_through_conv():
    """The three passes are closed under differentiation: a third-order derivative also checks out."""
    x, w = t64((1, 1, 4, 4)), t64((1, 1, 2, 2))

    def second(x, w):
        y = (F.conv2d(x, w, stride=2) ** 3).sum()
        (gx,) = mg.autograd.grad(y, [x], create_graph=True)
        (gw,) = mg.autograd.grad((gx**2).sum(), [w], create_graph=True)
        return gw

    assert gradcheck(second, [x, w])


def test_gradient_penalty_through_conv_layers():
    """WGAN-GP's shape of computation: d/dw of ||d D(x) / dx||^2 through conv -> leaky_relu -> conv."""
    x, w1, w2 = t64((2, 1, 6, 6)), t64((3, 1, 3, 3)), t64((1, 3, 4, 4))

    def penalty(x, w1, w2):
        d = F.conv2d(F.leaky_relu(F.conv2d(x, w1, stride=1, padding=1), 0.2), w2, stride=2)
        (g,) = mg.autograd.grad(d.sum(), [x], create_graph=True)
        return (g * g).sum()

    assert gradcheck(penalty, [x, w1, w2], max_elements=30)


def test_errors_name_the_problem():
    x = mg.randn(2, 3, 5, 5)
    with pytest.raises(
        ValueError, match=r"input has 3 channels but weight expects 4 \(weight shape \(8, 4, 3, 3\)\)"
    ):
        F.conv2d(x, mg.randn(8, 4, 3, 3))
    with pytest.raises(ValueError, match="expected a 4-D input"):
        F.conv2d(mg.randn(3, 5, 5), mg.randn(8, 3, 3, 3))
    with pytest.raises(ValueError, match="expected a 4-D weight"):
        F.conv2d(x, mg.randn(8, 3, 3))
    with pytest.raises(ValueError, match=r"kernel size \(8, 8\) is larger than the padded input \(7, 7\)"):
        F.conv2d(x, mg.randn(8, 3, 8, 8), padding=1)
    with pytest.raises(TypeError, match="floating-point input"):
        F.conv2d(mg.tensor(np.ones((1, 3, 4, 4), dtype=np.int64)), mg.randn(2, 3, 3, 3))
    with pytest.raises(TypeError, match="same dtype"):
        F.conv2d(x, mg.randn(2, 3, 3, 3, dtype=np.float64))
    with pytest.raises(ValueError, match=r"bias must have shape \(8,\)"):
        F.conv2d(x, mg.randn(8, 3, 3, 3), mg.randn(4))
    with pytest.raises(ValueError, match="stride must be positive"):
        F.conv2d(x, mg.randn(8, 3, 3, 3), stride=0)
    with pytest.raises(ValueError, match="output_padding .* must be smaller than stride"):
        F.conv_transpose2d(x, mg.randn(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="input has 3 channels but weight expects 2"):
        F.conv_transpose2d(x, mg.randn(2, 3, 3, 3))
