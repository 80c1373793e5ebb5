"""Starting the ranks, and noticing when one of them dies. Chapter 16 (scaling out).

``mpiexec -n N python -m minigan train ... --distributed`` starts N ranks; ``minigan train --nproc N ...``
does that for you with the ``mpiexec`` next to the running Python (the ``mpich`` wheel of the ``mpi``
extra puts one in the virtual environment's bin/), or the first on PATH.

A rank that dies (killed, out of memory, an error only it hit) can leave the others waiting forever in their
next collective: MPI has no timeout. What MPICH's launcher (Hydra) does, measured here: when a rank is
killed by a signal, it kills the others at once (within milliseconds) and prints a "BAD TERMINATION"
block naming the dead process's pid and exit code, not its rank; when a rank exits with an error code
while the others are blocked in a collective, nobody ends them (a hang). Two guards, one for each case:

* every rank runs a ``Watchdog``: a thread that checks, every ``interval`` seconds (20 ms), that the
  other ranks on its machine are still alive (``os.kill(pid, 0)``; mpi4py releases the GIL while a
  collective blocks, so the thread runs) and, if one is gone, prints which rank it was and ends this
  process. It catches the exit-with-error case (the hang). Before a rank leaves normally, every rank stops
  its watchdog together (``stop_together``), so a rank that finishes first is not taken for a dead one;
* ``--nproc`` runs mpiexec as a child, hands the ranks a folder (``MINIGAN_RANK_DIR``) where each writes
  its pid, passes mpiexec's output through, and reads Hydra's (or Open MPI's) report of the process that
  died: then it says which *rank* that was (``DeathReport``). That catches the signal case, where the
  others are killed before any watchdog could speak.

Ranks on other machines are left to the launcher (Hydra or srun end the job when a node's processes die).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sys
import threading

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


class Watchdog:
    """Ends this rank, with a message, when another rank on this machine has died (module docstring).
    ``message(rank, pid)`` gives the line to print (it may name the run's last checkpoint)."""

    def __init__(self, group, message, interval: float = 0.02):
        self.group, self.message, self.interval = group, message, interval
        me = (socket.gethostname(), os.getpid())
        everyone = group.all_gather_object(me)
        self.peers = [(r, pid) for r, (host, pid) in enumerate(everyone) if host == me[0] and r != group.rank]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="minigan-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            for rank, pid in self.peers:
                if not _alive(pid) and not self._stop.is_set():
                    line = f"minigan: rank {self.group.rank}: {self.message(rank, pid)}"
                    print(line, file=sys.stderr, flush=True)
                    os._exit(1)  # the main thread is blocked in a collective that will never end

    def stop(self) -> None:
        """Stop watching (this rank is leaving: an error every rank hit, or the end)."""
        self._stop.set()

    def stop_together(self) -> None:
        """Every rank meets here, then stops watching: the normal end of training."""
        self.group.barrier()
        self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that has exited but not been reaped yet (Linux: state Z in /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
