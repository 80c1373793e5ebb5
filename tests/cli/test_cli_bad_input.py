"""Bad input to `minigan train | sample | eval`: one line saying what is wrong, exit != 0, nothing lost."""

import dataclasses
import errno
import json
import os

import numpy as np
import pytest

from minigan.cli import main
from minigan.cli import sample as sample_cli
from minigan.cli.config import ConfigError, check
from minigan.cli.rundir import RunDir, strict_json
from minigan.gan import registry

TINY = ["--batch-size", "16", "--hidden", "8", "--depth", "1", "--sample-every", "0", "--no-progress"]


def error_line(capsys, *fragments):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minigan: error: "), err
    for f in fragments:
        assert f in err, err
    return err


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "ring8"
    assert main(["train", "--out", str(out), "--steps", "2", *TINY]) == 0
    return out


@pytest.fixture
def copy_of_run(run, tmp_path):
    import shutil

    return shutil.copytree(run, tmp_path / "run")


# -- hyper-parameters given as flags ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv,message",
    [
        (["--hidden", "0"], "--hidden must be an integer >= 1, got 0"),
        (["--depth", "-3"], "--depth must be an integer >= 1, got -3"),
        (["--seed", "-1"], "--seed must be an integer >= 0, got -1"),
        (["--lr", "nan"], "--lr must be > 0 and finite, got nan"),
        (["--lr", "inf"], "--lr must be > 0 and finite, got inf"),
        (["--lr", "0"], "--lr must be > 0 and finite, got 0.0"),
        (["--gamma", "-1"], "--gamma must be >= 0 and finite, got -1.0"),
        (["--gamma", "nan"], "--gamma must be >= 0 and finite, got nan"),
        (["--betas", "0.5", "1"], "--betas must be two finite numbers in [0, 1), got [0.5, 1.0]"),
        (["--betas", "nan", "0.9"], "--betas must be two finite numbers in [0, 1), got [nan, 0.9]"),
        (["--data", "mnist", "--set", "width=abc"], "--set width must be an integer >= 1, got 'abc'"),
        (["--data", "mnist", "--set", "width=0"], "--set width must be an integer >= 1, got 0"),
        (["--data", "mnist", "--set", "width=-3"], "--set width must be an integer >= 1, got -3"),
        (["--data", "mnist", "--set", "width=null"], "--set width must be an integer >= 1, got None"),
        (["--data", "mnist", "--set", "width=3.5"], "--set width must be an integer >= 1, got 3.5"),
        (["--data", "mnist", "--set", "width=true"], "--set width must be an integer >= 1, got True"),
        (["--data", "mnist", "--split", ""], "--split must be a non-empty string, got ''"),
        (["--k", "3.5"], "argument --k: invalid int value: '3.5'"),
    ],
)
def test_bad_hyper_parameters_stop_before_anything_is_written(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--steps", "2", *argv]) == 2
    error_line(capsys, message)
    assert os.listdir(tmp_path) == []


def test_every_datasets_defaults_pass_the_checks():
    from minigan.cli.common import known_settings

    for name in registry.names():
        spec = registry.get(name)
        for model in spec.model_names():
            known = known_settings(name, spec, model)
            assert check(known, known, str) == known and known["model"] == model


def test_check_names_unknown_keys_and_converts_ints_of_float_keys():
    known = {"data": "ring8", "lr": 1e-3, "betas": [0.5, 0.9], "ratio": 0.5, "flag": True}
    assert check({"data": "ring8", "lr": 1, "betas": [0, 0]}, known, str) == {
        "data": "ring8", "lr": 1.0, "betas": [0.0, 0.0]
    }  # fmt: skip
    with pytest.raises(ConfigError, match=r"^widht: not a setting of dataset ring8 \(those are: betas, data"):
        check({"data": "ring8", "widht": 3}, known, str)
    with pytest.raises(ConfigError, match=r"^ratio must be a finite number, got nan"):
        check({"ratio": float("nan")}, known, str)  # a dataset's own setting: the type of its default
    with pytest.raises(ConfigError, match=r"^flag must be true or false, got 1"):
        check({"flag": 1}, known, str)


# -- hyper-parameters found in a config.json ------------------------------------------------------------
@pytest.mark.parametrize("value", ["abc", 0, -3, None, 3.5, True])
@pytest.mark.parametrize("command", ["sample", "eval", "resume"])
def test_a_bad_value_in_config_json_is_named_by_every_command(copy_of_run, tmp_path, capsys, command, value):
    path = copy_of_run / "config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, "hidden": value}))
    before = {p: (copy_of_run / p).read_bytes() for p in ("config.json", "checkpoint.npz", "metrics.jsonl")}
    argv = {
        "sample": ["sample", str(copy_of_run), "--out", str(tmp_path / "x.npy")],
        "eval": ["eval", str(copy_of_run)],
        "resume": ["train", "--out", str(copy_of_run), "--steps", "4", "--resume", "--no-progress"],
    }[command]
    assert main(argv) == 1
    error_line(capsys, f"{path}: hidden must be an integer >= 1, got {value!r}")
    assert {p: (copy_of_run / p).read_bytes() for p in before} == before
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize(
    "entry,message",
    [
        ({"lr": "NaN"}, "lr must be > 0 and finite, got nan"),
        ({"betas": [0.5]}, "betas must be two finite numbers in [0, 1), got [0.5]"),
        ({"loss": "wgan"}, "loss must be one of minimax, nonsaturating"),
        ({"widht": 3}, "widht: not a setting of dataset ring8"),
        ({"data": "ring9"}, "data 'ring9' is not a dataset"),
    ],
)
def test_other_bad_entries_of_config_json(copy_of_run, capsys, entry, message):
    path = copy_of_run / "config.json"
    text = json.dumps({**json.loads(path.read_text()), **entry}).replace('"NaN"', "NaN")
    path.write_text(text)
    assert main(["eval", str(copy_of_run)]) == 1
    error_line(capsys, str(path), message)


# -- sizes that do not fit in memory ---------------------------------------------------------------------
def test_a_batch_too_large_for_memory_is_refused_before_training(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--steps", "2", *TINY, "--batch-size", str(10**13)]) == 1
    error_line(
        capsys, f"--batch-size {10**13} is too large: a training step of", "use a smaller --batch-size"
    )
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("command", ["sample", "eval"])
def test_an_n_too_large_for_memory_is_refused_before_sampling(run, tmp_path, capsys, command):
    argv = [command, str(run), "--n", str(10**14)] + (
        ["--out", str(tmp_path / "x.npy")] * (command == "sample")
    )
    assert main(argv) == 1
    error_line(capsys, f"--n {10**14} is too large: {10**14} samples needs about", "use a smaller --n")
    assert os.listdir(tmp_path) == []


# -- where the output goes ---------------------------------------------------------------------------------
def test_an_unwritable_out_for_train(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["train", "--out", str(tmp_path / "file" / "run"), "--steps", "1", *TINY]) == 1
    error_line(
        capsys, f"cannot create run directory {tmp_path / 'file' / 'run'}: {tmp_path / 'file'} is a file"
    )
    assert main(["train", "--out", str(tmp_path / "file"), "--steps", "1", *TINY]) == 1
    error_line(capsys, f"{tmp_path / 'file'} exists and is not a directory")
    import pathlib

    def read_only(self, *args, **kwargs):  # as under a read-only folder (root could write there anyway)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    assert main(["train", "--out", str(tmp_path / "ro" / "run"), "--steps", "1", *TINY]) == 1
    error_line(capsys, f"cannot create run directory {tmp_path / 'ro' / 'run'}: Permission denied")
    monkeypatch.undo()
    existing = tmp_path / "existing"
    existing.mkdir()
    real_open = os.open

    def no_lock_file(path, *args, **kwargs):
        if str(path).endswith(".lock"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_lock_file)
    assert main(["train", "--out", str(existing), "--steps", "1", *TINY]) == 1
    error_line(capsys, f"cannot write in run directory {existing}: Permission denied")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["existing", "file"] and os.listdir(existing) == []


def test_an_unwritable_out_for_sample(run, tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "file" / "x.npy")]) == 1
    error_line(capsys, f"{tmp_path / 'file'} is a file, not a directory")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "x.npy")]) == 1
    error_line(capsys, f"directory {tmp_path} is not writable")
    monkeypatch.undo()

    def full(path, write):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sample_cli, "atomic_write", full)
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "x.npy")]) == 1
    error_line(capsys, "cannot write it (No space left on device); nothing was written")
    assert os.listdir(tmp_path) == ["file"]


