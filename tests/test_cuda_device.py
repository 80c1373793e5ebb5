"""minigan.cuda, minigan.device, backend.normalize_device and the no-op minigan.backends switches.

On a machine without CuPy or a GPU (CI) ``minigan.cuda.is_available()`` is False; the tests check what
holds either way, and the GPU-only paths under the gpu marker."""

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
import minigan.backends
import minigan.backends.cudnn as cudnn
import minigan.cuda
import minigan.nn as nn
from minigan.backend import DeviceError, cuda_is_available, normalize_device
from minigan.device import device

# -- minigan.cuda ---------------------------------------------------------------------------------------


def test_importing_the_device_modules_does_not_import_cupy():
    code = (
        "import sys, minigan.cuda, minigan.device, minigan.backends.cudnn, minigan.nn.parallel; "
        "print('cupy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_availability_and_count_agree():
    assert minigan.cuda.is_available() is cuda_is_available()
    if minigan.cuda.is_available():
        assert minigan.cuda.device_count() >= 1 and minigan.cuda.current_device() >= 0
    else:
        assert minigan.cuda.device_count() == 0
        with pytest.raises(DeviceError, match=r"minigan\[cuda1[23]\]|no usable CUDA GPU"):
            minigan.cuda.current_device()
        with pytest.raises(DeviceError, match=r"minigan\[cuda1[23]\]|no usable CUDA GPU"):
            minigan.cuda.synchronize()
    with pytest.raises(ValueError, match="expected a CUDA device, got 'cpu'"):
        minigan.cuda.synchronize("cpu")


@pytest.mark.parametrize("seed_fn", [minigan.cuda.manual_seed, minigan.cuda.manual_seed_all])
def test_cuda_seeding_reseeds_the_one_generator(seed_fn):
    mg.manual_seed(123)
    want = mg.randn(5).numpy()
    mg.manual_seed(7)
    mg.randn(3)
    assert seed_fn(123) is None
    np.testing.assert_array_equal(mg.randn(5).numpy(), want)
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        seed_fn(-1)


# -- minigan.device -------------------------------------------------------------------------------------


@given(kind=st.sampled_from(["cpu", "cuda"]), index=st.none() | st.integers(0, 10_000))
def test_device_round_trips_through_its_string(kind, index):
    text = kind if index is None else f"{kind}:{index}"
    d = device(text)
    assert (d.type, d.index, str(d)) == (kind, index, text)
    assert device(kind, index) == d and device(d) == d and device(str(d)) == d
    assert repr(d) == f"device(type='{kind}'" + ("" if index is None else f", index={index}") + ")"
    assert copy.deepcopy(d) == d and pickle.loads(pickle.dumps(d)) == d


def test_device_equality_and_hash():
    assert device("cuda:0") == "cuda" and "cuda" == device("cuda:0")  # what a tensor's .device reports
    assert device("cuda") == device("cuda:0") and device("cpu") == "cpu"
    assert device("cuda:1") != "cuda" and device("cpu") != "cuda" and device("cpu") != "tpu"
    assert device("cpu") != 0 and device("cuda:1") == device("cuda", 1)
    assert {device("cuda:0"): 1}.get("cuda") == 1 and len({device("cuda"), device("cuda:0")}) == 1
    assert device(0) == device("cuda:0")
    with pytest.raises(AttributeError, match="immutable"):
        device("cpu").index = 1


@pytest.mark.parametrize(
    "args, exc, match",
    [
        (("gpu",), DeviceError, "unknown device 'gpu'"),
        (("CUDA",), DeviceError, "unknown device 'CUDA'"),
        (("cuda:01",), DeviceError, "invalid device string 'cuda:01'"),
        (("cuda:-1",), DeviceError, "invalid device string 'cuda:-1'"),
        (("cuda:",), DeviceError, "invalid device string"),
        ((None,), TypeError, "got NoneType None"),
        ((1.0,), TypeError, "got float 1.0"),
        (("cuda:0", 1), ValueError, "already has an index"),
        (("cuda", -2), ValueError, "index must be an int >= 0, got -2"),
        (("cuda", "1"), ValueError, "index must be an int >= 0, got '1'"),
        ((device("cpu"), 0), ValueError, "already has its index"),
    ],
)
def test_bad_device_names_raise_one_line(args, exc, match):
    with pytest.raises(exc, match=match):
        device(*args)


def test_normalize_device_takes_every_spelling():
    for spec in [None, "cpu", "cpu:0", "CPU", device("cpu"), device("cpu:0")]:
        assert normalize_device(spec) == "cpu"
    for spec in ["cuda", "cuda:0", "gpu", "GPU", 0, np.int64(0), device("cuda"), device("cuda", 0)]:
        assert normalize_device(spec) == "cuda"
    with pytest.raises(DeviceError, match="minigan uses one GPU, index 0; .*CUDA_VISIBLE_DEVICES=1"):
        normalize_device(device("cuda:1"))  # never a silent move to GPU 0
    with pytest.raises(DeviceError, match="cuda:2"):
        normalize_device("cuda:2")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        normalize_device("tpu")
    with pytest.raises(DeviceError, match="index must be >= 0"):
        normalize_device(-1)
    with pytest.raises(TypeError, match="got True"):
        normalize_device(True)


def test_a_device_works_wherever_minigan_takes_one():
    cpu = device("cpu")
    x = mg.ones(2, 3).to(cpu)
    assert x.device == "cpu" and x.device == cpu
    assert mg.zeros(3, device=cpu).device == "cpu" and mg.tensor([1.0], device=device("cpu:0")).device == cpu
    model = nn.Linear(3, 2).to(cpu)
    assert model.weight.device == cpu
    with pytest.raises(DeviceError, match="cuda:1"):
        mg.ones(2).to(device("cuda", 1))


@pytest.mark.gpu
def test_a_cuda_device_moves_tensors_and_modules():
    dev = device("cuda:0")
    x = mg.ones(2, 3).to(dev)
    assert x.device == "cuda" == dev and mg.zeros(3, device=dev).device == dev
    assert nn.Linear(3, 2).to(dev).weight.device == "cuda"
    minigan.cuda.synchronize(dev)
    assert minigan.cuda.current_device() == 0 and minigan.cuda.device_count() >= 1


# -- minigan.backends -----------------------------------------------------------------------------------


def test_cudnn_switches_have_pytorchs_defaults_and_keep_what_is_set(monkeypatch):
    assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled, cudnn.allow_tf32) == (
        False,
        False,
        True,
        True,
    )
    assert minigan.backends.cuda.matmul.allow_tf32 is False
    assert minigan.backends.cudnn is cudnn and not cudnn.is_available() and cudnn.version() is None
    monkeypatch.setattr(cudnn, "benchmark", True)
    monkeypatch.setattr(cudnn, "deterministic", np.bool_(True))
    monkeypatch.setattr(minigan.backends.cuda.matmul, "allow_tf32", True)
    assert cudnn.benchmark is True and cudnn.deterministic is True
    assert minigan.backends.cuda.matmul.allow_tf32 is True


def test_switches_refuse_non_bools_and_unknown_names():
    with pytest.raises(TypeError, match=r"cudnn.benchmark must be True or False, got 'yes'"):
        cudnn.benchmark = "yes"
    with pytest.raises(TypeError, match=r"matmul.allow_tf32 must be True or False, got 1"):
        minigan.backends.cuda.matmul.allow_tf32 = 1
    with pytest.raises(AttributeError, match="has no setting 'benchmrk'; it has benchmark, deterministic"):
        cudnn.benchmrk = True
    with pytest.raises(AttributeError, match="no setting 'allow_fp16_reduced_precision_reduction'"):
        minigan.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = True
    assert cudnn.benchmark is False and not hasattr(cudnn, "benchmrk")
