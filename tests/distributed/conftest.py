"""Shared by the 2-rank tests: run a script under ``mpiexec -n N`` with a timeout (a hang is a failure).

The tests need mpi4py and an MPI library (the ``mpi`` extra, which ``.ci/run`` installs); without them
they fail saying so, rather than skip: data-parallel training is part of what CI checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MNIST_DIR = Path(os.environ.get("MINIGAN_MNIST_DIR", ROOT.parent / "shared" / "data" / "mnist"))


needs_mnist = pytest.mark.skipif(not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(),
                                 reason=f"real MNIST test files not in {MNIST_DIR}")  # fmt: skip


def mpiexec() -> str:
    from minigan.distributed.launch import find_mpiexec

    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.fail('mpi4py is not installed: pip install -e ".[mpi]" (CI installs it)')
    return find_mpiexec()


def run(args: list[str], n: int | None = None, timeout: float = 180, env: dict | None = None, cwd=None,
        exe: str | None = None):  # fmt: skip
    """``python args`` (under ``mpiexec -n n`` when n is given; ``exe args`` when exe is given); the
    CompletedProcess, output as text."""
    if exe is not None:
        cmd = [exe, *args]
    else:
        cmd = [sys.executable, *args] if n is None else [mpiexec(), "-n", str(n), sys.executable, *args]
    full_env = {**os.environ, "MINIGAN_MNIST_DIR": str(MNIST_DIR), "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd)


def check(proc) -> None:
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-3000:]}"
        f"\n--- stderr ---\n{proc.stderr[-3000:]}"
    )
