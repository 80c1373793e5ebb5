"""Starting the ranks, and noticing when one of them dies. Chapter 16 (scaling out).

``mpiexec -n N python -m minigan train ... --distributed`` starts N ranks; ``minigan train --nproc N ...``
does that for you with the ``mpiexec`` next to the running Python (the ``mpich`` wheel of the ``mpi``
extra puts one in the virtual environment's bin/), or the first on PATH.

A rank that stops while the others are inside a collective must not leave them waiting: MPI has no
timeout. What MPICH's launcher (Hydra) does, measured here: when a rank is killed by a signal, or exits
without finalising MPI, it kills the others at once (milliseconds) and prints a "BAD TERMINATION" block
naming the dead process's pid and exit code, not its rank. But a Python program that ends normally on an
error (``sys.exit``) first finalises MPI, which waits for the other ranks: both wait forever. So:

* a rank that stops on an error only it hit (data it cannot read, a full disk, out of memory) prints its
  one-line error and then calls ``MPI_Abort``, which ends every rank of the job (``cli/distributed.py``);
  an error every rank hits at the same step (a NaN: the records are averaged) ends them all normally;
* ``--nproc`` runs mpiexec as a child, hands the ranks a folder (``MINIGAN_RANK_DIR``) where each writes
  its pid, passes mpiexec's output through, and reads Hydra's (or Open MPI's) report of the process that
  died: then it says which *rank* that was (``DeathReport``). Under a plain ``mpiexec``, rank 0 prints the
  ranks' pids at the start, so the launcher's report can be read the same way by hand.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys

from .process_group import MPI_EXTRA, DistributedError


def find_mpiexec() -> str:
    """The mpiexec beside sys.executable (a venv with the mpich wheel), else the first on PATH."""
    here = os.path.dirname(sys.executable)
    found = shutil.which("mpiexec", path=here) or shutil.which("mpiexec")
    if found is None:
        where = f"beside {sys.executable} or on PATH"
        raise DistributedError(f"--nproc needs mpiexec, and none was found {where}: {MPI_EXTRA}")
    return found


def launch_command(nproc: int, args: list[str]) -> list[str]:
    """The command that runs ``python -m minigan.cli <args>`` as ``nproc`` ranks."""
    return [find_mpiexec(), "-n", str(nproc), sys.executable, "-m", "minigan.cli", *args]


# the thread-count variables of the libraries a rank runs (OpenMP / Numba / OpenBLAS / MKL): a launch
# gives each rank its share of the cores through them
THREAD_VARS = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
RANK_DIR = "MINIGAN_RANK_DIR"  # where each rank started by --nproc writes its pid (file "rank<r>")
# how launchers name a process that died: Hydra's "BAD TERMINATION" block ("PID 5711 RUNNING AT host",
# then "EXIT CODE: 9"), Open MPI's "process rank 1 with PID 5711 on node host exited on signal 9"
DEATH_PATTERNS = (
    re.compile(r"PID (?P<pid>\d+) RUNNING AT"),
    re.compile(r"process rank \d+ with PID (?P<pid>\d+) on node \S+ exited on signal (?P<signal>\d+)"),
)
EXIT_CODE = re.compile(r"EXIT CODE: (?P<code>\d+)")


def register_rank(rank: int) -> None:
    """Under ``--nproc``: write this rank's pid where the launcher looks for it."""
    folder = os.environ.get(RANK_DIR)
    if folder:
        with open(os.path.join(folder, f"rank{rank}"), "w") as f:
            f.write(str(os.getpid()))


class DeathReport:
    """Reads the launcher's output line by line (``feed``) for a process that died, and says which rank
    it was (``message``), from the pids the ranks registered in ``folder``."""

    def __init__(self, folder: str):
        self.folder, self.pid, self.code = folder, None, None

    def feed(self, line: str) -> None:
        for pattern in DEATH_PATTERNS:
            m = pattern.search(line)
            if m and self.pid is None:
                self.pid = int(m.group("pid"))
                if "signal" in m.groupdict() and m.group("signal"):
                    self.code = int(m.group("signal"))
        m = EXIT_CODE.search(line)
        if m and self.pid is not None and self.code is None:
            self.code = int(m.group("code"))

    def rank(self) -> int | None:
        for name in os.listdir(self.folder):
            try:
                with open(os.path.join(self.folder, name)) as f:
                    if int(f.read().strip()) == self.pid:
                        return int(name.removeprefix("rank"))
            except (OSError, ValueError):
                continue
        return None

    def message(self) -> str | None:
        """'rank 1 (pid 5711) was killed by signal 9 (SIGKILL)', or None if no death was reported."""
        if self.pid is None:
            return None
        r = self.rank()
        who = f"rank {r} (pid {self.pid})" if r is not None else f"process {self.pid}"
        if self.code is not None and 0 < self.code < 64:
            try:
                name = f" ({signal.Signals(self.code).name})"
            except ValueError:
                name = ""
            return f"{who} was killed by signal {self.code}{name}; the launcher stopped the other ranks"
        return f"{who} ended with exit code {self.code}; the launcher stopped the other ranks"
