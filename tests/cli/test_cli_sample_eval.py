"""``minigan sample``, ``minigan eval`` and ``minigan bench`` in-process."""

import json
import sys
import types

import numpy as np
import pytest

from minigan.cli import main

TINY = ["--batch-size", "16", "--hidden", "8", "--depth", "1", "--sample-every", "0", "--no-progress"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    for data in ("ring8", "gaussian1d"):
        assert main(["train", "--data", data, "--steps", "3", "--out", str(base / data), *TINY]) == 0
    return base


def one_error_line(capsys, *fragments):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minigan: error: "), err
    for f in fragments:
        assert f in err, err


def test_sample_npy_shape_dtype_and_seed(runs, tmp_path, capsys):
    out = tmp_path / "x.npy"
    assert main(["sample", str(runs / "ring8"), "--n", "50", "--out", str(out)]) == 0
    x = np.load(out, allow_pickle=False)
    assert x.shape == (50, 2) and x.dtype == np.float32 and np.isfinite(x).all()
    assert "wrote 50 samples, shape (50, 2)" in capsys.readouterr().out
    again = tmp_path / "y.npy"
    main(["sample", str(runs / "ring8"), "--n", "50", "--out", str(again)])
    np.testing.assert_array_equal(np.load(again), x)  # same seed, same samples
    main(["sample", str(runs / "ring8"), "--n", "50", "--out", str(again), "--seed", "1"])
    assert not np.array_equal(np.load(again), x)


def test_sample_1d_data_is_a_column(runs, tmp_path):
    out = tmp_path / "x.npy"
    assert main(["sample", str(runs / "gaussian1d"), "--n", "7", "--out", str(out)]) == 0
    x = np.load(out)
    assert x.shape == (7, 1) and x.dtype == np.float32


@pytest.mark.parametrize("data", ["ring8", "gaussian1d"])
def test_sample_png(runs, tmp_path, data):
    out = tmp_path / "x.png"
    assert main(["sample", str(runs / data), "--n", "200", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]  # no temporary file left behind


def test_sample_bad_inputs_write_nothing(runs, tmp_path, capsys):
    keep = tmp_path / "keep.npy"
    np.save(keep, np.zeros(3))
    before = keep.read_bytes()
    assert main(["sample", str(runs / "ring8"), "--n", "5", "--out", str(tmp_path / "x.txt")]) == 2
    one_error_line(capsys, "unsupported file type '.txt'")
    assert main(["sample", str(runs / "ring8"), "--n", "0", "--out", str(keep)]) == 2
    one_error_line(capsys, "--n must be >= 1")
    assert main(["sample", str(tmp_path / "nope"), "--n", "5", "--out", str(keep)]) == 1
    one_error_line(capsys, "nope does not exist")
    assert main(["sample", str(runs / "ring8"), "--n", "5", "--out", str(tmp_path / "no" / "x.npy")]) == 1
    one_error_line(capsys, "does not exist")
    assert main(["sample", str(runs / "ring8"), "--out", str(keep), "--device", "tpu"]) == 1
    one_error_line(capsys, "unknown device 'tpu'")
    assert keep.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.npy"]


def test_sample_and_eval_with_a_corrupt_checkpoint(runs, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((runs / "ring8" / "config.json").read_text())
    (bad / "checkpoint.npz").write_bytes(b"PK\x03\x04 definitely not a zip")
    assert main(["sample", str(bad), "--out", str(tmp_path / "x.npy")]) == 1
    one_error_line(capsys, "corrupt checkpoint ", "bad/checkpoint.npz: truncated or damaged")
    assert main(["eval", str(bad)]) == 1
    one_error_line(capsys, "corrupt checkpoint ", "bad/checkpoint.npz: truncated or damaged")
    assert not (tmp_path / "x.npy").exists()


def test_eval_prints_mode_coverage(runs, capsys):
    assert main(["eval", str(runs / "ring8"), "--n", "500"]) == 0
    out = capsys.readouterr().out
    for label in ("modes covered", "high quality", "reverse KL", "histogram JSD"):
        assert label in out
    assert "/ 8" in out and "step 3" in out
    saved = json.loads((runs / "ring8" / "eval.json").read_text())
    assert saved["n_samples"] == 500 and saved["n_modes"] == 8 and len(saved["counts"]) == 8


def test_bench_delegates_its_arguments(monkeypatch):
    seen = {}
    fake = types.ModuleType("minigan.kernels.bench")
    fake.main = lambda argv: seen.setdefault("argv", argv) and 0
    monkeypatch.setitem(sys.modules, "minigan.kernels.bench", fake)
    assert main(["bench", "--quick", "--size", "64"]) == 0
    assert seen["argv"] == ["--quick", "--size", "64"]


def test_bench_without_the_benchmark_says_so(monkeypatch, capsys):
    import importlib

    real = importlib.import_module

    def missing(name, *a, **k):
        if name == "minigan.kernels.bench":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", missing)
    assert main(["bench"]) == 1
    one_error_line(capsys, "minigan.kernels.bench", "not part of this install")
