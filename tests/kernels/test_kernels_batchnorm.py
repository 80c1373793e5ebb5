"""The fused batch-norm kernels (kernels/cpu/batchnorm.py) against the NumPy formulas, for BatchNorm1d
(L == 1, the row-wise path) and BatchNorm2d shapes, float64 and float32; and the op routing through them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from minigan.kernels.cpu import batchnorm as B

import minigan as mg
import minigan.nn.functional as F
from minigan.testing import gradcheck


def numpy_forward(x3, gamma, beta, eps):
    mu = x3.mean(axis=(0, 2), keepdims=True)
    var = ((x3 - mu) ** 2).mean(axis=(0, 2), keepdims=True)
    x_hat = (x3 - mu) / np.sqrt(var + eps)
    return x_hat * gamma[None, :, None] + beta[None, :, None], x_hat, mu.ravel(), var.ravel()


def numpy_backward(gy3, x_hat3, gamma, invstd):
    m = gy3.shape[0] * gy3.shape[2]
    g_beta = gy3.sum(axis=(0, 2))
    g_gamma = (gy3 * x_hat3).sum(axis=(0, 2))
    scale = (gamma * invstd / m)[None, :, None]
    return (m * gy3 - g_beta[None, :, None] - x_hat3 * g_gamma[None, :, None]) * scale, g_gamma, g_beta


def data(n, c, ell, seed, dtype):
    rng = np.random.default_rng(seed)
    x3 = (3 * rng.standard_normal((n, c, ell)) + rng.standard_normal((1, c, 1))).astype(dtype)
    gamma, beta = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    return x3, gamma, beta, rng.standard_normal((n, c, ell)).astype(dtype)


@given(
    n=st.integers(2, 6),
    c=st.integers(1, 600),  # > 512: two channel blocks on the L == 1 path
    ell=st.sampled_from([1, 1, 3, 7]),
    seed=st.integers(0, 2**31),
)
def test_forward_and_backward_match_numpy_float64(n, c, ell, seed):
    x3, gamma, beta, gy3 = data(n, c, ell, seed, np.float64)
    y, x_hat, mean, var, invstd = B.batch_norm_forward(x3, gamma, beta, 1e-5)
    y0, x_hat0, mean0, var0 = numpy_forward(x3, gamma, beta, 1e-5)
    for got, want in ((y, y0), (x_hat, x_hat0), (mean, mean0), (var, var0)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(invstd, 1 / np.sqrt(var0 + 1e-5), rtol=1e-12)
    gx, g_gamma, g_beta = B.batch_norm_backward(gy3, x_hat, gamma, invstd, True)
    gx0, g_gamma0, g_beta0 = numpy_backward(gy3, x_hat0, gamma, invstd)
    for got, want in ((gx, gx0), (g_gamma, g_gamma0), (g_beta, g_beta0)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
    gx_none, g_gamma2, _ = B.batch_norm_backward(gy3, x_hat, gamma, invstd, False)
    assert gx_none.size == 0
    np.testing.assert_array_equal(g_gamma2, g_gamma)


@pytest.mark.parametrize("ell", [1, 49])
def test_float32_in_float32_out(ell):
    x3, gamma, beta, gy3 = data(8, 16, ell, 0, np.float32)
    y, x_hat, mean, var, invstd = B.batch_norm_forward(x3, gamma, beta, 1e-5)
    gx, g_gamma, g_beta = B.batch_norm_backward(gy3, x_hat, gamma, invstd, True)
    assert {a.dtype for a in (y, x_hat, mean, var, invstd, gx, g_gamma, g_beta)} == {np.dtype(np.float32)}
    x64 = x3.astype(np.float64)
    y0, x_hat0, _, _ = numpy_forward(x64, gamma.astype(np.float64), beta.astype(np.float64), 1e-5)
    np.testing.assert_allclose(y, y0, rtol=1e-5, atol=1e-5)


def test_batch_norm_op_uses_the_kernels_on_numpy_and_matches_the_formula():
    """F.batch_norm in training mode on a non-contiguous float64 NCHW input goes through both kernels
    (by default on the CPU), and matches the formula and finite differences."""
    import minigan.kernels as K

    calls = []
    saved = {op: K.IMPLEMENTATIONS[(op, "cpu", "kernels")] for op in K.dispatch.BATCH_NORM_OPS}
    for op, fn in saved.items():
        K.register(op, "cpu", "kernels", lambda *a, fn=fn, op=op: calls.append(op) or fn(*a))
    try:
        rng = np.random.default_rng(1)
        xs = rng.standard_normal((4, 3, 5, 6)).transpose(0, 1, 3, 2)  # not C-contiguous
        x = mg.tensor(xs, dtype=np.float64, requires_grad=True)
        w = mg.tensor(rng.standard_normal(3), dtype=np.float64, requires_grad=True)
        b = mg.tensor(rng.standard_normal(3), dtype=np.float64, requires_grad=True)
        y = F.batch_norm(x, None, None, w, b, training=True)
        y0, *_ = numpy_forward(np.ascontiguousarray(xs).reshape(4, 3, -1), w.array, b.array, 1e-5)
        np.testing.assert_allclose(y.detach().numpy().reshape(4, 3, -1), y0, rtol=1e-10, atol=1e-12)
        (y * y).sum().backward()
        assert calls == ["batch_norm_forward", "batch_norm_backward"]
    finally:
        for op, fn in saved.items():
            K.register(op, "cpu", "kernels", fn)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])


@pytest.mark.parametrize("impl", ["reference", "kernels", "vendor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_every_implementation_agrees_with_the_formula(impl, dtype):
    """The dispatched batch norm in each implementation (half precision falls back to the formula)."""
    import minigan.kernels as K

    x3, gamma, beta, gy3 = data(4, 5, 6, 0, dtype)
    x = x3.reshape(4, 5, 2, 3)
    with K.use(impl):
        y, x_hat, mean, var, invstd = K.batch_norm_forward(x, gamma, beta, 1e-5)
        gx, g_gamma, g_beta = K.batch_norm_backward(gy3.reshape(x.shape), x_hat, gamma, invstd, True)
        no_gx, *_ = K.batch_norm_backward(gy3.reshape(x.shape), x_hat, gamma, invstd, False)
    assert y.shape == x_hat.shape == gx.shape == x.shape and no_gx is None
    assert {a.dtype for a in (y, x_hat, mean, var, invstd, gx, g_gamma, g_beta)} == {np.dtype(dtype)}
    f64 = [a.astype(np.float64) for a in (x3, gamma, beta, gy3)]
    y0, x_hat0, *_ = numpy_forward(*f64[:3], 1e-5)
    invstd0 = 1 / np.sqrt(var.astype(np.float64) + 1e-5)
    gx0, g_gamma0, _ = numpy_backward(f64[3], x_hat0, f64[1], invstd0)
    tol = {np.float16: 2e-2, np.float32: 1e-4, np.float64: 1e-9}[dtype]
    for got, want in ((y.reshape(x3.shape), y0), (gx.reshape(x3.shape), gx0), (g_gamma, g_gamma0)):
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=tol, atol=tol * 10)
