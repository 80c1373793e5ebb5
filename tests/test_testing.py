"""minigan.testing: gradcheck / gradgradcheck catch wrong gradients; the strategies draw what they claim."""

import re
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.autograd import Function, Tensor
from minigan.testing import GradcheckError, gradcheck, gradgradcheck
from minigan.testing import strategies as S


def t64(values, requires_grad=True):
    return mg.tensor(np.asarray(values, dtype=np.float64), dtype=np.float64, requires_grad=requires_grad)


def numbers_in(message):
    """analytic and numeric values quoted by a GradcheckError message."""
    analytic = float(re.search(r"analytic (\S+),", message).group(1))
    numeric = float(re.search(r"numeric (\S+),", message).group(1))
    return analytic, numeric


# -- planted bugs ----------------------------------------------------------------------------------
class SquareMissingFactor(Function):
    """y = x^2 with the classic bug: backward forgets the factor 2."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * self.inputs[0]


class SquareWrongAt(Function):
    """y = x^2, correct backward except at one element (flat index ``bad``), which gets 0."""

    def __init__(self, bad):
        self.bad = bad

    def forward(self, x):
        return x * x

    def backward(self, gy):
        x = self.inputs[0]
        mask = np.ones(x.shape)
        mask.flat[self.bad] = 0.0
        return gy * 2.0 * x * mg.as_tensor(mask)


class MulForgetsSecond(Function):
    """y = a * b whose backward returns no gradient for b."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return gy * b, None


class CubeConstantInBackward(Function):
    """y = x^3 with a right first derivative but a backward that treats x^2 as a constant: its double
    backward is wrong (d/dx of 3 x^2 gy should be 6 x gy, this gives 0)."""

    def forward(self, x):
        return x**3

    def backward(self, gy):
        x = self.inputs[0]
        return gy * 3.0 * mg.as_tensor(x.array**2)


# -- gradcheck -------------------------------------------------------------------------------------
def test_gradcheck_passes_on_correct_ops():
    rng = np.random.default_rng(1)
    a = t64(rng.standard_normal((3, 4)))
    b = t64(rng.uniform(0.5, 2.0, (4,)))
    assert gradcheck(lambda a, b: (a * b / b.exp()).sum(dim=1), [a, b]) is True
    assert gradcheck(lambda a: (a.abs() + 1.5).log().sqrt(), a) is True
    assert gradcheck(lambda a, b: (a + b, a * b), [a, b]) is True  # several outputs


def test_gradcheck_passes_through_constants_and_python_numbers():
    a = t64([[1.0, 2.0], [3.0, 4.0]])
    c = t64([0.5, -1.0], requires_grad=False)
    assert gradcheck(lambda a, c, k: a * c + k, [a, c, 3.0])


def test_gradcheck_reports_planted_wrong_gradient_with_values():
    x = t64([0.5, -1.5, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: SquareMissingFactor()(x), [x])
    message = str(info.value)
    assert "input 0" in message and "element (0,)" in message and "tolerance" in message
    assert "3 of 3 checked elements" in message
    analytic, numeric = numbers_in(message)
    assert numeric == pytest.approx(2 * analytic, rel=1e-6)  # the missing factor 2, as the message shows


def test_gradcheck_names_the_exact_wrong_element():
    x = t64(np.arange(1.0, 13.0).reshape(3, 4))
    bad = np.ravel_multi_index((1, 2), (3, 4))
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(3, 4\)\) at element \(1, 2\)") as info:
        gradcheck(lambda x: SquareWrongAt(bad)(x), [x])
    assert "1 of 12 checked elements" in str(info.value)
    analytic, numeric = numbers_in(str(info.value))
    assert analytic == 0.0 and abs(numeric) > 1e-3


def test_gradcheck_names_the_input_index_of_a_missing_gradient():
    a, b = t64([1.0, 2.0]), t64([3.0, -4.0])
    with pytest.raises(GradcheckError, match=r"input 1 .* analytic 0,"):
        gradcheck(lambda a, b: MulForgetsSecond()(a, b), [a, b])


def test_gradcheck_catches_an_accidental_detach():
    x = t64([1.0, -2.0, 0.5])
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: x * x.detach(), [x])


def test_gradcheck_catches_a_wrong_second_output():
    x = t64([1.0, 2.0])
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: (x * 3.0, SquareMissingFactor()(x)), [x])


def test_gradcheck_rejects_float32_inputs_and_outputs():
    with pytest.raises(TypeError, match=r"input 0 has dtype float32.*float64"):
        gradcheck(lambda x: x * x, [mg.tensor([1.0, 2.0], requires_grad=True)])
    x = t64([1.0, 2.0])
    with pytest.raises(TypeError, match=r"output 0 has dtype float32"):
        gradcheck(lambda x: x.to(dtype=np.float32), [x])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * 2.0, [t64([1.0], requires_grad=False)])


def test_gradcheck_checks_the_gradient_shape(monkeypatch):
    module = sys.modules["minigan.testing.gradcheck"]
    x = t64([[1.0, 2.0]])
    monkeypatch.setattr(module.engine, "grad", lambda *a, **k: (mg.as_tensor(np.ones(2)),))
    with pytest.raises(GradcheckError, match=r"gradient of input 0 has shape \(2,\).*\(1, 2\)"):
        gradcheck(lambda x: x * 2.0, [x])


