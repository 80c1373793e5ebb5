"""``minigan train`` in-process: the run directory, bit-identical resume, divergence, and bad input."""

import dataclasses
import json
import os

import numpy as np
import pytest

from minigan import io
from minigan.cli import main
from minigan.cli.rundir import RunDir
from minigan.gan import Trainer, registry

TINY = ["--batch-size", "16", "--hidden", "8", "--depth", "1", "--sample-every", "0", "--no-progress"]


def train(out, steps, *extra):
    return main(["train", "--out", str(out), "--steps", str(steps), *TINY, *extra])


def checkpoint_arrays(path):
    with np.load(path, allow_pickle=False) as z:
        return {name: z[name] for name in z.files}


def assert_same_run(a, b):
    ca, cb = checkpoint_arrays(a / "checkpoint.npz"), checkpoint_arrays(b / "checkpoint.npz")
    assert sorted(ca) == sorted(cb)
    for name in ca:
        if name == "__meta__":
            continue
        np.testing.assert_array_equal(ca[name], cb[name], err_msg=name)
    sa, sb = io.load_checkpoint(a / "checkpoint.npz"), io.load_checkpoint(b / "checkpoint.npz")
    assert sa["rng"] == sb["rng"] and sa["data_rng"] == sb["data_rng"] and sa["step"] == sb["step"]
    assert sa["trainer"]["opt_G"]["state"][0]["step"] == sb["trainer"]["opt_G"]["state"][0]["step"]
    assert (a / "metrics.jsonl").read_text() == (b / "metrics.jsonl").read_text()


def test_train_writes_the_run_directory(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, 6, "--log-every", "2", "--ckpt-every", "3", "--sample-every", "3") == 0
    names = sorted(os.listdir(out))
    assert names == ["checkpoint.npz", "config.json", "eval.json", "metrics.jsonl", "plots", "samples"]
    assert sorted(os.listdir(out / "samples")) == ["step_0000003.png", "step_0000006.png"]
    assert sorted(os.listdir(out / "plots")) == ["curves.png", "samples.png"]
    config = json.loads((out / "config.json").read_text())
    assert config["data"] == "ring8" and config["steps"] == 6 and config["batch_size"] == 16
    assert config["loss"] == "nonsaturating" and config["seed"] == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4, 6]
    for key in ("loss_D", "loss_G", "D_x", "D_G_z", "V", "grad_norm_D", "grad_norm_G", "lr"):
        assert all(np.isfinite(r[key]) for r in records), key
    assert io.load_checkpoint(out / "checkpoint.npz")["step"] == 6
    evaluation = json.loads((out / "eval.json").read_text())
    assert evaluation["n_modes"] == 8 and evaluation["n_samples"] == 2500
    printed = capsys.readouterr().out
    assert "trained ring8 (nonsaturating + r1) for 6 steps" in printed and "/8 modes" in printed


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert train(straight, 10, "--ckpt-every", "3", "--log-every", "1") == 0
    assert train(resumed, 5, "--ckpt-every", "3", "--log-every", "1") == 0
    assert main(["train", "--out", str(resumed), "--steps", "10", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, resumed)


def test_resume_after_a_crash_drops_the_metrics_past_the_checkpoint(tmp_path, monkeypatch):
    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    assert train(straight, 9, "--ckpt-every", "4", "--log-every", "1", "--loss", "wgan-gp") == 0
    real_step = Trainer.step

    def crash_at_7(self):
        if self.step_count == 6:
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(Trainer, "step", crash_at_7)
    assert train(crashed, 9, "--ckpt-every", "4", "--log-every", "1", "--loss", "wgan-gp") == 130
    assert io.load_checkpoint(crashed / "checkpoint.npz")["step"] == 4
    monkeypatch.setattr(Trainer, "step", real_step)
    assert main(["train", "--out", str(crashed), "--steps", "9", "--resume", "--no-progress"]) == 0
    assert_same_run(straight, crashed)


def test_resume_refuses_to_change_hyper_parameters(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, 2) == 0
    capsys.readouterr()
    before = (out / "checkpoint.npz").read_bytes()
    assert main(["train", "--out", str(out), "--steps", "4", "--resume", "--lr", "0.5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--lr 0.5 differs from the run's 0.001" in err
    assert (out / "checkpoint.npz").read_bytes() == before


def test_resume_when_already_done(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, 2) == 0
    assert main(["train", "--out", str(out), "--steps", "2", "--resume"]) == 0
    assert "nothing to train" in capsys.readouterr().out


class NaNAfter:
    """A ring8 sampler that returns NaN from its ``n``-th batch on."""

    def __init__(self, n):
        self.inner, self.n, self.calls = registry.get("ring8").make_data({"data": "ring8"}), n, 0
        self.dim, self.modes, self.std = 2, self.inner.modes, self.inner.std

    def sample(self, n, generator=None):
        self.calls += 1
        x = self.inner.sample(n, generator)
        return x * np.nan if self.calls >= self.n else x


def test_divergence_names_the_step_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    spec = registry.get("ring8")
    nan_spec = dataclasses.replace(spec, name="nanring", make_data=lambda config: NaNAfter(6))
    monkeypatch.setitem(registry._REGISTRY, "nanring", nan_spec)
    out = tmp_path / "run"
    assert train(out, 20, "--data", "nanring", "--ckpt-every", "2") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "training diverged at step 6: loss_D is nan" in err and "step 4) is kept" in err
    state = io.load_checkpoint(out / "checkpoint.npz")
    assert state["step"] == 4
    assert all(np.isfinite(np.asarray(v)).all() for v in state["trainer"]["G"].values())


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--data", "ring9"], "unknown dataset 'ring9'; valid datasets: "),
        (["train", "--steps", "0"], "--steps must be an integer >= 1"),
        (["train", "--steps", "ten"], "argument --steps: invalid int value: 'ten'"),
        (["train", "--loss", "wgan"], "argument --loss: invalid choice: 'wgan'"),
        (["train", "--lr", "-1"], "--lr must be > 0"),
        (["train", "--loss", "wgan-gp", "--penalty", "r1"], "--loss wgan-gp includes --penalty wgan-gp"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["train", "--resume"], "--resume needs --out"),
        (["fly"], "invalid choice: 'fly'"),
        ([], "the following arguments are required"),
    ],
)
def test_bad_arguments_give_one_line_and_write_nothing(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minigan: error: ") and message in err
    assert os.listdir(tmp_path) == []


def test_existing_run_is_not_overwritten_without_force(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, 2) == 0
    snapshot = {p: (out / p).read_bytes() for p in ("checkpoint.npz", "config.json", "metrics.jsonl")}
    capsys.readouterr()
    assert train(out, 3) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "--resume" in err and "--force" in err
    assert {p: (out / p).read_bytes() for p in snapshot} == snapshot
    (out / "notes.txt").write_text("mine")
    assert train(out, 3, "--force") == 0  # starts over, but only replaces the run's own files
    assert io.load_checkpoint(out / "checkpoint.npz")["step"] == 3
    assert (out / "notes.txt").read_text() == "mine"


def test_resume_with_a_missing_or_corrupt_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--resume"]) == 1
    assert "cannot resume: run directory" in capsys.readouterr().err
    assert train(out, 2) == 0
    ckpt = out / RunDir.CHECKPOINT
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--steps", "4", "--resume"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt checkpoint " in err and "run/checkpoint.npz: truncated" in err
    ckpt.unlink()
    assert main(["train", "--out", str(out), "--steps", "4", "--resume"]) == 1
    assert "checkpoint.npz: no such file" in capsys.readouterr().err
