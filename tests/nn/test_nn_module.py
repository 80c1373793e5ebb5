"""Module machinery: registration, traversal, modes, state_dict keys and round trips, load errors,
devices/dtypes, repr, containers."""

from collections import OrderedDict

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
        self.head = nn.Linear(4, 2, bias=False)
        self.register_buffer("scale", mg.ones(2))
        self.register_buffer("cache", mg.zeros(2), persistent=False)
        self.note = "not state"

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_registration_and_traversal():
    m = TwoLayer()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias", "head.weight"]
    assert [n for n, _ in m.named_buffers()] == [
        "scale",
        "cache",
        "body.1.running_mean",
        "body.1.running_var",
        "body.1.num_batches_tracked",
    ]
    assert [n for n, _ in m.named_children()] == ["body", "head"]
    assert [n for n, _ in m.named_modules()] == ["", "body", "body.0", "body.1", "body.2", "head"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert m.head.bias is None and m.note == "not state"
    with pytest.raises(AttributeError, match="'TwoLayer' object has no attribute 'missing'"):
        _ = m.missing


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.Tanh(), lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_assigning_wrong_types_to_registered_names():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        lin.weight = mg.zeros(2, 2)
    lin.bias = None
    assert lin.bias is None and "bias" not in lin.state_dict()

    class NoInit(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        NoInit()


def test_state_dict_keys_match_pytorch_for_sequential():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.LeakyReLU(0.2), nn.Linear(3, 1))
    assert list(model.state_dict().keys()) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
        "3.weight",
        "3.bias",
    ]
    sd = model.state_dict()
    assert sd["1.num_batches_tracked"].dtype == np.int64 and sd["1.num_batches_tracked"].shape == ()
    assert not sd["0.weight"].requires_grad  # detached, as in PyTorch
    assert isinstance(np.asarray(sd["0.weight"]), np.ndarray)


def test_state_dict_round_trip_gives_identical_outputs():
    mg.manual_seed(1)
    a = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.LeakyReLU(0.2), nn.Flatten(),
                      nn.Linear(2 * 4 * 4, 1))  # fmt: skip
    x = mg.randn(4, 1, 4, 4)
    a(x)  # one training step moves the running statistics
    a.eval()
    arrays = {k: np.array(v) for k, v in a.state_dict().items()}  # plain NumPy, as stored in an npz
    mg.manual_seed(2)
    b = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.LeakyReLU(0.2), nn.Flatten(),
                      nn.Linear(2 * 4 * 4, 1)).eval()  # fmt: skip
    assert not np.array_equal(b(x).array, a(x).array)
    result = b.load_state_dict(arrays)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(b(x).array, a(x).array)
    assert int(b[1].num_batches_tracked.item()) == 1


def test_load_state_dict_copies_in_place_and_keeps_dtype():
    lin = nn.Linear(2, 3)
    w = lin.weight
    lin.load_state_dict({"weight": np.ones((3, 2)), "bias": [1.0, 2.0, 3.0]})
    assert lin.weight is w and w.dtype == np.float32
    np.testing.assert_array_equal(w.array, 1.0)


def test_load_state_dict_errors_name_keys_and_shapes():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = {k: np.asarray(v) for k, v in model.state_dict().items()}
    missing = dict(sd)
    del missing["1.running_var"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.running_var"'):
        model.load_state_dict(missing)
    extra = dict(sd, **{"2.weight": np.zeros(3)})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "2.weight"'):
        model.load_state_dict(extra)
    result = model.load_state_dict(extra, strict=False)
    assert result.unexpected_keys == ["2.weight"] and result.missing_keys == []
    wrong = dict(sd, **{"0.weight": np.zeros((2, 3))})
    with pytest.raises(
        RuntimeError, match=r"size mismatch for 0.weight: copying a param with shape \(2, 3\)"
    ):
        model.load_state_dict(wrong, strict=False)


def test_train_eval_flags_propagate():
    m = TwoLayer()
    assert m.training and m.body[1].training
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    with pytest.raises(ValueError, match="boolean"):
        m.train("no")


def test_zero_grad_and_requires_grad():
    lin = nn.Linear(3, 2)
    lin(mg.randn(4, 3)).sum().backward()
    g = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is not g and np.all(lin.weight.grad.array == 0)
    assert np.any(g.array != 0)  # the old gradient array was not zeroed in place
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None
    lin.requires_grad_(False)
    assert not any(p.requires_grad for p in lin.parameters())


def test_to_dtype_keeps_parameter_objects_and_int_buffers():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    params = list(m.parameters())
    m.double()
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert m[1].running_mean.dtype == np.float64 and m[1].num_batches_tracked.dtype == np.int64
    assert m(mg.randn(3, 2, dtype=np.float64)).dtype == np.float64
    m.to(np.float32)
    assert m[0].weight.dtype == np.float32
    assert m.to("cpu") is m
    with pytest.raises(TypeError, match="floating-point"):
        m.to(dtype=np.int32)


def test_repr_like_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Tanh()))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Tanh()\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Conv2d(1, 8, 4, 2, 1, bias=False)) == (
        "Conv2d(1, 8, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)"
    )
    assert (
        repr(nn.BatchNorm2d(8))
        == "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )


def test_apply_visits_children_first_then_self():
    seen = []
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_sequential_indexing_len_iteration_and_slices():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert head(mg.randn(5, 2)).shape == (5, 3)
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]


def test_modulelist_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    holder = nn.Module()
    holder.layers = layers
    assert len(list(holder.parameters())) == 6
    assert list(holder.state_dict())[:2] == ["layers.0.weight", "layers.0.bias"]
    assert layers[-1] is list(layers)[2]


def test_forward_is_required():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(mg.zeros(1))


def test_np_array_of_state_dict_values_is_a_snapshot():
    """np.array(value) copies (np.asarray shares): a checkpoint taken that way does not move with training."""
    lin = nn.Linear(2, 2)
    snapshot = {k: np.array(v) for k, v in lin.state_dict().items()}
    shared = np.asarray(lin.state_dict()["weight"])
    before = snapshot["weight"].copy()
    with mg.no_grad():
        lin.weight.array += 1.0
    np.testing.assert_array_equal(snapshot["weight"], before)
    np.testing.assert_array_equal(shared, lin.weight.array)
