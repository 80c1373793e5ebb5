"""Hand-picked cases the property tests cannot reach: extreme logits, ties, repeated indices, torch.matmul's
1-D rules, cross-entropy by hand, namedtuples, comparisons and argmax."""

import importlib
import math
import warnings

import numpy as np
import pytest

import minigan as mg
from minigan.ops.reduce import ValuesIndices

# the module, not the function minigan.ops.matmul that the package exports under the same name
matmul_module = importlib.import_module("minigan.ops.matmul")


def t64(values, requires_grad=True):
    return mg.tensor(np.asarray(values, dtype=np.float64), dtype=np.float64, requires_grad=requires_grad)


# -- numerical stability ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsigmoid_and_sigmoid_are_finite_at_1e4(dtype):
    x = mg.tensor([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in exp, no log(0)
        y = mg.logsigmoid(x)
        s = mg.sigmoid(x)
        y.sum().backward()
    assert y.dtype == dtype and np.isfinite(y.array).all()
    np.testing.assert_allclose(y.array, [-1e4, -50.0, -math.log(2.0), 0.0, 0.0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s.array, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(x.grad.array, [1.0, 1.0, 0.5, 0.0, 0.0], atol=1e-6)  # sigmoid(-x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_finite_and_exact_at_1e4(dtype):
    x = mg.tensor([1e4, -1e4, 1e4, -1e4], dtype=dtype, requires_grad=True)
    t = mg.tensor([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = mg.binary_cross_entropy_with_logits(x, t, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.array, [1e4, 1e4, 0.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(x.grad.array, [1.0, -1.0, 0.0, 0.0], atol=1e-6)  # sigmoid(x) - t


def test_bce_with_logits_pos_weight_matches_formula():
    x, t = t64([0.3, -1.2]), t64([1.0, 0.0], requires_grad=False)
    pw = t64([3.0, 3.0], requires_grad=False)
    loss = mg.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="none")
    p = 1 / (1 + np.exp(-x.array))
    np.testing.assert_allclose(loss.array, [-3.0 * np.log(p[0]), -np.log(1 - p[1])])


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = t64([0.0, 1.0, 0.5])
    t = t64([1.0, 0.0, 1.0], requires_grad=False)
    loss = mg.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_allclose(loss.array, [100.0, 100.0, math.log(2.0)])
    loss.sum().backward()
    assert np.isfinite(p.grad.array).all()


def test_softplus_linear_branch_and_beta():
    x = t64([30.0, 1.0, -2.0])
    y = mg.softplus(x, beta=2.0, threshold=20.0)  # beta * x = 60 > 20: linear
    np.testing.assert_allclose(y.array, [30.0, np.log1p(np.exp(2.0)) / 2, np.log1p(np.exp(-4.0)) / 2])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, [1.0, 1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(4.0))])


def test_log_softmax_survives_huge_logits():
    x = t64([[1000.0, 0.0, -1000.0]])
    y = mg.log_softmax(x, dim=1)
    np.testing.assert_allclose(y.array, [[0.0, -1000.0, -2000.0]])
    np.testing.assert_allclose(mg.softmax(x, dim=1).array, [[1.0, 0.0, 0.0]])


# -- ties and indices ------------------------------------------------------------------------------
def test_max_without_dim_splits_the_gradient_among_ties():
    x = t64([[1.0, 3.0], [3.0, 2.0]])
    y = x.max()
    assert y.shape == () and y.item() == 3.0
    y.backward()
    np.testing.assert_allclose(x.grad.array, [[0.0, 0.5], [0.5, 0.0]])


def test_amax_over_a_dim_splits_ties_per_slice():
    x = t64([[2.0, 2.0, 2.0], [1.0, 5.0, 5.0]])
    mg.amax(x, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.array, [[1 / 3, 1 / 3, 1 / 3], [0.0, 0.5, 0.5]])


def test_min_and_amin_ties():
    x = t64([4.0, -1.0, -1.0])
    x.min().backward()
    np.testing.assert_allclose(x.grad.array, [0.0, 0.5, 0.5])


def test_max_with_dim_returns_values_and_indices_and_grads_the_index():
    x = t64([[1.0, 7.0, 7.0], [4.0, 0.0, 4.0]])
    out = x.max(dim=1)
    assert isinstance(out, ValuesIndices)
    values, indices = out
    np.testing.assert_array_equal(out.values.array, [7.0, 4.0])
    np.testing.assert_array_equal(out.indices.array, [1, 0])  # first maximum, as argmax
    assert indices.dtype == np.int64 and not indices.requires_grad and indices.creator is None
    values.sum().backward()
    np.testing.assert_allclose(x.grad.array, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    kept = x.min(1, keepdim=True)
    assert kept.values.shape == (2, 1) and kept.indices.shape == (2, 1)


def test_maximum_ties_share_the_gradient():
    a, b = t64([1.0, 2.0, 3.0]), t64([1.0, 5.0, 0.0])
    mg.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.array, [0.5, 0.0, 1.0])
    np.testing.assert_allclose(b.grad.array, [0.5, 1.0, 0.0])
    assert mg.max(a, b).shape == (3,)  # torch.max(a, b) is elementwise


def test_repeated_integer_indices_accumulate():
    x = t64([10.0, 20.0, 30.0])
    idx = mg.tensor([0, 2, 0, 0])
    y = x[idx]
    np.testing.assert_array_equal(y.array, [10.0, 30.0, 10.0, 10.0])
    y.backward(mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=np.float64))
    np.testing.assert_allclose(x.grad.array, [8.0, 0.0, 2.0])


def test_repeated_index_pairs_accumulate_in_2d():
    x = t64(np.zeros((2, 3)))
    rows, cols = np.array([1, 1, 0, 1]), np.array([2, 2, 0, 2])
    x[rows, cols].sum().backward()
    np.testing.assert_allclose(x.grad.array, [[1.0, 0.0, 0.0], [0.0, 0.0, 3.0]])


def test_boolean_mask_and_mixed_index():
    x = t64(np.arange(12.0).reshape(3, 4))
    mask = x.detach() > 6.0
    np.testing.assert_array_equal(x[mask].array, np.arange(7.0, 12.0))
    y = x[None, ..., [3, 3]]
    assert y.shape == (1, 3, 2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array[:, 3], [2.0, 2.0, 2.0])


def test_int_index_of_a_vector_gives_a_0d_tensor():
    x = t64([1.0, 2.0])
    y = x[1]
    assert y.shape == () and isinstance(y.array, np.ndarray)


def test_iteration_yields_differentiable_rows():
    x = t64([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert len(rows) == 2 and rows[1].shape == (2,)
    (rows[0] * rows[1]).sum().backward()
    np.testing.assert_allclose(x.grad.array, [[3.0, 4.0], [1.0, 2.0]])


# -- matmul ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sa, sb, out",
    [
        ((3,), (3,), ()),
        ((3,), (3, 4), (4,)),
        ((3,), (2, 3, 4), (2, 4)),
        ((2, 3), (3,), (2,)),
        ((5, 2, 3), (3,), (5, 2)),
        ((2, 1, 2, 3), (4, 3, 2), (2, 4, 2, 2)),
    ],
)
def test_matmul_follows_torch_shape_rules(sa, sb, out):
    rng = np.random.default_rng(0)
    a, b = t64(rng.standard_normal(sa)), t64(rng.standard_normal(sb))
    y = a @ b
    assert y.shape == out
    np.testing.assert_allclose(y.array, np.matmul(a.array, b.array))
    y.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb


def test_matmul_error_names_both_shapes_and_the_inner_dimensions():
    with pytest.raises(ValueError, match=r"^matmul: \(2, 3\) @ \(4, 5\): inner dimensions 3 and 4 differ$"):
        mg.ones(2, 3) @ mg.ones(4, 5)
    with pytest.raises(ValueError, match=r"batch dimensions \(2,\) and \(3,\) do not broadcast"):
        mg.ones(2, 2, 3) @ mg.ones(3, 3, 2)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        mg.ones(3) @ mg.tensor(2.0)


def test_matmul_routes_every_product_through_matmul_arrays(monkeypatch):
    calls = []
    original = matmul_module.matmul_arrays

    def spy(a, b):
        calls.append((a.shape, b.shape))
        return original(a, b)

    monkeypatch.setattr(matmul_module, "matmul_arrays", spy)
    a, b = t64(np.ones((2, 3))), t64(np.ones((3, 4)))
    (a @ b).sum().backward()
    assert calls == [((2, 3), (3, 4)), ((2, 4), (4, 3)), ((3, 2), (2, 4))]


def test_rmatmul_with_a_numpy_array():
    w = t64(np.eye(2) * 2.0)
    y = np.ones((1, 2)) @ w
    assert isinstance(y, mg.Tensor)
    np.testing.assert_allclose(y.array, [[2.0, 2.0]])


# -- losses by hand --------------------------------------------------------------------------------
def test_cross_entropy_against_a_hand_computation():
    logits = t64([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    target = mg.tensor([2, 0])
    first = -(3.0 - math.log(math.e + math.e**2 + math.e**3))
    second = math.log(3.0)
    loss = mg.cross_entropy(logits, target)
    assert loss.item() == pytest.approx((first + second) / 2, rel=1e-12)
    loss.backward()
    p = np.exp(logits.array) / np.exp(logits.array).sum(1, keepdims=True)
    np.testing.assert_allclose(logits.grad.array, (p - np.eye(3)[[2, 0]]) / 2)


def test_cross_entropy_weights_and_ignore_index():
    logits = t64([[0.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    target = mg.tensor([0, 1, -100])
    weight = t64([1.0, 3.0], requires_grad=False)
    loss = mg.cross_entropy(logits, target, weight=weight)
    assert loss.item() == pytest.approx(math.log(2.0))  # (1 + 3) log 2 / (1 + 3); row 2 ignored
    assert mg.cross_entropy(logits, target, reduction="none").array[2] == 0.0


def test_variance_defaults_to_unbiased_like_torch():
    x = t64([1.0, 2.0, 4.0])
    assert x.var().item() == pytest.approx(np.var(x.array, ddof=1))
    assert mg.var(x, False).item() == pytest.approx(np.var(x.array))
    assert x.var(unbiased=False).item() == pytest.approx(np.var(x.array))
    assert x.std(correction=0).item() == pytest.approx(np.std(x.array))
    assert math.isnan(t64([1.0]).var().item())


def test_astype_sends_the_gradient_back_in_the_input_dtype():
    x = t64([1.0, 2.0])
    y = x.to(dtype=np.float32) * 3.0
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.array, [3.0, 3.0])


# -- comparisons, argmax, where --------------------------------------------------------------------
def test_comparisons_return_bool_tensors_without_graph():
    a, b = t64([1.0, 2.0, 3.0]), t64([[2.0], [1.0]])
    for op, ref in [
        (lambda u, v: u < v, np.less),
        (lambda u, v: u <= v, np.less_equal),
        (lambda u, v: u > v, np.greater),
        (lambda u, v: u >= v, np.greater_equal),
        (lambda u, v: u == v, np.equal),
        (lambda u, v: u != v, np.not_equal),
    ]:
        y = op(a, b)
        assert y.dtype == np.bool_ and not y.requires_grad and y.creator is None
        np.testing.assert_array_equal(y.array, ref(a.array, b.array))
    np.testing.assert_array_equal((a > 1.5).array, [False, True, True])
    np.testing.assert_array_equal((2.0 < a).array, [False, False, True])
    np.testing.assert_array_equal(((a > 1.5) & ~(a > 2.5) | (a < 1.5)).array, [True, True, False])


def test_tensors_stay_hashable_after_eq_is_elementwise():
    x, y = t64([1.0]), t64([1.0])
    table = {x: "x", y: "y"}
    assert table[x] == "x" and table[y] == "y"


def test_argmax_and_argmin_match_numpy():
    data = np.array([[3.0, 9.0, 9.0], [7.0, -1.0, 2.0]])
    x = mg.tensor(data)
    assert mg.argmax(x).item() == 1 and x.argmin().item() == 4
    np.testing.assert_array_equal(x.argmax(dim=1).array, [1, 0])
    np.testing.assert_array_equal(x.argmin(dim=0, keepdim=True).array, [[0, 1, 1]])
    assert x.argmax(1).dtype == np.int64


def test_where_broadcasts_and_accepts_numbers():
    a = t64([[1.0, -2.0], [3.0, -4.0]])
    y = mg.where(a > 0, a, 0.0)
    np.testing.assert_array_equal(y.array, [[1.0, 0.0], [3.0, 0.0]])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.array, [[1.0, 0.0], [1.0, 0.0]])
    rows, cols = mg.where(a.detach() > 0)
    np.testing.assert_array_equal(rows.array, [0, 1])
    np.testing.assert_array_equal(cols.array, [0, 0])
