"""minigan.io: exact round trips without pickle, atomic writes, clear errors for bad files."""

import os
import zipfile

import numpy as np
import pytest

import minigan as mg
from minigan import io


def _state():
    rng = np.random.default_rng(0)
    return {
        "model": {"0.weight": rng.standard_normal((3, 2)).astype(np.float32), "0.bias": np.zeros(3)},
        "optim": {
            "state": {0: {"step": 7, "exp_avg": mg.tensor([1.0, 2.0])}, 1: {"step": 7}},
            "param_groups": [{"lr": 2e-4, "betas": (0.5, 0.999), "params": [0, 1], "amsgrad": False}],
        },
        "rng": mg.get_rng_state(),  # holds 128-bit ints
        "step": 12,
        "note": None,
        "scalar": np.float32(0.1),
        "ints": np.arange(5, dtype=np.int64),
    }


def test_round_trip_is_exact(tmp_path):
    path = tmp_path / "ck.npz"
    state = _state()
    io.save_checkpoint(path, state)
    back = io.load_checkpoint(path)
    assert set(back) == set(state)
    np.testing.assert_array_equal(back["model"]["0.weight"], state["model"]["0.weight"])
    assert back["model"]["0.weight"].dtype == np.float32 and back["model"]["0.bias"].dtype == np.float64
    assert list(back["optim"]["state"]) == [0, 1]  # int keys survive
    assert back["optim"]["state"][0]["step"] == 7
    np.testing.assert_array_equal(back["optim"]["state"][0]["exp_avg"], [1.0, 2.0])
    assert back["optim"]["param_groups"][0]["betas"] == (0.5, 0.999)  # tuple stays a tuple
    group = back["optim"]["param_groups"][0]
    assert group["lr"] == 2e-4 and group["amsgrad"] is False
    assert back["rng"] == state["rng"]
    assert back["note"] is None and back["step"] == 12
    assert back["scalar"] == np.float32(0.1) and back["scalar"].dtype == np.float32


def test_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    path = tmp_path / "ck.npz"
    io.save_checkpoint(path, _state())
    with np.load(path, allow_pickle=False) as z:
        assert "model/0.weight" in z.files and "__meta__" in z.files
        assert all(z[name].dtype != object for name in z.files)


def test_rng_state_round_trip_reproduces_draws(tmp_path):
    mg.manual_seed(3)
    mg.randn(4)
    io.save_checkpoint(tmp_path / "r.npz", {"rng": mg.get_rng_state()})
    a = mg.randn(5).numpy()
    mg.manual_seed(99)
    mg.set_rng_state(io.load_checkpoint(tmp_path / "r.npz")["rng"])
    np.testing.assert_array_equal(mg.randn(5).numpy(), a)


def test_failed_save_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    io.save_checkpoint(path, {"step": 1, "w": np.ones(3)})
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"partial garbage")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(io.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        io.save_checkpoint(path, {"step": 2, "w": np.zeros(3)})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.npz"]  # the temporary file was removed
    monkeypatch.undo()
    assert io.load_checkpoint(path)["step"] == 1


def test_failed_rename_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    io.save_checkpoint(path, {"step": 1})
    monkeypatch.setattr(io.os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("rename failed")))
    with pytest.raises(OSError, match="rename failed"):
        io.save_checkpoint(path, {"step": 2})
    monkeypatch.undo()
    assert io.load_checkpoint(path)["step"] == 1 and os.listdir(tmp_path) == ["ck.npz"]


def test_missing_file(tmp_path):
    with pytest.raises(io.CheckpointError, match=r"nope\.npz: no such file"):
        io.load_checkpoint(tmp_path / "nope.npz")


@pytest.mark.parametrize("cut", [0.3, 0.9])
def test_truncated_file(tmp_path, cut):
    path = tmp_path / "ck.npz"
    io.save_checkpoint(path, {"w": np.arange(1000.0)})
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(io.CheckpointError, match=r"corrupt checkpoint .*ck\.npz: truncated or damaged"):
        io.load_checkpoint(path)


