"""Property tests over the op registry: every registered op against its NumPy reference, gradcheck,
gradgradcheck, gradient shapes, non-contiguous inputs and float32 dtype preservation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.testing import gradcheck, gradgradcheck
from minigan.testing import strategies as S

from .registry import REGISTRY

each_op = pytest.mark.parametrize("spec", REGISTRY, ids=lambda spec: spec.name)


def as_tuple(out):
    return tuple(out) if isinstance(out, tuple) else (out,)


def tensors(arrays, requires_grad=False):
    return [mg.as_tensor(a).requires_grad_(requires_grad) for a in arrays]


def call(spec, case, xs):
    return as_tuple(spec.fn(*xs, **case.kwargs))


def grads_of(spec, case, xs, seed=0):
    """Gradients of sum_k <v_k, y_k> (fixed random v) wrt xs, through .backward() into .grad."""
    rng = np.random.default_rng(seed)
    outs = [y for y in call(spec, case, xs) if y.dtype.kind == "f" and y.requires_grad]
    if not outs:
        return [None] * len(xs)
    total = None
    for y in outs:
        v = mg.as_tensor(rng.standard_normal(y.shape).astype(y.dtype))
        term = (y * v).sum()
        total = term if total is None else total + term
    total.backward()
    return [x.grad for x in xs]


@each_op
@given(data=st.data())
def test_forward_matches_numpy_reference(spec, data):
    case = data.draw(spec.cases)
    outs = call(spec, case, tensors(case.arrays))
    refs = as_tuple(spec.ref(*case.arrays, **case.kwargs))
    assert len(outs) == len(refs)
    for y, r in zip(outs, refs):
        r = np.asarray(r)
        assert y.shape == r.shape, f"{spec.name}: shape {y.shape}, reference {r.shape}"
        if r.dtype.kind == "f":
            assert y.dtype == np.float64
            np.testing.assert_allclose(y.array, r, rtol=1e-10, atol=1e-12)
        else:
            np.testing.assert_array_equal(y.array, r)


@each_op
@given(data=st.data())
def test_gradcheck(spec, data):
    case = data.draw(spec.cases)
    assert gradcheck(lambda *xs: spec.fn(*xs, **case.kwargs), tensors(case.arrays, requires_grad=True))


@each_op
@given(data=st.data())
def test_gradgradcheck(spec, data):
    case = data.draw(spec.cases)
    xs = tensors(case.arrays, requires_grad=True)
    if not any(y.dtype.kind == "f" and y.requires_grad for y in call(spec, case, xs)):
        return  # e.g. an empty selection: no output carries a graph
    assert gradgradcheck(lambda *xs: spec.fn(*xs, **case.kwargs), xs)


@each_op
@given(data=st.data())
def test_backward_gives_each_input_a_gradient_of_its_shape(spec, data):
    case = data.draw(spec.cases)
    xs = tensors(case.arrays, requires_grad=True)
    for x, g in zip(xs, grads_of(spec, case, xs)):
        if g is not None:
            assert g.shape == x.shape and g.dtype == x.dtype


@each_op
@given(data=st.data())
def test_noncontiguous_inputs_give_the_same_values_and_gradients(spec, data):
    case = data.draw(spec.cases)
    views = []
    for a in case.arrays:
        kind = data.draw(st.sampled_from(S.LAYOUTS))
        perm = data.draw(st.permutations(range(a.ndim)))
        views.append(S.as_layout(a, kind, axis=data.draw(st.integers(0, 3)), perm=perm))
    for a, v in zip(case.arrays, views):
        np.testing.assert_array_equal(a, v)
    plain, strided = tensors(case.arrays, True), tensors(views, True)
    for y, z in zip(call(spec, case, plain), call(spec, case, strided)):
        np.testing.assert_allclose(z.array, y.array, rtol=1e-12, atol=1e-12)
    for g, h in zip(grads_of(spec, case, plain), grads_of(spec, case, strided)):
        assert (g is None) == (h is None)
        if g is not None:
            np.testing.assert_allclose(h.array, g.array, rtol=1e-12, atol=1e-12)


def _to32(value):
    return value.astype(np.float32) if isinstance(value, np.ndarray) and value.dtype.kind == "f" else value


@each_op
@given(data=st.data())
def test_float32_inputs_stay_float32(spec, data):
    case = data.draw(spec.cases)
    case32 = type(case)(tuple(_to32(a) for a in case.arrays), {k: _to32(v) for k, v in case.kwargs.items()})
    xs = tensors(case32.arrays, requires_grad=True)
    refs = as_tuple(spec.ref(*case.arrays, **case.kwargs))
    for y, r in zip(call(spec, case32, xs), refs):
        if y.dtype.kind == "f":
            assert y.dtype == np.float32, f"{spec.name} returned {y.dtype} for float32 inputs"
            tol = spec.float32_tol
            np.testing.assert_allclose(y.array, np.asarray(r), rtol=tol, atol=tol)
    for g in grads_of(spec, case32, xs):
        if g is not None:
            assert g.dtype == np.float32