# -- evaluation -------------------------------------------------------------------------------------------
def test_eval_with_too_few_samples(run, capsys):
    assert main(["eval", str(run), "--n", "1"]) == 2
    error_line(capsys, "--n 1 is too few to evaluate ring8: it needs at least 2 samples")
    assert main(["eval", str(run), "--n", "2"]) == 0  # the fewest that give figures


def test_eval_json_is_strict_json(copy_of_run, monkeypatch, capsys):
    def evaluate(data, x):
        return {"summary": "s", "jsd_hist": float("nan"), "curve": [1.0, float("inf")], "ok": np.float32(2)}

    spec = dataclasses.replace(registry.get("ring8"), evaluate=evaluate)
    monkeypatch.setitem(registry._REGISTRY, "ring8", spec)
    assert main(["eval", str(copy_of_run), "--n", "10"]) == 0

    def no_constants(name):
        raise AssertionError(f"eval.json holds {name}")

    saved = json.loads((copy_of_run / "eval.json").read_text(), parse_constant=no_constants)
    assert saved["jsd_hist"] is None and saved["curve"] == [1.0, None] and saved["ok"] == 2.0
    assert saved["notes"] == [
        "jsd_hist was nan (not finite), stored as null",
        "curve[1] was inf (not finite), stored as null",
    ]


