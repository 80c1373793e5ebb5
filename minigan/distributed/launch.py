"""Starting the ranks, and noticing when one of them dies. Chapter 16 (scaling out).

``mpiexec -n N python -m minigan train ... --distributed`` starts N ranks; ``minigan train --nproc N ...``
does that for you with the ``mpiexec`` next to the running Python (the ``mpich`` wheel of the ``mpi``
extra puts one in the virtual environment's bin/), or the first on PATH.

A rank that dies (killed, out of memory, an error only it hit) can leave the others waiting forever in their
next collective: MPI has no timeout. What MPICH's launcher (Hydra) does, measured here: when a rank is
killed by a signal it ends the others about 0.1 s later, saying only "Killed (signal 9)"; when a rank
exits with an error code while the others are blocked in a collective, nobody ends them (a hang). So
every rank runs a ``Watchdog``: a thread that checks, every ``interval`` seconds (20 ms), that the other
ranks on its machine are still alive (``os.kill(pid, 0)``; mpi4py releases the GIL while a collective
blocks, so the thread runs), and if one is gone prints which rank it was and ends this process at once.
``--nproc`` starts Hydra with ``-disable-auto-cleanup`` (it then still ends the job on a signal, as
measured, but leaves an error exit to the watchdog). Before a rank leaves normally, every rank stops its
watchdog together (``stop_together``), so a rank that finishes first is not taken for a dead one. Ranks on
other machines are left to the launcher (Hydra or srun end the job when a node's processes die).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
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
    mpiexec = find_mpiexec()
    version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    extra = ["-disable-auto-cleanup"] if "HYDRA" in version else []  # our watchdog names the dead rank
    return [mpiexec, *extra, "-n", str(nproc), sys.executable, "-m", "minigan.cli", *args]


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
