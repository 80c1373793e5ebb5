"""minigan.save / minigan.load: exact round trips (hypothesis), state_dicts into fresh models, errors."""

import io as bytes_io
import math
import os
from collections import OrderedDict

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
import minigan.nn as nn
from minigan import io, serialization
from minigan.backend import DeviceError, cuda_is_available
from minigan.nn.parameter import Parameter
from minigan.serialization import load, save

DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int64, np.uint16, np.bool_, np.complex64]


def arrays():
    return st.sampled_from(DTYPES).flatmap(
        lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    )


def tensors():
    def make(a, requires_grad):
        return mg.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")

    return st.builds(make, arrays(), st.booleans())


leaves = st.one_of(
    tensors(),
    arrays(),
    st.integers(min_value=-(2**130), max_value=2**130),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(allow_nan=False),
    st.booleans(),
    st.text(max_size=5),
    st.none(),
)
keys = st.one_of(st.text(max_size=4), st.integers(-3, 3))
objects = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.lists(kids, max_size=3).map(tuple),
        st.dictionaries(keys, kids, max_size=3),
        st.dictionaries(st.text(max_size=3), kids, max_size=3).map(OrderedDict),
    ),
    max_leaves=8,
)


def assert_same(a, b, where="obj"):
    """Same types, dtypes, shapes, bits (NaN == NaN), dict keys in order, Tensor flags."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, mg.Tensor):
        assert a.requires_grad == b.requires_grad and a.device == b.device, where
        a, b = a.array, b.array
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        same_sign = math.copysign(1, a) == math.copysign(1, b)  # 0.0 and -0.0 are different bits
        assert (math.isnan(a) and math.isnan(b)) or (a == b and same_sign), where
    else:
        assert a == b, where


@given(objects)
def test_round_trip_through_a_path_is_exact(tmp_path_factory, obj):
    path = tmp_path_factory.mktemp("s") / "obj.pt"
    save(obj, path)
    assert_same(obj, load(path))
    assert os.listdir(path.parent) == ["obj.pt"]  # no temporary file left


@given(objects)
def test_round_trip_through_a_file_object_is_exact(obj):
    f = bytes_io.BytesIO()
    save(obj, f)
    f.seek(0)
    assert_same(obj, load(f))


def _model(seed):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))


def _train_step(model, opt, x):
    opt.zero_grad()
    (model(x) ** 2).mean().backward()
    opt.step()


def test_state_dicts_load_into_fresh_objects_with_identical_behaviour(tmp_path):
    x = mg.tensor(np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32))
    G = _model(0)
    opt = mg.optim.Adam(G.parameters(), lr=1e-2, betas=(0.5, 0.9))
    _train_step(G, opt, x)  # moments and running statistics that are not the defaults
    save({"G": G.state_dict(), "opt": opt.state_dict(), "epoch": 3}, tmp_path / "ck.pt")

    back = load(tmp_path / "ck.pt")
    assert back["epoch"] == 3 and isinstance(back["G"], OrderedDict)
    assert all(isinstance(v, mg.Tensor) for v in back["G"].values())
    assert back["G"]["1.num_batches_tracked"].dtype == G.state_dict()["1.num_batches_tracked"].dtype
    H = _model(1)  # different initial weights
    H.load_state_dict(back["G"])
    opt_H = mg.optim.Adam(H.parameters(), lr=0.5)
    opt_H.load_state_dict(back["opt"])
    assert opt_H.param_groups[0]["betas"] == (0.5, 0.9) and opt_H.param_groups[0]["lr"] == 1e-2
    G.eval(), H.eval()
    np.testing.assert_array_equal(H(x).detach().numpy(), G(x).detach().numpy())
    G.train(), H.train()
    _train_step(G, opt, x)  # the optimizers continue identically, too
    _train_step(H, opt_H, x)
    for (name, a), b in zip(G.state_dict().items(), H.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_parameters_flags_and_shared_tensors_come_back(tmp_path):
    w = Parameter(np.arange(6.0).reshape(2, 3))
    frozen = mg.tensor([1.0, 2.0], requires_grad=True)
    save({"w": w, "again": w, "frozen": frozen, "plain": np.float32(0.5)}, tmp_path / "p.pt")
    back = load(tmp_path / "p.pt")
    assert type(back["w"]) is Parameter and back["w"].requires_grad and back["w"].dtype == np.float64
    assert back["again"] is back["w"]  # one Tensor saved twice is one Tensor loaded
    assert type(back["frozen"]) is mg.Tensor and back["frozen"].requires_grad
    assert back["plain"] == np.float32(0.5) and back["plain"].dtype == np.float32
    assert back["w"].grad is None


class Thing:
    pass


@pytest.mark.parametrize(
    "obj,message",
    [
        ({"fn": lambda x: x}, r"cannot store obj\['fn'\] of type function: only Tensors, arrays, numbers"),
        ({"G": nn.Linear(2, 2)}, r"cannot store obj\['G'\] of type Linear: save module.state_dict\(\) inst"),
        ([1, {"x": Thing()}], r"cannot store obj\[1\]\['x'\] of type Thing: "),
        ({"s": {1, 2}}, r"cannot store obj\['s'\] of type set"),
        (np.array([object()]), r"cannot store obj: dtype object holds Python objects"),
        ({(1, 2): 3}, r"dict keys must be str or int, got \(1, 2\) of type tuple in obj"),
    ],
)
def test_what_cannot_be_stored_is_a_type_error_naming_it(tmp_path, obj, message):
    path = tmp_path / "x.pt"
    with pytest.raises(TypeError, match="^minigan.save: " + message):
        save(obj, path)
    assert os.listdir(tmp_path) == []  # checked before anything is written


def test_an_optimizer_and_a_cycle_are_refused(tmp_path):
    opt = mg.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"of type SGD: save optimizer.state_dict\(\) instead"):
        save({"opt": opt}, tmp_path / "x.pt")
    loop = [1]
    loop.append(loop)
    with pytest.raises(TypeError, match=r"cannot store obj\[1\]: it contains itself"):
        save(loop, tmp_path / "x.pt")


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "the file is empty"),
        (bytes(256), "not a zip archive (it starts with 00 00 00 00)"),
        (np.random.default_rng(0).bytes(256), "not a zip archive"),
    ],
)
def test_corrupt_files_are_named_and_never_called_pickles(tmp_path, content, message):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(io.CheckpointError) as err:
        load(path)
    text = str(err.value)
    assert text.startswith(f"minigan.load: corrupt file {path}: ") and message in text
    assert "pickle" not in text


def test_truncated_missing_and_foreign_files(tmp_path):
    path = tmp_path / "t.pt"
    save({"w": np.arange(1000.0)}, path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(io.CheckpointError, match=r"minigan.load: corrupt file .*t\.pt: truncated or damaged"):
        load(path)
    with pytest.raises(io.CheckpointError, match=r"minigan.load: file .*nope\.pt: no such file"):
        load(tmp_path / "nope.pt")
    np.savez(tmp_path / "other.npz", a=np.ones(2))
    with pytest.raises(io.CheckpointError, match="not a minigan file"):
        load(tmp_path / "other.npz")


def test_a_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "x.pt"
    save({"step": 1}, path)
    before = path.read_bytes()

    def full_disk(f, **entries):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization.np, "savez", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save({"step": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["x.pt"]


def test_bad_destinations_and_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="parent directory .* does not exist"):
        save(1, tmp_path / "no" / "x.pt")
    with open(tmp_path / "t.txt", "w") as text_file:
        with pytest.raises(TypeError, match="not a binary file"):
            save(1, text_file)
    with pytest.raises(TypeError, match="f must be a path or a binary file object, got int"):
        save(1, 3)
    with pytest.raises(TypeError, match="f must be a path or a seekable binary file object, got int"):
        load(3)


def test_map_location(tmp_path, monkeypatch):
    path = tmp_path / "x.pt"
    save({"w": mg.tensor([1.0, 2.0])}, path)
    assert load(path, map_location="cpu")["w"].device == "cpu"
    assert load(path, map_location={"cuda": "cpu"})["w"].device == "cpu"
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        load(path, map_location="tpu")
    with pytest.raises(TypeError, match="map_location as a function is not supported"):
        load(path, map_location=lambda storage, loc: storage)
    # a file saved on a GPU: loads there where CUDA works, needs map_location='cpu' where it does not
    monkeypatch.setattr(serialization, "_tensor_node", lambda t: {"device": "cuda", "requires_grad": False})
    save({"w": mg.tensor([1.0, 2.0])}, path)
    monkeypatch.undo()
    assert load(path, map_location="cpu")["w"].device == "cpu"
    assert load(path, map_location={"cuda:0": "cpu"})["w"].device == "cpu"
    if cuda_is_available():
        assert load(path)["w"].device == "cuda"
    else:
        with pytest.raises(DeviceError, match=r"saved on 'cuda'.*pass map_location='cpu'"):
            load(path)


def test_checkpoint_files_and_saved_files_are_one_format(tmp_path):
    io.save_checkpoint(tmp_path / "ck.npz", {"w": np.ones(2), "n": 2})
    back = load(tmp_path / "ck.npz")
    assert back["n"] == 2 and isinstance(back["w"], np.ndarray)
    save({"t": mg.tensor([1.0])}, tmp_path / "s.pt")
    as_checkpoint = io.load_checkpoint(tmp_path / "s.pt")  # Tensors read as arrays there
    np.testing.assert_array_equal(as_checkpoint["t"], [1.0])
