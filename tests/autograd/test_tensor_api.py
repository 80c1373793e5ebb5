"""The PyTorch names GAN programs use on tensors: legacy constructors, .type(), Variable, .data, dtypes,
creation functions, type promotion, norm and clone."""

import warnings

import numpy as np
import pytest

import minigan as mg
from minigan.autograd import Variable


def test_legacy_constructors_convert_like_pytorch():
    assert mg.Tensor([1, 2]).dtype == np.float32 and mg.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert mg.Tensor(2, 3).shape == (2, 3) and float(mg.Tensor(2, 3).sum()) == 0.0
    assert mg.Tensor().shape == (0,)
    assert mg.FloatTensor(np.arange(3.0)).dtype == np.float32  # float64 ndarray -> float32
    assert mg.FloatTensor(4, 1).fill_(1.0).tolist() == [[1.0]] * 4
    assert mg.LongTensor([1, 2]).dtype == np.int64 and mg.LongTensor(3).shape == (3,)
    assert mg.LongTensor(np.array([0.7, 2.2])).tolist() == [0, 2]
    assert mg.DoubleTensor([1]).dtype == np.float64 and mg.ByteTensor([1]).dtype == np.uint8
    assert mg.BoolTensor([1, 0]).dtype == np.bool_
    t = mg.Tensor(mg.tensor([1, 2], dtype=mg.int64))
    assert t.dtype == np.float32
    with pytest.raises(ValueError, match="negative dimension"):
        mg.Tensor(2, -1)
    with pytest.raises(TypeError, match="cannot make a tensor from str"):
        mg.Tensor("abc")
    with pytest.raises(TypeError, match="one data argument"):
        mg.Tensor([1], [2])


def test_type_names_conversion_and_isinstance():
    x = mg.tensor([1.5, 2.5])
    assert x.type() == "minigan.FloatTensor"
    assert x.type(mg.LongTensor).tolist() == [1, 2]
    assert x.type("torch.DoubleTensor").dtype == np.float64
    assert x.type(mg.float64).dtype == np.float64
    assert isinstance(x, mg.FloatTensor) and not isinstance(x, mg.LongTensor)
    assert isinstance(x.long(), mg.LongTensor)
    assert x.type(mg.FloatTensor) is x
    with pytest.raises(ValueError, match="unknown tensor type"):
        x.type("torch.Nonsense")
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    w.type(mg.DoubleTensor).sum().backward()  # differentiable, gradient comes back as float32
    assert w.grad.dtype == np.float32


def test_casts_and_facts():
    x = mg.tensor([[1.7, -2.2, 3.0]])
    assert x.long().dtype == np.int64 and x.int().dtype == np.int32 and x.double().dtype == np.float64
    assert x.half().dtype == np.float16 and x.bool().dtype == np.bool_ and x.float() is x
    assert x.size(1) == 3 and x.size(-1) == 3 and x.size() == (1, 3)
    assert not x.is_cuda and x.cpu() is x and x.element_size() == 4


def test_variable_is_a_tensor():
    x = mg.randn(2, 3)
    assert Variable(x) is x and not Variable(x).requires_grad
    v = Variable(mg.zeros(2), requires_grad=True)
    assert v.requires_grad and v.is_leaf
    assert Variable(np.ones(2)).dtype == np.float64
    assert mg.autograd.Variable is Variable


def test_data_is_a_tensor_sharing_storage():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert isinstance(d, mg.Tensor) and not d.requires_grad and d.array is w.array
    d[0] = 10.0
    assert w.tolist() == [10.0, 2.0]
    assert isinstance(w.array, np.ndarray)


def test_tensor_from_data_keeps_array_dtypes():
    assert mg.tensor(np.ones(2)).dtype == np.float64  # as torch.tensor
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor(np.float64(1.0)).dtype == np.float64


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (np.float32, np.int64, np.float32),
        (np.int64, np.float32, np.float32),
        (np.float32, np.float64, np.float64),
        (np.int32, np.int64, np.int64),
        (np.float16, np.int64, np.float16),
    ],
)
def test_type_promotion_between_tensors(a, b, expected):
    x, y = mg.ones(2, dtype=a), mg.ones(2, dtype=b)
    for op in (lambda p, q: p + q, lambda p, q: p * q, lambda p, q: p - q):
        assert op(x, y).dtype == expected


def test_integer_division_gives_float32():
    assert (mg.tensor([3]) / mg.tensor([2])).dtype == np.float32
    assert (mg.tensor([3]) / 2).tolist() == [1.5] and (mg.tensor([3]) / 2).dtype == np.float32
    # d2l's GAN data: float32 @ float32 + int64 stays float32
    data = mg.normal(0.0, 1, (10, 2)) @ mg.tensor([[1, 2], [-0.1, 0.5]]) + mg.tensor([1, 2])
    assert data.dtype == np.float32