def test_corrupted_bytes_are_caught(tmp_path):
    path = tmp_path / "ck.npz"
    io.save_checkpoint(path, {"w": np.arange(1000.0)})
    data = bytearray(path.read_bytes())
    data[200:260] = b"\x00" * 60  # inside the array payload: the zip CRC check fails on read
    path.write_bytes(bytes(data))
    with pytest.raises(io.CheckpointError, match="ck.npz"):
        io.load_checkpoint(path)


def test_not_a_checkpoint(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(io.CheckpointError, match="notes.npz"):
        io.load_checkpoint(text)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.ones(2))
    with pytest.raises(io.CheckpointError, match="not a minigan checkpoint"):
        io.load_checkpoint(other)
    pickled = tmp_path / "pickled.npz"
    with zipfile.ZipFile(pickled, "w") as zf:
        with zf.open("__meta__.npy", "w") as f:
            np.save(f, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(io.CheckpointError, match="pickled.npz"):
        io.load_checkpoint(pickled)


def test_unsupported_values_are_rejected_before_writing(tmp_path):
    path = tmp_path / "ck.npz"
    with pytest.raises(TypeError, match=r"save_checkpoint: cannot store obj\['bad'\] of type set"):
        io.save_checkpoint(path, {"bad": {1, 2}})
    assert not path.exists() and os.listdir(tmp_path) == []


@pytest.mark.parametrize("content", [b"", bytes(512), np.random.default_rng(0).bytes(512)])
def test_empty_zero_filled_and_random_files_are_corrupt_checkpoints(tmp_path, content):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(content)
    with pytest.raises(io.CheckpointError) as err:
        io.load_checkpoint(path)
    message = str(err.value)
    assert message.startswith(f"corrupt checkpoint {path}: ") and "pickle" not in message
    assert ("the file is empty" if not content else "not a zip archive (it starts with") in message


def test_a_pickled_entry_is_named(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, __meta__=np.array("{}"), evil=np.array([{"x": 1}], dtype=object))
    with pytest.raises(
        io.CheckpointError, match=r"pickled\.npz: not a minigan checkpoint \(entry 'evil' holds"
    ):
        io.load_checkpoint(path)


def test_ordered_dicts_complex_numbers_and_shared_arrays_round_trip(tmp_path):
    from collections import OrderedDict

    w = np.arange(3.0)
    state = {"sd": OrderedDict([("b", 1), ("a", 2)]), "z": 1 - 2j, "w": w, "tied": w, "x": float("nan")}
    io.save_checkpoint(tmp_path / "ck.npz", state)
    back = io.load_checkpoint(tmp_path / "ck.npz")
    assert type(back["sd"]) is OrderedDict and list(back["sd"]) == ["b", "a"]
    assert back["z"] == 1 - 2j and back["tied"] is back["w"] and np.isnan(back["x"])
    with np.load(tmp_path / "ck.npz") as z:
        assert sorted(z.files) == ["__meta__", "w"]  # the array met twice is stored once


def test_temp_files_finds_what_interrupted_atomic_writes_leave(tmp_path):
    with io.atomic_path(tmp_path / "curves.png", ".png") as tmp:
        assert tmp.endswith(".tmp.png") and io.temp_files(tmp_path) == [tmp_path / os.path.basename(tmp)]
        assert io.temp_files(tmp_path, targets=["curves.png"]) and not io.temp_files(tmp_path, targets=["x"])
        with open(tmp, "wb") as f:
            f.write(b"png")
    assert os.listdir(tmp_path) == ["curves.png"] and io.temp_files(tmp_path) == []
    for name in (".ck.npz.abcd_123.tmp", ".notes.tmp", "ck.npz.abcd1234.tmp", ".ck.npz.ABCD1234.tmp"):
        (tmp_path / name).write_text("x")
    assert io.temp_files(tmp_path) == [tmp_path / ".ck.npz.abcd_123.tmp"]  # only the names mkstemp makes
