"""nn.parallel: DataParallel / data_parallel run the module once on one device; PyTorch's attributes and
``module.``-prefixed state_dict keys; argument errors."""

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
import minigan.nn.parallel as parallel
from minigan.backend import cuda_is_available
from minigan.device import device


class Counting(nn.Module):
    """x @ W^T + b, with a scale keyword, counting its calls."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.bn = nn.BatchNorm1d(2)
        self.calls = 0

    def forward(self, x, scale=1.0):
        self.calls += 1
        return self.bn(self.fc(x)) * scale


def batch(n=8):
    return mg.tensor(np.random.default_rng(0).standard_normal((n, 3)), dtype=np.float32)


def test_data_parallel_module_is_the_module_run_once():
    inner = Counting()
    dp = parallel.DataParallel(inner, device_ids=[0, 1], dim=0)
    x = batch()
    y = dp(x, scale=2.0)
    assert inner.calls == 1 and dp.module is inner and dp.dim == 0
    want = x.numpy() @ inner.fc.weight.array.T + inner.fc.bias.array
    want = (want - want.mean(0)) / np.sqrt(want.var(0) + 1e-5) * 2.0  # whole-batch statistics
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-4, atol=1e-5)
    assert int(inner.bn.num_batches_tracked.array) == 1  # one pass, not one per listed GPU
    y.sum().backward()
    assert inner.fc.weight.grad is not None and inner.fc.weight.grad.shape == (2, 3)


def test_attributes_when_there_is_no_gpu():
    dp = parallel.DataParallel(Counting(), device_ids=[0, 1], output_device=1)
    if not cuda_is_available():  # PyTorch's GPU-less values: no devices, nothing moved
        assert dp.device_ids == [] and dp.output_device is None
        assert dp.module.fc.weight.device == "cpu"
    else:
        assert dp.device_ids == [0, 1] and dp.output_device == 1


def test_state_dict_keys_are_module_prefixed_and_load_both_ways():
    inner = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    dp = parallel.DataParallel(inner)
    keys = list(dp.state_dict())
    assert keys == ["module." + k for k in inner.state_dict()]
    assert "module.0.weight" in keys and "module.1.num_batches_tracked" in keys
    other = parallel.DataParallel(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    other.load_state_dict({k: np.asarray(v) for k, v in dp.state_dict().items()})
    np.testing.assert_array_equal(other.module[0].weight.array, inner[0].weight.array)
    assert repr(dp).startswith("DataParallel(\n  (module): Sequential(")
    assert len(list(dp.parameters())) == len(list(inner.parameters()))


def test_functional_data_parallel():
    m = Counting()
    x = batch()
    np.testing.assert_array_equal(
        parallel.data_parallel(m, x, device_ids=[device("cuda:0")]).detach().numpy(),
        parallel.data_parallel(m, (x,), module_kwargs={"scale": 1.0}).detach().numpy(),
    )
    assert m.calls == 2
    out = parallel.data_parallel(m, x, output_device=-1, module_kwargs={"scale": 3.0})
    assert out.device == "cpu" and m.calls == 3
    by_keyword = parallel.data_parallel(m, None, module_kwargs={"x": x, "scale": 3.0})  # None: no inputs
    np.testing.assert_array_equal(by_keyword.detach().numpy(), out.detach().numpy())
    if not cuda_is_available():  # gathering on a GPU needs one: the usual error, not a silent CPU result
        with pytest.raises(mg.DeviceError):
            parallel.data_parallel(m, x, output_device=0)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(module=lambda x: x), TypeError, "module must be a minigan nn.Module, got function"),
        (dict(device_ids=0), TypeError, "device_ids=0: expected a list"),
        (dict(device_ids="cuda:0"), TypeError, "device_ids='cuda:0': expected a list"),
        (dict(device_ids=[0, -1]), ValueError, r"device_ids\[1\]=-1: a GPU index must be >= 0"),
        (dict(device_ids=[0, "cpu"]), ValueError, r"device_ids\[1\]='cpu': expected a GPU"),
        (dict(device_ids=[1.0]), TypeError, r"device_ids\[0\]=1.0 is a float"),
        (dict(output_device=-2), ValueError, "output_device=-2: a GPU index must be >= 0 .or -1"),
        (dict(dim="0"), TypeError, "dim='0' is a str, expected an int"),
    ],
)
def test_bad_arguments_raise_one_line(kwargs, exc, match):
    kwargs = {"module": nn.Linear(3, 2), **kwargs}
    with pytest.raises(exc, match=match):
        parallel.DataParallel(**kwargs)
    with pytest.raises(exc, match=match):
        parallel.data_parallel(inputs=batch(), **kwargs)


def test_module_kwargs_must_be_a_dict():
    with pytest.raises(TypeError, match="module_kwargs must be a dict, got list"):
        parallel.data_parallel(nn.Linear(3, 2), batch(), module_kwargs=[1])


@pytest.mark.gpu
def test_with_a_gpu_the_module_moves_and_outputs_gather():
    dp = parallel.DataParallel(Counting())
    assert dp.device_ids and dp.output_device == dp.device_ids[0]
    assert dp.module.fc.weight.device == "cuda"
    assert dp(batch().to("cuda")).device == "cuda"
    cpu_out = parallel.DataParallel(Counting(), output_device="cpu")
    assert cpu_out(batch().to("cuda")).device == "cpu"