def test_creation_functions():
    mg.manual_seed(0)
    assert mg.normal(0.0, 1.0, (3, 2)).shape == (3, 2) and mg.normal(0.0, 1.0, (3, 2)).dtype == np.float32
    m = mg.normal(mg.zeros(4) + 5.0, 0.0)
    assert m.tolist() == [5.0] * 4
    with pytest.raises(TypeError, match="size="):
        mg.normal(0.0, 1.0)
    assert mg.full((2,), 1).dtype == np.int64 and mg.full((2,), 1.0).dtype == np.float32
    assert mg.full((2,), True).dtype == np.bool_ and mg.full((2,), 1, dtype=mg.float32).dtype == np.float32
    r = mg.randint(0, 10, (100,))
    assert r.dtype == np.int64 and r.numpy().min() >= 0 and r.numpy().max() < 10
    assert sorted(mg.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    assert mg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert mg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    x = mg.ones(2, 3, dtype=mg.float64)
    for like in (mg.zeros_like, mg.ones_like, mg.empty_like, mg.randn_like, mg.rand_like):
        assert like(x).shape == (2, 3) and like(x).dtype == np.float64
    assert mg.full_like(x, 7).tolist() == [[7.0] * 3] * 2
    assert mg.randint_like(x, 3).dtype == np.float64
    assert mg.empty(2, 2).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    a = np.zeros(3, dtype=np.float32)
    mg.from_numpy(a)[0] = 1.0
    assert a[0] == 1.0
    assert mg.as_tensor(a).array is a


def test_dtype_aliases_and_star_import_safety():
    assert mg.float is np.float32 and mg.long is np.int64 and mg.double is np.float64 and mg.bool is np.bool_
    namespace = {}
    exec("from minigan import *", namespace)
    assert namespace.get("bool", bool) is bool and "float" not in namespace and "Tensor" in namespace


def test_norm_and_clone():
    x = mg.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=mg.float64, requires_grad=True)
    n = x.norm(2, dim=1)
    assert n.tolist() == [5.0, 0.0]
    n.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.6, 0.8], [0.0, 0.0]])  # subgradient 0 at the origin
    assert float(mg.tensor([1.0, -2.0]).norm(1)) == 3.0
    assert float(mg.tensor([1.0, -2.0]).norm(float("inf"))) == 2.0
    with pytest.raises(ValueError, match="p must be"):
        x.norm(-1)
    c = x.clone()
    assert c.array is not x.array and c.requires_grad and c.creator is not None


def test_wgan_gp_penalty_in_pytorch_gan_style_is_twice_differentiable():
    mg.manual_seed(1)
    D = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 1))
    real, fake = mg.randn(5, 3), mg.randn(5, 3)
    alpha = mg.Tensor(np.random.default_rng(0).random((5, 1)))
    interpolates = (alpha * real + ((1 - alpha) * fake)).requires_grad_(True)
    d = D(interpolates)
    ones = Variable(mg.Tensor(5, 1).fill_(1.0), requires_grad=False)
    (g,) = mg.autograd.grad(
        d, interpolates, grad_outputs=ones, create_graph=True, retain_graph=True, only_inputs=True
    )
    gp = ((g.view(g.size(0), -1).norm(2, dim=1) - 1) ** 2).mean()
    gp.backward()
    # the last bias does not move D's input gradient, so (as in PyTorch) it gets none
    assert D[2].bias.grad is None
    assert all(np.isfinite(p.grad.numpy()).all() for p in (D[0].weight, D[0].bias, D[2].weight))


def test_permute_rejects_out_of_range_and_repeated_dims():
    x = mg.zeros(2, 3, 4)
    with pytest.raises(IndexError, match="out of range"):
        x.permute(0, 1, 5)
    with pytest.raises(ValueError, match="repeat a dimension"):
        x.permute(0, 0, 1)
    with pytest.raises(ValueError, match="got 2 dims"):
        x.permute(0, 1)
    assert x.permute(2, -3, 1).shape == (4, 2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.permute((1, 0, 2)).shape == (3, 2, 4)


def test_new_tensor_methods_take_dtype_and_device_from_x():
    x = mg.ones(2, dtype=mg.float64)
    assert x.new_zeros(3).dtype == np.float64 and x.new_zeros((2, 2)).shape == (2, 2)
    assert x.new_ones(2, 1).tolist() == [[1.0], [1.0]] and x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype == np.float64 and x.new_empty(1).shape == (1,)
