"""Graph semantics of the autograd engine: reuse, accumulation, no_grad, detach, retain/create graph."""

import numpy as np
import pytest

import minigan as mg
from minigan.autograd import GraphFreedError


def t(values, **kw):
    return mg.tensor(np.asarray(values, dtype=np.float64), dtype=np.float64, requires_grad=True, **kw)


def test_reuse_accumulates_x_times_x():
    x = t([3.0, -2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.array, [6.0, -4.0])


def test_diamond_and_shared_subexpression():
    x = t(2.0)
    a = x * 3.0
    y = a * a + a  # dy/dx = (2a + 1) * 3
    y.backward()
    assert x.grad.item() == pytest.approx((2 * 6.0 + 1) * 3)


def test_grad_accumulates_across_backward_calls():
    x = t([1.0, 2.0])
    (x * 2.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.array, [5.0, 5.0])


def test_broadcast_grad_has_input_shape():
    a = t(np.ones((2, 1, 3)))
    b = t(np.ones((4, 1)))
    (a * b).sum().backward()
    assert a.grad.shape == (2, 1, 3) and b.grad.shape == (4, 1)
    np.testing.assert_allclose(a.grad.array, 4.0)
    np.testing.assert_allclose(b.grad.array, 6.0)


def test_no_grad_records_nothing():
    x = t([1.0])
    with mg.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.creator is None


def test_detach_cuts_the_graph():
    x = t([1.0, 2.0])
    y = (x.detach() * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.array, [1.0, 2.0])


def test_second_backward_without_retain_graph_raises():
    x = t([1.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = t([1.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.array, [4.0])


def test_create_graph_gives_differentiable_gradients():
    x = t(1.5)
    (g,) = mg.autograd.grad(x**3, x, create_graph=True)
    (gg,) = mg.autograd.grad(g, x)
    assert g.item() == pytest.approx(3 * 1.5**2)
    assert gg.item() == pytest.approx(6 * 1.5)


def test_grad_wrt_intermediate_tensor():
    x = t([1.0, 2.0])
    h = x * 2.0
    y = (h * h).sum()
    (gh,) = mg.autograd.grad(y, h)
    np.testing.assert_allclose(gh.array, 2 * h.array)
    assert x.grad is None


def test_grad_unused_input():
    x, z = t([1.0]), t([2.0])
    y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = mg.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx.item() == 2.0


def test_chain_of_10k_ops_has_no_recursion_error():
    x = t(1.0)
    h = x
    for _ in range(10_000):
        h = h * 1.0001
    h.backward()
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-9)


def test_backward_of_non_scalar_needs_gradient():
    x = t([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient="):
        (x * 2.0).backward()
    (x * 2.0).backward(gradient=mg.tensor([1.0, 1.0], dtype=np.float64))
    np.testing.assert_allclose(x.grad.array, [2.0, 2.0])


def test_gradient_with_wrong_shape_is_rejected():
    x = t([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2.0).backward(gradient=mg.tensor([1.0, 1.0, 1.0]))


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        mg.tensor([1, 2], requires_grad=True)


def test_shape_mismatch_names_both_shapes():
    a, b = mg.ones(2, 3), mg.ones(4)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        a + b


@pytest.mark.skipif(mg.cuda_is_available(), reason="checks the error path of machines without a GPU")
def test_cuda_without_cupy_or_gpu_says_what_to_install():
    with pytest.raises(mg.DeviceError, match=r"minigan\[cuda1[23]\]|no usable CUDA GPU"):
        mg.ones(2).to("cuda")
