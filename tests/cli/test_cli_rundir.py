"""A run directory never loses work: --force keeps the old run until the new one's first checkpoint, a
failed fresh run leaves nothing behind, one trainer per directory, leftovers of killed trainers are cleaned,
commands that train nothing write nothing, and a resume finishes a run stopped before its evaluation."""

import dataclasses
import errno
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from minigan import io
from minigan.cli import main
from minigan.cli import train as train_cli
from minigan.cli.lock import RunLock
from minigan.cli.rundir import RunDir
from minigan.gan import Trainer, registry

TINY = ["--batch-size", "16", "--hidden", "8", "--depth", "1", "--sample-every", "0", "--no-progress"]


def train(out, steps, *extra):
    return main(["train", "--out", str(out), "--steps", str(steps), *TINY, *extra])


def tree(path):
    """{relative path: bytes} of every file under ``path``."""
    out = {}
    for root, _, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, path)] = f.read()
    return out


def error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minigan: error: "), err
    return err


def fail_at_step(monkeypatch, n, exc):
    real = Trainer.step

    def step(self):
        if self.step_count + 1 == n:
            raise exc
        return real(self)

    monkeypatch.setattr(Trainer, "step", step)


class NaNData:
    """ring8 samples, NaN from the first batch on: training diverges at step 1."""

    def __init__(self):
        self.inner = registry.get("ring8").make_data({"data": "ring8"})
        self.dim, self.modes, self.std = 2, self.inner.modes, self.inner.std

    def sample(self, n, generator=None):
        return self.inner.sample(n, generator) * np.nan


@pytest.fixture
def nanring(monkeypatch):
    spec = dataclasses.replace(registry.get("ring8"), name="nanring", make_data=lambda config: NaNData())
    monkeypatch.setitem(registry._REGISTRY, "nanring", spec)


# -- --force ----------------------------------------------------------------------------------------------
def test_force_keeps_the_old_run_until_the_new_ones_first_checkpoint(tmp_path, monkeypatch, capsys, nanring):
    out = tmp_path / "run"
    assert train(out, 2) == 0
    (out / "notes.txt").write_text("mine")
    before = tree(out)
    assert train(out, 3, "--force", "--data", "nanring") == 1  # diverges at step 1: no checkpoint yet
    err = error_line(capsys)
    assert "training diverged at step 1" in err and f"the run it replaced in {out} is restored" in err
    assert tree(out) == before

    seen = {}
    real = Trainer.step

    def look(self):  # the old run is aside (not deleted) until the new one's first checkpoint
        previous = out / ".previous-run"
        seen[self.step_count] = (
            sorted(os.listdir(previous)) if previous.exists() else None,
            (out / "checkpoint.npz").exists(),
        )
        return real(self)

    monkeypatch.setattr(Trainer, "step", look)
    assert train(out, 4, "--force", "--ckpt-every", "2") == 0
    old = ["checkpoint.npz", "config.json", "eval.json", "metrics.jsonl", "plots", "samples"]
    assert seen == {0: (old, False), 1: (old, False), 2: (None, True), 3: (None, True)}
    assert not (out / ".pending").exists()
    assert io.load_checkpoint(out / "checkpoint.npz")["step"] == 4
    assert (out / "notes.txt").read_text() == "mine"  # not the run's: never touched


