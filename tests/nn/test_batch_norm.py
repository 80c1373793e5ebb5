"""batch_norm and BatchNorm1d/2d: values and running statistics vs NumPy formulas, eval mode, first and
second derivatives, the two backward paths agreeing, errors."""

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
import minigan.nn.functional as F
from minigan.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(3)


def t64(a, requires_grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), dtype=np.float64, requires_grad=requires_grad)


def numpy_batch_norm(x, gamma, beta, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 5)])
def test_training_normalises_and_updates_running_stats(shape):
    c = shape[1]
    x, gamma, beta = RNG.standard_normal(shape) * 3 + 1, RNG.standard_normal(c), RNG.standard_normal(c)
    rm, rv = t64(RNG.standard_normal(c)), t64(RNG.random(c) + 0.5)
    rm0, rv0 = rm.array.copy(), rv.array.copy()
    y = F.batch_norm(t64(x), rm, rv, t64(gamma), t64(beta), training=True, momentum=0.3, eps=1e-3)
    np.testing.assert_allclose(y.array, numpy_batch_norm(x, gamma, beta, 1e-3), atol=1e-12)
    axes = (0,) + tuple(range(2, x.ndim))
    np.testing.assert_allclose(rm.array, 0.7 * rm0 + 0.3 * x.mean(axis=axes), atol=1e-12)
    np.testing.assert_allclose(rv.array, 0.7 * rv0 + 0.3 * x.var(axis=axes, ddof=1), atol=1e-12)  # unbiased


def test_eval_uses_running_stats():
    x, rm, rv = RNG.standard_normal((5, 3, 2, 2)), RNG.standard_normal(3), RNG.random(3) + 0.5
    gamma, beta = RNG.standard_normal(3), RNG.standard_normal(3)
    y = F.batch_norm(t64(x), t64(rm), t64(rv), t64(gamma), t64(beta), training=False, eps=1e-5)
    s = (1, 3, 1, 1)
    expected = (x - rm.reshape(s)) / np.sqrt(rv.reshape(s) + 1e-5) * gamma.reshape(s) + beta.reshape(s)
    np.testing.assert_allclose(y.array, expected, atol=1e-12)
    # no affine parameters: plain standardisation by the running statistics
    y = F.batch_norm(t64(x), t64(rm), t64(rv), training=False)
    np.testing.assert_allclose(y.array, (x - rm.reshape(s)) / np.sqrt(rv.reshape(s) + 1e-5), atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 2, 3)])
def test_training_mode_gradcheck_and_gradgradcheck(shape):
    c = shape[1]
    x = t64(RNG.standard_normal(shape), True)
    gamma, beta = t64(RNG.standard_normal(c), True), t64(RNG.standard_normal(c), True)
    fn = lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-3)  # noqa: E731
    assert gradcheck(fn, [x, gamma, beta])
    # y^2 makes the second derivative in x alone non-trivial (R1 / WGAN-GP through batch norm)
    assert gradgradcheck(lambda x, g, b: fn(x, g, b) ** 2, [x, gamma, beta])


def test_eval_mode_gradcheck_and_gradgradcheck():
    x = t64(RNG.standard_normal((4, 3, 2, 2)), True)
    gamma, beta = t64(RNG.standard_normal(3), True), t64(RNG.standard_normal(3), True)
    rm, rv = t64(RNG.standard_normal(3)), t64(RNG.random(3) + 0.5)
    fn = lambda x, g, b: F.batch_norm(x, rm, rv, g, b, training=False) ** 2  # noqa: E731
    assert gradcheck(fn, [x, gamma, beta])
    assert gradgradcheck(fn, [x, gamma, beta])


def test_fast_and_recorded_backward_paths_agree():
    """backward() uses saved arrays; create_graph=True recomputes x_hat with ops. Same numbers."""
    x = t64(RNG.standard_normal((6, 4, 3, 3)), True)
    gamma, beta = t64(RNG.standard_normal(4), True), t64(RNG.standard_normal(4), True)
    gy = t64(RNG.standard_normal((6, 4, 3, 3)))
    plain = mg.autograd.grad(F.batch_norm(x, None, None, gamma, beta, True), [x, gamma, beta], gy)
    recorded = mg.autograd.grad(
        F.batch_norm(x, None, None, gamma, beta, True), [x, gamma, beta], gy, create_graph=True
    )
    for a, b in zip(plain, recorded):
        np.testing.assert_allclose(a.array, b.array, rtol=1e-10, atol=1e-12)
    assert recorded[0].requires_grad and not plain[0].requires_grad


def test_float32_stays_float32_and_stats_stay_in_place():
    bn = nn.BatchNorm2d(3)
    rm = bn.running_mean.array
    y = bn(mg.randn(4, 3, 2, 2))
    assert y.dtype == np.float32 and bn.running_mean.array is rm and rm.dtype == np.float32
    assert not bn.running_mean.requires_grad


def test_module_counts_batches_and_switches_modes():
    mg.manual_seed(0)
    bn = nn.BatchNorm1d(2, momentum=None)  # cumulative average
    batches = [mg.randn(8, 2) * 2 + 1 for _ in range(3)]
    for b in batches:
        bn(b)
    assert int(bn.num_batches_tracked.item()) == 3
    means = np.stack([b.array.mean(axis=0) for b in batches])
    np.testing.assert_allclose(bn.running_mean.array, means.mean(axis=0), rtol=1e-5, atol=1e-6)
    bn.eval()
    x = mg.randn(1, 2)  # one sample is fine in eval mode
    expected = (x.array - bn.running_mean.array) / np.sqrt(bn.running_var.array + bn.eps)
    np.testing.assert_allclose(bn(x).array, expected, rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked.item()) == 3


def test_without_running_stats_uses_batch_stats_in_eval_too():
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert list(bn.state_dict()) == []
    x = RNG.standard_normal((3, 2, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(
        bn(mg.tensor(x)).array, numpy_batch_norm(x, np.ones(2), np.zeros(2), 1e-5), atol=1e-5
    )


def test_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(mg.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(mg.randn(2, 3), mg.zeros(4), mg.ones(3))
    with pytest.raises(ValueError, match="needs running_mean and running_var"):
        F.batch_norm(mg.randn(2, 3), None, None, training=False)
    with pytest.raises(ValueError, match="BatchNorm2d: expected 4-D input, got shape"):
        nn.BatchNorm2d(3)(mg.randn(2, 3))
    with pytest.raises(ValueError, match="BatchNorm1d: expected 2-D or 3-D input"):
        nn.BatchNorm1d(3)(mg.randn(2, 3, 1, 1))
