"""``minigan train --distributed`` / ``--nproc``: 2 ranks through the CLI (chapter 16).

Resume is bit-identical at the same world size and refused at another; usage errors are one line, exit 2,
reported once and nothing written; a rank killed with SIGKILL stops the others within seconds, named,
and the last checkpoint resumes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np

from minigan.cli import main
from minigan.io import load_checkpoint

from .conftest import check, run

SMALL = ["--data", "ring8", "--hidden", "32", "--batch-size", "64", "--no-progress", "--ckpt-every", "50"]


def _train(out, *extra, n=2):
    return run(
        ["-m", "minigan.cli", "train", "--out", str(out), *SMALL, "--nproc", str(n), *extra], timeout=300
    )


def _same(a, b) -> bool:
    """Equal checkpoint contents: dicts by key (not order), arrays bit for bit."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype
    return a == b


def test_resume_on_two_ranks_is_bit_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    check(_train(a, "--steps", "100"))
    check(_train(a, "--steps", "200", "--resume"))
    check(_train(b, "--steps", "200"))
    x, y = load_checkpoint(a / "checkpoint.npz"), load_checkpoint(b / "checkpoint.npz")
    assert set(x["ranks"]) == {"0", "1"} and x["ranks"]["0"]["rng"] != x["ranks"]["1"]["rng"]
    assert _same(x, y)
    assert (a / "metrics.jsonl").read_text() == (b / "metrics.jsonl").read_text()


def test_resume_with_another_world_size_is_refused_and_changes_nothing(tmp_path):
    out = tmp_path / "run"
    check(_train(out, "--steps", "50"))
    before = (out / "checkpoint.npz").read_bytes()
    proc = run(
        ["-m", "minigan.cli", "train", "--out", str(out), "--resume", "--steps", "100", "--no-progress"]
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "trained on 2 rank(s), this launch has 1" in proc.stderr
    proc = _train(out, "--steps", "100", "--resume", n=3)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("minigan: error:") == 1 and "this launch has 3" in proc.stderr  # rank 0 only
    assert (out / "checkpoint.npz").read_bytes() == before


def test_distributed_outside_an_mpi_launch(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *SMALL, "--steps", "5", "--distributed"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not started by an MPI launcher" in err and "--nproc N" in err
    assert not out.exists()


def test_distributed_without_mpi4py(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now fails, as when it is not installed
    out = tmp_path / "run"
    for flags in (["--distributed"], ["--nproc", "2"]):
        assert main(["train", "--out", str(out), *SMALL, "--steps", "5", *flags]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and 'pip install -e ".[mpi]"' in err, err
    assert not out.exists()


def test_batch_size_must_split_over_the_ranks(tmp_path):
    proc = run(["-m", "minigan.cli", "train", "--out", str(tmp_path / "r"), *SMALL, "--batch-size", "63",
                "--nproc", "2", "--steps", "5"])  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.count("minigan: error:") == 1 and "not a multiple of the 2 ranks" in proc.stderr
    assert not (tmp_path / "r").exists()


def _rank_pid(out, rank: int, timeout: float = 60) -> int:
    """The pid of ``rank`` of the training writing ``out`` (from the environment mpiexec gave it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = subprocess.run(
            ["pgrep", "-f", f"{out} .*--distributed"], capture_output=True, text=True
        ).stdout
        for pid in map(int, pids.split()):
            try:
                env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            except OSError:
                continue
            if f"PMI_RANK={rank}".encode() in env:
                return pid
        time.sleep(0.2)
    raise AssertionError(f"no rank {rank} training {out} appeared within {timeout} s")


def test_a_killed_rank_stops_the_others_and_the_checkpoint_resumes(tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "minigan.cli",
        "train",
        "--out",
        str(out),
        *SMALL,
        "--steps",
        "100000",
        "--nproc",
        "2",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        victim = _rank_pid(out, 1)
        deadline = time.time() + 120
        while not (out / "checkpoint.npz").exists():  # wait for a checkpoint to be on disk
            assert time.time() < deadline and proc.poll() is None, "no checkpoint was written"
            time.sleep(0.2)
        time.sleep(1.0)
        killed_at = time.time()
        import os

        os.kill(victim, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)  # no hang
        stopped_in = time.time() - killed_at
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert stopped_in < 10, stopped_in
    # named by --nproc (from the launcher's report) or, had it come first, by rank 0's watchdog
    assert (
        f"rank 1 (pid {victim}) was killed by signal 9 (SIGKILL)" in err
        or f"rank 1 (pid {victim}) is gone" in err
    ), err
    assert "checkpoint" in err and "is kept" in err
    check(_train(out, "--steps", "60", "--resume"))  # the last checkpoint (a multiple of 50) loads