@pytest.mark.parametrize("failure", ["diverges", "data", "interrupt", "exception", "oom"])
def test_a_failed_fresh_run_leaves_nothing_that_blocks_the_rerun(
    tmp_path, monkeypatch, capsys, nanring, failure
):
    out = tmp_path / "a" / "b" / "run"
    (tmp_path / "keep.txt").write_text("mine")
    if failure == "diverges":
        assert train(out, 3, "--data", "nanring") == 1
        assert "nothing was kept (the same command starts afresh)" in error_line(capsys)
    elif failure == "data":  # a dataset whose files turn out to be missing, found after the checks
        spec = dataclasses.replace(registry.get("ring8"), make_data=lambda c: open(tmp_path / "nope.idx"))
        monkeypatch.setitem(registry._REGISTRY, "ring8", spec)
        assert train(out, 3) == 1
        assert "nope.idx" in error_line(capsys)
    elif failure == "interrupt":
        fail_at_step(monkeypatch, 1, KeyboardInterrupt)
        assert train(out, 3) == 130
        assert "interrupted; no checkpoint was written yet, so nothing was kept" in error_line(capsys)
    elif failure == "exception":  # a bug: the traceback is shown, and the directory still goes
        fail_at_step(monkeypatch, 2, RuntimeError("boom"))
        with pytest.raises(RuntimeError, match="boom"):
            train(out, 3)
    else:
        fail_at_step(monkeypatch, 1, MemoryError())
        assert train(out, 3) == 1
        assert "out of memory at step 1 with --batch-size 16; use a smaller --batch-size" in error_line(
            capsys
        )
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]  # a/b/run and its parents are gone again
    monkeypatch.undo()
    assert train(out, 3) == 0  # the corrected command needs no --force
    assert io.load_checkpoint(out / "checkpoint.npz")["step"] == 3


def test_a_failed_run_in_an_existing_empty_directory_keeps_the_directory(tmp_path, nanring):
    out = tmp_path / "run"
    out.mkdir()
    assert train(out, 3, "--data", "nanring") == 1
    assert out.is_dir() and os.listdir(out) == []


def test_a_full_disk_keeps_the_last_checkpoint_and_the_replaced_run(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    assert train(out, 3, "--log-every", "1") == 0
    before = tree(out)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(io.np, "savez", full)
    assert train(out, 4, "--force") == 1  # the first checkpoint cannot be written: the old run comes back
    err = error_line(capsys)
    assert "No space left on device" in err and "the run it replaced" in err
    assert tree(out) == before
    assert main(["train", "--out", str(out), "--steps", "6", "--resume", "--no-progress"]) == 1
    err = error_line(capsys)
    assert f"cannot write in run directory {out}: No space left on device" in err
    assert f"the last good checkpoint ({out / 'checkpoint.npz'}, step 3) is kept" in err
    monkeypatch.undo()
    assert io.load_checkpoint(out / "checkpoint.npz")["step"] == 3 and not any(
        name.endswith(".tmp") for name in os.listdir(out)
    )
    assert main(["train", "--out", str(out), "--steps", "6", "--resume", "--no-progress"]) == 0
    straight = tmp_path / "straight"
    assert train(straight, 6, "--ckpt-every", "3", "--log-every", "1") == 0
    assert (straight / "metrics.jsonl").read_text() == (out / "metrics.jsonl").read_text()


# -- one trainer per directory ------------------------------------------------------------------------
def test_a_second_trainer_refuses_and_a_stale_lock_is_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, 2) == 0
    capsys.readouterr()
    with RunLock(out / ".lock"):
        for argv in (["--resume"], ["--force"]):
            assert main(["train", "--out", str(out), "--steps", "3", "--no-progress", *argv]) == 1
            err = error_line(capsys)
            assert f"in use by another minigan train (pid {os.getpid()}; lock file {out / '.lock'})" in err
    assert io.load_checkpoint(out / "checkpoint.npz")["step"] == 2
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / ".lock").write_text(f"{dead.pid}\n")  # left by a trainer that died
    assert main(["train", "--out", str(out), "--steps", "3", "--resume", "--no-progress"]) == 0
    assert not (out / ".lock").exists()


