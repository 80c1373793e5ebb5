"""WGAN-GP and R1: values by hand, gradients through the penalty (double backward) by finite differences,
and WGAN-GP's interpolation weight drawn once per sample."""

import numpy as np
import pytest

import minigan as mg
from minigan.gan import penalties
from minigan.testing import gradcheck

rng = np.random.default_rng(0)


def t64(a, grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), dtype=np.float64, requires_grad=grad)


def tiny_d(w1, b1, w2):
    """d(x) = tanh(x w1 + b1) w2: a nonlinear D, so the penalty's gradient involves second derivatives."""
    return lambda x: ((x @ w1) + b1).tanh() @ w2


def test_r1_linear_d_by_hand():
    w = t64([[0.5], [-2.0]], grad=True)
    x = t64(rng.standard_normal((4, 2)))
    pen = penalties.r1_penalty(lambda x: x @ w, x, gamma=3.0)
    # grad_x d = w^T for every sample: gamma/2 * ||w||^2
    assert pen.item() == pytest.approx(1.5 * (0.25 + 4.0))
    pen.backward()
    np.testing.assert_allclose(w.grad.array, 3.0 * w.array)  # d/dw gamma/2 ||w||^2 = gamma w


def test_r1_returns_the_forward_output():
    w = t64([[1.0], [1.0]], grad=True)
    x = t64([[1.0, 2.0]])
    pen, out = penalties.r1_penalty(lambda x: x @ w, x, gamma=1.0, return_output=True)
    assert out.shape == (1, 1) and out.item() == pytest.approx(3.0) and out.requires_grad


def test_r1_gradient_wrt_d_parameters_gradcheck():
    x = t64(rng.standard_normal((5, 3)))
    params = [t64(rng.standard_normal((3, 4)), True), t64(rng.standard_normal(4), True)]
    params.append(t64(rng.standard_normal((4, 1)), True))
    assert gradcheck(lambda w1, b1, w2: penalties.r1_penalty(tiny_d(w1, b1, w2), x, gamma=2.0), params)


def test_wgan_gp_by_hand_with_given_alpha():
    # d(x) = c * sum(x^2): grad = 2 c x_hat, norm = 2 c ||x_hat||
    c = 0.7
    real = t64([[1.0, 0.0], [0.0, 2.0]])
    fake = t64([[3.0, 0.0], [0.0, 0.0]])
    alpha = t64([[0.25], [0.5]])
    pen = penalties.gradient_penalty(lambda x: c * (x * x).sum(dim=1), real, fake, lam=10.0, alpha=alpha)
    x_hat = np.array([[0.25 * 1 + 0.75 * 3, 0.0], [0.0, 0.5 * 2]])
    norms = 2 * c * np.linalg.norm(x_hat, axis=1)
    assert pen.item() == pytest.approx(10.0 * np.mean((norms - 1.0) ** 2), rel=1e-9)


def test_wgan_gp_gradient_wrt_d_parameters_gradcheck():
    real = t64(rng.standard_normal((4, 3)))
    fake = t64(rng.standard_normal((4, 3)))
    alpha = t64(rng.random((4, 1)))
    params = [t64(rng.standard_normal((3, 4)), True), t64(rng.standard_normal(4), True)]
    params.append(t64(rng.standard_normal((4, 1)), True))

    def fn(w1, b1, w2):
        return penalties.gradient_penalty(tiny_d(w1, b1, w2), real, fake, lam=10.0, alpha=alpha)

    assert gradcheck(fn, params)


def test_wgan_gp_draws_one_alpha_per_sample_for_images():
    real = t64(rng.standard_normal((3, 2, 4, 4)))
    fake = t64(rng.standard_normal((3, 2, 4, 4)))
    seen = {}

    def D(x):
        seen["x_hat"] = x.array.copy()
        return (x * x).sum(dim=(1, 2, 3)).reshape(-1, 1)

    mg.manual_seed(0)
    penalties.gradient_penalty(D, real, fake)
    # x_hat = fake + alpha (real - fake): the ratio is one alpha per image, the same for all its pixels
    ratio = (seen["x_hat"] - fake.array) / (real.array - fake.array)
    per_sample = ratio.reshape(3, -1)
    np.testing.assert_allclose(per_sample, per_sample[:, :1] * np.ones((1, 32)), rtol=1e-9, atol=1e-12)
    assert len(np.unique(np.round(per_sample[:, 0], 12))) == 3  # different samples, different alphas
    assert ((per_sample >= 0) & (per_sample <= 1)).all()


def test_wgan_gp_rejects_per_element_alpha_and_mismatched_batches():
    real = t64(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"one per sample"):
        penalties.gradient_penalty(lambda x: x.sum(dim=1), real, real, alpha=t64(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="same shape"):
        penalties.gradient_penalty(lambda x: x.sum(dim=1), real, t64(np.zeros((3, 3))))


def test_penalties_leave_inputs_untouched():
    x = t64(rng.standard_normal((3, 2)))
    w = t64([[1.0], [2.0]], grad=True)
    penalties.r1_penalty(lambda x: x @ w, x).backward()
    assert not x.requires_grad and x.grad is None
