"""A rank that meets an error of its own during training (here: it cannot read the dataset, which the
other rank has) prints it, naming itself, and aborts the job, so nothing hangs. (Errors rank 0 meets before
training are reported once, every rank exiting with its code: test_cli_distributed.py.)"""

from __future__ import annotations

import sys
import time

from .conftest import MNIST_DIR, mpiexec, needs_mnist, run


@needs_mnist
def test_a_rank_without_the_data_stops_every_rank(tmp_path):
    have, lack = tmp_path / "have", tmp_path / "lack"
    (have).mkdir()
    (have / "mnist").symlink_to(MNIST_DIR)
    lack.mkdir()
    train = ["-m", "minigan.cli", "train", "--data", "mnist", "--split", "test", "--steps", "3", "--set",
             "width=8", "--batch-size", "8", "--no-progress", "--out", str(tmp_path / "run"),
             "--distributed"]  # fmt: skip
    cmd = [mpiexec(), "-n", "1", "-env", "MINIGAN_DATA", str(have), sys.executable, *train,
           ":", "-n", "1", "-env", "MINIGAN_DATA", str(lack), sys.executable, *train]  # fmt: skip
    t0 = time.time()
    proc = run(cmd[1:], timeout=120, exe=cmd[0])
    assert time.time() - t0 < 60  # no hang
    assert proc.returncode != 0
    assert (
        "minigan: error: rank 1: could not download" in proc.stderr and "stopping every rank" in proc.stderr
    )