def test_a_killed_trainers_lock_pending_run_and_temp_files_are_cleaned(tmp_path, capsys):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "minigan.cli", "train", "--out", str(out), "--steps", "100000000"]
    proc = subprocess.Popen(cmd + ["--ckpt-every", "100000000", *TINY], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not ((out / ".lock").exists() and (out / "config.json").exists()):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the trainer did not start"
            time.sleep(0.1)
        assert train(out, 2) == 1
        assert f"is in use by another minigan train (pid {proc.pid}" in error_line(capsys)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    # what a kill -9 leaves: the lock file, a pending run, temporary files of cut-short writes
    (out / ".checkpoint.npz.abcd1234.tmp").write_bytes(b"half")
    (out / "plots").mkdir(exist_ok=True)
    (out / "plots" / ".curves.png.abcd1234.tmp.png").write_bytes(b"half")
    assert {".lock", ".pending", "config.json"} <= set(os.listdir(out))
    assert train(out, 2) == 0  # no --force needed: the killed run never wrote a checkpoint
    assert sorted(os.listdir(out)) == [
        "checkpoint.npz", "config.json", "eval.json", "metrics.jsonl", "plots", "samples",
    ]  # fmt: skip
    assert sorted(os.listdir(out / "plots")) == ["curves.png", "samples.png"]


@pytest.mark.parametrize("stage", ["moving", "training", "committed"])
def test_a_force_killed_at_any_stage_is_finished_by_the_next_start(tmp_path, stage):
    out = tmp_path / "run"
    assert train(out, 2) == 0
    old = tree(out)
    previous = out / ".previous-run"
    previous.mkdir()
    (out / ".pending").write_text(json.dumps({"moved": stage != "moving"}))
    os.rename(out / "checkpoint.npz", previous / "checkpoint.npz")  # always moved first
    if stage != "moving":
        for name in ("config.json", "metrics.jsonl", "eval.json", "plots", "samples"):
            os.rename(out / name, previous / name)
        (out / "config.json").write_text('{"data": "ring8", "half": "written"}')
    if stage == "committed":  # killed between the new run's first checkpoint and deleting the old run
        io.save_checkpoint(out / "checkpoint.npz", {"new": 1})
        RunDir(out).recover()
        assert not previous.exists() and not (out / ".pending").exists()
        assert io.load_checkpoint(out / "checkpoint.npz") == {"new": 1}
        return
    assert main(["train", "--out", str(out), "--steps", "3", "--resume", "--no-progress"]) == 0
    assert not previous.exists() and not (out / ".pending").exists()
    assert io.load_checkpoint(out / "checkpoint.npz")["step"] == 3  # the old run, restored and resumed
    assert tree(out)["metrics.jsonl"].startswith(old["metrics.jsonl"])


# -- commands that train nothing write nothing ---------------------------------------------------------
def test_sample_eval_and_a_finished_resume_do_not_rewrite_the_config(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, 2, "--ckpt-every", "1") == 0
    files = ("config.json", "metrics.jsonl", "checkpoint.npz")
    stamp = {name: ((out / name).stat().st_mtime_ns, (out / name).read_bytes()) for name in files}
    time.sleep(0.01)
    assert main(["sample", str(out), "--n", "5", "--out", str(tmp_path / "x.npy")]) == 0
    assert main(["eval", str(out), "--n", "100"]) == 0
    assert main(["train", "--out", str(out), "--steps", "2", "--resume"]) == 0
    assert main(["train", "--out", str(out), "--steps", "1", "--resume", "--ckpt-every", "5"]) == 0
    assert "nothing to train" in capsys.readouterr().out
    assert {name: ((out / name).stat().st_mtime_ns, (out / name).read_bytes()) for name in files} == stamp


def test_a_run_stopped_before_its_evaluation_gets_it_on_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_cli, "_finish", killed)
    assert train(out, 3) == 130
    monkeypatch.undo()
    assert io.load_checkpoint(out / "checkpoint.npz")["step"] == 3
    assert not (out / "eval.json").exists() and os.listdir(out / "plots") == []
    config = (out / "config.json").read_bytes()
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--steps", "3", "--resume", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "nothing to train" in printed and "writing the final plots and evaluation" in printed
    assert json.loads((out / "eval.json").read_text())["step"] == 3
    assert sorted(os.listdir(out / "plots")) == ["curves.png", "samples.png"]
    assert (out / "config.json").read_bytes() == config
    assert main(["train", "--out", str(out), "--steps", "3", "--resume"]) == 0  # complete now: no rewrite
    assert "writing the final" not in capsys.readouterr().out


def test_train_tunes_the_process(tmp_path, monkeypatch):
    import minigan.kernels as kernels

    calls = []
    monkeypatch.setattr(kernels, "tune_process", lambda: calls.append(1))
    assert train(tmp_path / "run", 1) == 0
    assert calls and all(c == 1 for c in calls)  # the CLI and the Trainer it builds both ask
