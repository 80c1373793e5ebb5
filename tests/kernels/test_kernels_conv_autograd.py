"""Convolutions through minigan's autograd on every CPU implementation of kernels.dispatch: first and
second derivatives of F.conv2d and F.conv_transpose2d against float64 finite differences, and a matmul
routed through the kernels. (File named test_conv_autograd in the issue; prefixed like its neighbours.)"""

import minigan.kernels as K
import numpy as np
import pytest

import minigan as mg
import minigan.nn.functional as F
from minigan.testing import gradcheck, gradgradcheck


def tensors(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.standard_normal(s), dtype=np.float64, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("impl", K.IMPLS)
@pytest.mark.parametrize(
    "shape_x, shape_w, stride, padding",
    [
        ((2, 2, 5, 5), (3, 2, 3, 3), 1, 1),
        ((1, 3, 6, 5), (2, 3, 4, 4), 2, 1),
        ((2, 1, 4, 4), (2, 1, 1, 1), (2, 1), 0),
        ((1, 4, 6, 6), (3, 4, 4, 4), 2, 1),  # C*kh*kw = 64, C = 4: the packed family's dot / sub-pixel paths
    ],
)
def test_conv2d_first_and_second_derivatives(impl, shape_x, shape_w, stride, padding):
    x, w, b = tensors(shape_x, shape_w, (shape_w[0],))
    fn = lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding)
    with K.use(impl):
        assert gradcheck(fn, [x, w, b])
        assert gradgradcheck(fn, [x, w, b])


@pytest.mark.parametrize("impl", K.IMPLS)
@pytest.mark.parametrize("c_out", [2, 4])  # 4: the packed family's sub-pixel path
def test_conv_transpose2d_first_and_second_derivatives(impl, c_out):
    x, w = tensors((2, 3, 3, 3), (3, c_out, 4, 4), seed=1)
    fn = lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    with K.use(impl):
        assert fn(x, w).shape == (2, c_out, 7, 7)
        assert gradcheck(fn, [x, w])
        assert gradgradcheck(fn, [x, w])


def test_the_implementations_agree_through_minigan():
    """The same float32 forward + backward through minigan on each implementation."""
    rng = np.random.default_rng(2)
    xs, ws = rng.standard_normal((4, 3, 8, 8)), rng.standard_normal((5, 3, 4, 4))
    results = {}
    for impl in K.IMPLS:
        x = mg.tensor(xs.astype(np.float32), requires_grad=True)
        w = mg.tensor(ws.astype(np.float32), requires_grad=True)
        with K.use(impl):
            y = F.conv2d(x, w, stride=2, padding=1)
            (y * y).sum().backward()
        results[impl] = (y.detach().numpy(), x.grad.numpy(), w.grad.numpy())
    for impl in ("kernels", "vendor"):
        for got, want in zip(results[impl], results["reference"]):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3 * np.abs(want).max())


def test_matmul_through_minigan_uses_the_kernels():
    a, b = tensors((5, 7), (7, 3), seed=3)
    with K.use("kernels"):
        assert gradcheck(lambda a, b: a @ b, [a, b])
        assert gradgradcheck(lambda a, b: a @ b, [a, b])