def test_strict_json_replaces_only_non_finite_numbers():
    notes = []
    obj = {"a": [1, 2.5, float("-inf")], "b": {"c": float("nan"), "d": "nan"}, "e": np.array([1.0, np.nan])}
    assert strict_json(obj, "", notes) == {
        "a": [1, 2.5, None],
        "b": {"c": None, "d": "nan"},
        "e": [1.0, None],
    }
    assert len(notes) == 3 and notes[0] == "a[2] was -inf (not finite), stored as null"


@pytest.mark.parametrize("content", [bytes(4096), np.random.default_rng(1).bytes(4096)])
@pytest.mark.parametrize("command", ["sample", "eval", "resume"])
def test_zero_filled_or_random_checkpoints_are_corrupt_not_pickles(
    copy_of_run, tmp_path, capsys, content, command
):
    ckpt = copy_of_run / RunDir.CHECKPOINT
    ckpt.write_bytes(content)
    argv = {
        "sample": ["sample", str(copy_of_run), "--out", str(tmp_path / "x.npy")],
        "eval": ["eval", str(copy_of_run)],
        "resume": ["train", "--out", str(copy_of_run), "--steps", "4", "--resume"],
    }[command]
    assert main(argv) == 1
    err = error_line(capsys, f"corrupt checkpoint {ckpt}: not a zip archive")
    assert "pickle" not in err and ckpt.read_bytes() == content


def _tiny_mnist(folder, n=20):
    from minigan.data.idx import write_idx

    images = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    write_idx(folder / "t10k-images-idx3-ubyte", images)
    write_idx(folder / "t10k-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)


def test_mnist_eval_on_a_split_smaller_than_the_hold_out_says_the_sizes(tmp_path, capsys):
    _tiny_mnist(tmp_path)
    out = tmp_path / "run"
    argv = ["train", "--data", "mnist", "--data-dir", str(tmp_path), "--split", "test", "--out", str(out)]
    argv += ["--steps", "1", "--batch-size", "2", "--z-dim", "2", "--set", "width=2", "--sample-every", "0"]
    assert main([*argv, "--no-progress"]) == 0  # trains; the final evaluation is skipped, and says why
    err = capsys.readouterr().err
    assert "no final evaluation: the mnist evaluation holds out 2000 real images" in err
    assert "split 'test' has only 20 images" in err
    assert not (out / "eval.json").exists() and (out / "plots" / "samples.png").exists()
    assert main(["eval", str(out)]) == 1
    error_line(capsys, f"cannot evaluate {out}: the mnist evaluation holds out 2000", "has only 20 images")
    assert main(["eval", str(out), "--n", "3"]) == 2
    error_line(capsys, "--n 3 is too few to evaluate mnist: it needs at least 4 samples")
