"""One trainer per run directory: ``RUN/.lock`` holds the pid of the ``minigan train`` using it. Chapter 07
(training runs).

The lock is an exclusive ``flock`` on that file, which the operating system drops when its process ends,
however it ends (even ``kill -9``): a lock file left by a dead process is stale and simply taken over;
the pid written in it is for the message a second trainer prints. Where ``fcntl`` does not exist
(Windows), the pid alone decides: a lock whose pid is not running is stale.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


class LockedError(RuntimeError):
    """Another live process holds the lock (the message names its pid and the lock file)."""


def pid_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` is running (on this machine)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:  # pragma: no cover - Windows raises OSError for a missing pid
        return False
    return True


def read_pid(path) -> int | None:
    try:
        return int(Path(path).read_text().strip() or "0")
    except (OSError, ValueError):
        return None


class RunLock:
    """``acquire()`` the lock file ``path`` (``LockedError`` if a live process holds it); ``release()`` it."""

    def __init__(self, path):
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        for _ in range(10):  # a lock file removed between our open and our flock: open it again
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if not self._lock(fd):
                    pid = read_pid(self.path)
                    who = f"pid {pid}" if pid else "another process"
                    raise LockedError(f"in use by another minigan train ({who}; lock file {self.path})")
                if os.fstat(fd).st_ino != os.stat(self.path).st_ino:
                    raise FileNotFoundError(self.path)
            except FileNotFoundError:
                os.close(fd)
                continue
            except BaseException:
                os.close(fd)
                raise
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            os.fsync(fd)
            self._fd = fd
            return
        raise LockedError(f"could not take the lock file {self.path} (it keeps being replaced)")

    def _lock(self, fd: int) -> bool:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True
        pid = read_pid(self.path)  # pragma: no cover - Windows
        return not (pid and pid != os.getpid() and pid_alive(pid))

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # while still locked: nobody can have taken it in between
        os.close(self._fd)
        self._fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