def test_gradcheck_subsamples_large_inputs_and_still_catches_bugs():
    rng = np.random.default_rng(0)
    x = t64(rng.uniform(1.0, 2.0, 5000))
    calls = []

    def f(x):
        calls.append(1)
        return x * x

    assert gradcheck(f, [x], max_elements=7)
    assert len(calls) == 1 + 2 * 7  # one analytic pass, two evaluations per checked element
    with pytest.raises(GradcheckError, match="7 of 7 checked"):
        gradcheck(lambda x: SquareMissingFactor()(x), [x], max_elements=7)


def test_gradcheck_leaves_inputs_untouched():
    x = t64([1.0, 2.0, 3.0])
    before = x.array.copy()
    gradcheck(lambda x: x.exp(), [x])
    np.testing.assert_array_equal(x.array, before)
    assert x.grad is None


# -- gradgradcheck ---------------------------------------------------------------------------------
def test_gradgradcheck_passes_on_correct_double_backward():
    a = t64([[0.5, -1.0, 2.0]])
    b = t64([[1.5], [0.7]])
    assert gradgradcheck(lambda a, b: (a * b).exp() / (b * b + 1.0), [a, b])
    assert gradgradcheck(lambda a: a**3, [a], grad_outputs=[t64([[1.0, 2.0, 3.0]])])


def test_gradgradcheck_catches_wrong_double_backward_that_gradcheck_misses():
    x = t64([0.5, 1.5, -2.0])
    assert gradcheck(lambda x: CubeConstantInBackward()(x), [x])  # first derivatives are right
    with pytest.raises(GradcheckError, match=r"gradgradcheck \(second derivatives.*input 0"):
        gradgradcheck(lambda x: CubeConstantInBackward()(x), [x])


def test_gradgradcheck_validates_grad_outputs():
    x = t64([1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2,\)"):
        gradgradcheck(lambda x: x * x, [x], grad_outputs=[t64([1.0, 2.0, 3.0])])


# -- strategies ------------------------------------------------------------------------------------
@given(S.shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
def test_shapes_respect_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(2 <= n <= 3 for n in shape)


@given(S.broadcastable_shapes(num_shapes=3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)


@given(S.arrays(S.shapes(min_dims=1), layout="noncontiguous"))
def test_noncontiguous_arrays_are_really_noncontiguous(a):
    assert a.size == 1 or not a.flags.c_contiguous
    assert np.isfinite(a).all()  # NaN filler of strided buffers is never visible


@given(S.arrays(S.shapes(min_dims=2, min_side=2)), st.sampled_from(S.LAYOUTS), st.integers(0, 5))
def test_every_layout_keeps_shape_and_values(a, kind, axis):
    b = S.as_layout(a, kind, axis=axis)
    assert b.shape == a.shape and not b.flags.c_contiguous
    np.testing.assert_array_equal(a, b)


@given(S.tensors(S.shapes(min_dims=2, min_side=2), layout="transposed", requires_grad=True))
def test_tensors_keep_the_layout(x):
    assert isinstance(x, Tensor) and x.requires_grad and not x.array.flags.c_contiguous


@given(S.arrays(avoid=(0.0, 1.0), margin=0.1))
def test_avoid_keeps_values_away_from_points(a):
    assert (np.abs(a) >= 0.1).all() and (np.abs(a - 1.0) >= 0.1).all()


@given(S.arrays(positive=True, margin=0.2), S.arrays(min_abs=0.5, max_value=1.0))
def test_positive_and_min_abs(a, b):
    assert (a >= 0.2).all()
    assert (np.abs(b) >= 0.5).all() and (b <= 1.0).all()


@given(S.arrays(S.shapes(min_dims=1, max_side=5), distinct=True, min_gap=0.05))
def test_distinct_values_are_separated(a):
    flat = np.sort(a.ravel())
    assert (np.diff(flat) >= 0.05 - 1e-12).all()


@given(S.arrays(dtype=np.float32))
def test_arrays_take_the_dtype(a):
    assert a.dtype == np.float32


@given(S.matmul_shapes())
def test_matmul_shapes_are_valid_for_numpy_matmul(shapes):
    a, b = shapes
    np.matmul(np.zeros(a), np.zeros(b))


def test_matmul_shapes_cover_the_1d_and_batched_cases():
    seen = set()

    @given(S.matmul_shapes())
    def collect(shapes):
        a, b = shapes
        seen.add((len(a) == 1, len(b) == 1))
        seen.add("batched" if max(len(a), len(b)) > 2 else "matrix")

    collect()
    assert {(True, True), (True, False), (False, True), (False, False), "batched", "matrix"} <= seen


@given(st.data())
def test_index_arrays_are_valid_and_may_repeat(data):
    shape = data.draw(S.shapes(min_dims=1))
    dim = data.draw(st.integers(0, len(shape) - 1))
    idx = data.draw(S.index_arrays(shape, dim=dim))
    assert idx.dtype == np.int64
    assert ((-shape[dim] <= idx) & (idx < shape[dim])).all()
    np.take(np.zeros(shape), idx, axis=dim)


@given(S.index_arrays(3, min_len=5, max_len=5, allow_negative=False))
def test_index_arrays_without_negatives_repeat_by_pigeonhole(idx):
    assert (idx >= 0).all() and len(np.unique(idx)) < len(idx)
