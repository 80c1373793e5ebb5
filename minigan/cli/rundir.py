"""The run directory of ``minigan train``: what a training run leaves behind, and how it is read back.
Chapter 07 (training runs).

    RUN/config.json       every hyper-parameter of the run (JSON); ``--resume`` reads it back
    RUN/metrics.jsonl     one JSON record per logged step (loss_D, loss_G, D(x), D(G(z)), V, grad norms)
    RUN/checkpoint.npz    models, optimizers, RNG states and step counter (``minigan.io``, atomic, no pickle)
    RUN/samples/          step_XXXXXXX.png: generator samples from a fixed noise batch during training
    RUN/plots/            curves.png (losses and D outputs), samples.png (the final generator)
    RUN/eval.json         the final evaluation (strict JSON: a NaN or infinite figure is null, with a note)

and, while a ``minigan train`` works in it, its bookkeeping (hidden, never part of a finished run):

    RUN/.lock             the trainer's pid, under an exclusive lock: a second trainer refuses to start
    RUN/.pending          a fresh run that has not written its first checkpoint yet
    RUN/.previous-run/    what ``--force`` replaces, kept until the new run's first checkpoint

A run directory never loses work. A fresh run is *pending* until its first checkpoint: if it fails (bad
data found late, divergence at step 1, an exception, Ctrl-C) before that, its files are removed again,
together with the directories it created, and what ``--force`` moved aside is moved back, so the
corrected command runs as if nothing had happened. ``--force`` moves the old run's files aside (one
``rename`` each) and deletes them only after the new run's first checkpoint. A trainer killed outright
leaves ``.pending``; the next ``minigan train`` in the directory finishes the job (rolls back, or commits
if the checkpoint was written), and removes the temporary files of interrupted atomic writes.

Every file is written atomically (temporary file + rename), so an interrupted run never leaves a
half-written config or checkpoint. On ``--resume`` the metrics are cut back to the checkpoint's step, so a
resumed run's metrics.jsonl is the same as an uninterrupted one's.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
from pathlib import Path

from .. import io
from ..io import atomic_write
from .lock import LockedError, RunLock


class RunDirError(RuntimeError):
    """A run directory cannot be used as asked (exists already, has no config, is locked, ...)."""


class RunDir:
    CONFIG = "config.json"
    METRICS = "metrics.jsonl"
    CHECKPOINT = "checkpoint.npz"
    EVAL = "eval.json"
    SAMPLES = "samples"
    PLOTS = "plots"
    # the run's own files; the checkpoint first, so that a --force cut short moves it aside before the rest
    OWNED = (CHECKPOINT, CONFIG, METRICS, EVAL, SAMPLES, PLOTS)
    LOCK = ".lock"
    PENDING = ".pending"
    PREVIOUS = ".previous-run"
    BOOKKEEPING = (LOCK, PENDING, PREVIOUS)

    def __init__(self, path):
        self.path = Path(path)
        self._lock = RunLock(self.path / self.LOCK)
        self._created: list[Path] = []  # directories this process made for a fresh run, outermost first

    def __truediv__(self, name) -> Path:
        return self.path / name

    @property
    def checkpoint(self) -> Path:
        return self.path / self.CHECKPOINT

    @property
    def metrics(self) -> Path:
        return self.path / self.METRICS

    @property
    def pending(self) -> bool:
        """True while this run has no first checkpoint (its files go away again if it fails)."""
        return (self.path / self.PENDING).exists()

    # -- a training session ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def session(self, fresh: bool, force: bool = False):
        """Train in this directory: lock it, recover what an interrupted trainer left, and for a ``fresh``
        run make it (see the module docstring). If the block fails or ends while the run is still pending,
        the fresh run is rolled back; the lock is always released."""
        if fresh:
            self._make_directories()
        try:
            self._acquire()
            self.recover()
            if fresh:
                self._prepare_new(force)
        except OSError as err:
            self._close()
            raise RunDirError(f"cannot write in run directory {self.path}: {err.strerror or err}") from None
        except BaseException:
            self._close()
            raise
        try:
            yield self
        finally:
            try:
                if self.pending:
                    self.rollback()
            finally:
                self._close()

    def _make_directories(self) -> None:
        if self.path.exists():
            if not self.path.is_dir():
                raise RunDirError(f"{self.path} exists and is not a directory")
            return
        missing, p = [], self.path.absolute()
        while not p.exists():
            missing.append(p)
            p = p.parent
        if not p.is_dir():
            raise RunDirError(f"cannot create run directory {self.path}: {p} is a file, not a directory")
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                continue
            except OSError as err:
                self._remove_created()
                raise RunDirError(f"cannot create run directory {self.path}: {err.strerror or err}") from None
            self._created.append(d)

    def _acquire(self) -> None:
        if not self.path.is_dir():
            raise RunDirError(f"run directory {self.path} does not exist")
        try:
            self._lock.acquire()
        except LockedError as err:
            raise RunDirError(f"run directory {self.path} is {err}") from None
        except OSError as err:
            raise RunDirError(f"cannot write in run directory {self.path}: {err.strerror or err}") from None

    def _close(self) -> None:
        self._lock.release()
        self._remove_created()

    def _remove_created(self) -> None:
        """Remove the directories a rolled-back fresh run made, innermost first, as long as they are empty."""
        if self.path.exists() and any(self.path.iterdir()):
            self._created = []  # the run was kept (or someone else's files are there now)
        while self._created:
            try:
                self._created.pop().rmdir()
            except OSError:
                self._created = []

    def recover(self) -> None:
        """Finish what an interrupted trainer left: temporary files of cut-short writes, and a pending run
        (committed if its checkpoint was written, rolled back otherwise). Needs the lock."""
        for p in self.temp_files():
            p.unlink()
        marker = self.path / self.PENDING
        if not marker.exists():
            if (self.path / self.PREVIOUS).exists():  # committed, but killed while deleting the old run
                shutil.rmtree(self.path / self.PREVIOUS)
            return
        try:
            moved = json.loads(marker.read_text()).get("moved", True)
        except (OSError, ValueError, AttributeError):
            moved = True
        if not moved:  # killed while moving the old run aside: the new run wrote nothing yet
            self._restore_previous()
            marker.unlink()
        elif self.checkpoint.exists():
            self.commit()
        else:
            self.rollback()

    def temp_files(self) -> list[Path]:
        """Leftovers of interrupted atomic writes in the run's files and folders."""
        out = io.temp_files(self.path, targets=self.OWNED + (self.PENDING,))
        return out + io.temp_files(self.path / self.SAMPLES) + io.temp_files(self.path / self.PLOTS)

    def run_files(self) -> list[str]:
        """What the directory holds apart from a trainer's bookkeeping."""
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir() if p.name not in self.BOOKKEEPING)

    def _prepare_new(self, force: bool) -> None:
        present = self.run_files()
        if present and not force:
            raise RunDirError(
                f"run directory {self.path} already exists and is not empty; pass --resume to continue "
                "it, --force to start over in it, or choose another --out"
            )
        owned = [name for name in self.OWNED if (self.path / name).exists()]
        try:
            if owned:
                self._write_marker(moved=False)
                previous = self.path / self.PREVIOUS
                previous.mkdir()
                for name in owned:
                    os.rename(self.path / name, previous / name)
            self._write_marker(moved=True)
            (self.path / self.SAMPLES).mkdir()
            (self.path / self.PLOTS).mkdir()
        except OSError as err:
            if (self.path / self.PENDING).exists():
                self.rollback()
            raise RunDirError(f"cannot write in run directory {self.path}: {err.strerror or err}") from None

    def _write_marker(self, moved: bool) -> None:
        text = json.dumps({"pid": os.getpid(), "moved": moved}) + "\n"
        atomic_write(self.path / self.PENDING, lambda f: f.write(text.encode()))

    def commit(self) -> None:
        """The run's first checkpoint is written: it is kept from now on, and the run it replaced goes."""
        with contextlib.suppress(FileNotFoundError):
            (self.path / self.PENDING).unlink()
        if (self.path / self.PREVIOUS).exists():
            shutil.rmtree(self.path / self.PREVIOUS)

    def rollback(self) -> None:
        """Undo a pending fresh run: remove its files, move back what it replaced."""
        for name in self.OWNED:
            p = self.path / name
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()
        self._restore_previous()
        with contextlib.suppress(FileNotFoundError):
            (self.path / self.PENDING).unlink()

    def _restore_previous(self) -> None:
        previous = self.path / self.PREVIOUS
        if not previous.is_dir():
            return
        for p in previous.iterdir():  # the replaced run wins over whatever the pending one wrote
            target = self.path / p.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            os.rename(p, target)
        previous.rmdir()

    # -- writing --------------------------------------------------------------------------------------
    def write_json(self, name: str, obj) -> None:
        """``obj`` as strict JSON (``allow_nan=False``): a NaN or infinite number becomes null, and a
        ``notes`` entry says which."""
        notes: list[str] = []
        obj = strict_json(obj, "", notes)
        if notes and isinstance(obj, dict):
            obj = {**obj, "notes": [*obj.get("notes", []), *notes]}
        text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"
        atomic_write(self.path / name, lambda f: f.write(text.encode()))

    def write_config(self, config: dict) -> bool:
        """Write config.json unless it already holds ``config``; True if it was written."""
        try:
            if json.loads((self.path / self.CONFIG).read_text()) == json.loads(json.dumps(config)):
                return False
        except (OSError, ValueError):
            pass
        self.write_json(self.CONFIG, config)
        return True

    # -- reading --------------------------------------------------------------------------------------
    def read_config(self) -> dict:
        path = self.path / self.CONFIG
        if not self.path.is_dir():
            raise RunDirError(f"run directory {self.path} does not exist")
        if not path.is_file():
            raise RunDirError(f"{self.path} is not a minigan run directory (no {self.CONFIG})")
        try:
            config = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise RunDirError(f"{path}: unreadable config ({err})") from None
        if not isinstance(config, dict) or "data" not in config:
            raise RunDirError(f"{path}: not a minigan run config (no 'data' entry)")
        return config

    def read_eval(self) -> dict | None:
        try:
            result = json.loads((self.path / self.EVAL).read_text())
        except (OSError, ValueError):
            return None
        return result if isinstance(result, dict) else None

    # -- metrics --------------------------------------------------------------------------------------
    def append_metrics(self, records) -> None:
        if not records:
            return
        with open(self.metrics, "a", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def read_metrics(self) -> list[dict]:
        if not self.metrics.exists():
            return []
        out = []
        with open(self.metrics, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except ValueError:
                    break  # a line cut short by a crash: everything after it is dropped
        return out

    def truncate_metrics(self, step: int) -> None:
        """Keep only the records up to and including ``step`` (those the checkpoint has seen); the file
        is rewritten only if that drops something."""
        if not self.metrics.exists():
            return
        keep = [r for r in self.read_metrics() if r.get("step", 0) <= step]
        text = "".join(json.dumps(r) + "\n" for r in keep)
        if self.metrics.read_text(encoding="utf-8") != text:
            atomic_write(self.metrics, lambda f: f.write(text.encode()))


def strict_json(obj, where: str, notes: list):
    """``obj`` with every NaN / infinite float replaced by None (each one noted in ``notes``)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        notes.append(f"{where or 'value'} was {obj} (not finite), stored as null")
        return None
    if isinstance(obj, dict):
        return {k: strict_json(v, f"{where}.{k}" if where else str(k), notes) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v, f"{where}[{i}]", notes) for i, v in enumerate(obj)]
    if hasattr(obj, "tolist") and hasattr(obj, "ndim"):  # a NumPy scalar or array
        return strict_json(obj.tolist(), where, notes)
    return obj
