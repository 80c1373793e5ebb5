"""Executing the chapters for the book: each ``tutorials/NN_slug.py`` run as a notebook, its figures
collected, the result cached (the book; see the README's "The book" section).

``execute(chapter, cache_dir, quick=True)`` converts the chapter with jupytext (percent format), runs it
cell by cell with nbclient in an IPython kernel pinned to this interpreter, and returns an
``Executed``: the notebook with its outputs, and for each code cell the images (.png, .gif, .jpg, .svg)
that cell wrote or rewrote under ``MINIGAN_OUT``, found by comparing the folder before and after the
cell (the chapters save their figures and do not display them, so this is how the book gets them).

The environment is the one ``tests/test_tutorials.py`` sets: ``quick_environment()`` in quick mode
(``MINIGAN_QUICK=1``, one BLAS thread, OpenMP's passive wait; in full mode MINIGAN_QUICK is unset and the
threads are left alone), ``MPLBACKEND=Agg``, ``MINIGAN_OUT`` = a folder of the cache entry, and a fresh
working directory. Printed paths into that folder are shown as ``tutorials/_out``, the folder a reader's
own run writes to. A cell that raises stops the run with ``ChapterError``, whose one-line message names
the chapter, the cell (its number and the chapter line it starts at) and the exception.

The cache: one folder per chapter and mode, keyed by a hash of the chapter's source, the mode and every
``.py`` file of minigan and kernels but minigan/docs/ (a library change re-runs the chapters, so a cached
output is never stale). A hit costs a file read; ``clear_stale`` removes entries no chapter uses any
more. ``execute_many`` runs the chapters missing from the cache several at a time, each in a spawned
process of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGE_SUFFIXES = (".png", ".gif", ".jpg", ".jpeg", ".svg")
KERNEL_NAME = "minigan-docs-python"
CACHE_VERSION = "3"  # bump when how a chapter is run or recorded changes


def quick_environment() -> dict:
    """The variables a quick-mode chapter run sets: ``MINIGAN_QUICK=1``, ``OPENBLAS_NUM_THREADS=1`` and
    ``OMP_WAIT_POLICY=PASSIVE`` (each of the last two only where the caller has not set it). The kernel
    process gets them before it imports anything, so they hold from its first kernel on, where
    ``kernels.tune_process()`` (which ``Trainer`` calls) can come too late in a chapter that ran kernels
    before building its first Trainer.

    Why: quick mode's arrays are tiny (an MLP on a batch of 256, convolutions of 16 small images), where
    worker threads that spin while they wait for work cost more than they give; inside a Jupyter kernel,
    whose own threads compete with them, far more. OpenBLAS's threads get one thread; Numba's kernels keep
    theirs, but under OpenMP's passive wait policy they sleep between parallel loops instead of spinning.
    Measured on this project's 2-core machine with one core busy with another job: 200 Adam steps of a
    2-64-64-1 MLP take 4.46 s in a kernel with the default BLAS threads, 0.35 s with one; 50 steps of two
    small convolutions 6.08 s in a kernel under the active policy, 0.31 s under the passive one; chapter 10
    as a notebook 35.9 s before, 16.0 s after (as a script 13.7 s).
    """
    from minigan.kernels import TUNED_OMP_WAIT_POLICY  # the policy of kernels.tune_process()

    keep = os.environ.get
    return {"MINIGAN_QUICK": "1", "OPENBLAS_NUM_THREADS": keep("OPENBLAS_NUM_THREADS", "1"),
            "OMP_WAIT_POLICY": keep("OMP_WAIT_POLICY", TUNED_OMP_WAIT_POLICY)}  # fmt: skip


class ChapterError(RuntimeError):
    """A chapter failed to execute; the message is one line naming the chapter and the cell."""


@dataclass
class Executed:
    """An executed chapter: ``notebook`` (nbformat), ``figures`` = {cell index: [image paths]}, ``out``
    (its MINIGAN_OUT folder) and ``cached`` (True when it came from the cache)."""

    chapter: Path
    notebook: object
    figures: dict
    out: Path
    cached: bool


def library_digest(root: Path = ROOT) -> str:
    """A hash of every .py file under minigan/ and kernels/ (path and content) but the book's own
    (minigan/docs/: how a page is made changes no chapter's output; ``CACHE_VERSION`` covers how a
    chapter is run)."""
    h = hashlib.sha256()
    for folder in ("minigan", "kernels"):
        for path in sorted((root / folder).rglob("*.py")):
            if "__pycache__" in path.parts or path.parent == root / "minigan" / "docs":
                continue
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def cache_key(chapter: Path, quick: bool, digest: str) -> str:
    h = hashlib.sha256()
    for part in (CACHE_VERSION, "quick" if quick else "full", digest):
        h.update(part.encode() + b"\0")
    h.update(chapter.read_bytes())
    return f"{chapter.stem}-{'quick' if quick else 'full'}-{h.hexdigest()[:16]}"


def cached_notebook(chapter: Path, cache_dir: Path, quick: bool, digest: str) -> Path:
    """Where the executed notebook of ``chapter`` lies in ``cache_dir`` (a file only once it has run)."""
    return Path(cache_dir) / cache_key(chapter, quick, digest) / "executed.ipynb"


def parse_jobs(text: str) -> int:
    """``text`` as a number of chapters to run at once; ValueError saying why it is not one."""
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"expected a positive whole number of chapters, got {text!r}")
    return int(text)


def _snapshot(folder: Path) -> dict:
    return {
        p: (p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    }


@contextlib.contextmanager
def _environment(values: dict):
    """os.environ with ``values`` set (None removes a key) for the duration; the kernel inherits it."""

    def apply(entries: dict) -> None:
        for key, value in entries.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    saved = {key: os.environ.get(key) for key in values}
    try:
        apply(values)
        yield
    finally:
        apply(saved)


def _kernelspec(folder: Path) -> Path:
    """A JUPYTER_PATH entry with one kernelspec running ipykernel on this interpreter, so a ``python3``
    kernelspec installed elsewhere is never picked up instead."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "minigan docs", "language": "python"})
    )
    return folder


def _cell_lines(chapter: Path, cells) -> list[int]:
    """The chapter line each cell's source starts at (found in order; 0 where it cannot be found)."""
    lines = chapter.read_text(encoding="utf-8").splitlines()
    starts, position = [], 0
    for cell in cells:
        first = next((s for s in cell.source.splitlines() if s.strip()), "")
        wanted = first if cell.cell_type == "code" else "# " + first
        found = 0
        for i in range(position, len(lines)):
            if lines[i].rstrip() == wanted.rstrip():
                found, position = i + 1, i + 1
                break
        starts.append(found)
    return starts


def _error_line(err) -> str:
    """The exception of a CellExecutionError, as ``Name: message`` on one line."""
    ename, evalue = getattr(err, "ename", None), getattr(err, "evalue", None)
    if ename:
        text = f"{ename}: {evalue}" if evalue else ename
    else:
        text = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
    return " ".join(text.split())


def execute(
    chapter: Path, cache_dir: Path, quick: bool = True, timeout: int | None = None, digest: str | None = None
) -> Executed:
    """Run ``chapter`` as a notebook (or take it from ``cache_dir``); raises ChapterError on failure."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    chapter = Path(chapter)
    cache_dir = Path(cache_dir)
    done = cached_notebook(chapter, cache_dir, quick, digest or library_digest())
    entry, key = done.parent, done.parent.name
    if done.is_file():
        nb = nbformat.read(done, as_version=4)
        figures = {
            int(k): [entry / "out" / p for p in v]
            for k, v in json.loads((entry / "figures.json").read_text()).items()
        }
        return Executed(chapter, nb, figures, entry / "out", cached=True)

    if timeout is None:
        timeout = int(os.environ.get("MINIGAN_CHAPTER_TIMEOUT", "300")) if quick else -1
    shutil.rmtree(entry, ignore_errors=True)
    partial = cache_dir / (key + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    out, work = partial / "out", partial / "work"
    out.mkdir(parents=True)
    work.mkdir()
    name = f"{chapter.parent.name}/{chapter.name}"
    try:
        nb = jupytext.read(chapter, fmt="py:percent")
    except Exception as err:  # a chapter jupytext cannot read is a broken chapter too
        raise ChapterError(f"{name}: not a percent-format chapter ({_error_line(err)})") from None
    starts = _cell_lines(chapter, nb.cells)
    jupyter = _kernelspec(Path(tempfile.mkdtemp(prefix="minigan-docs-kernel-")))
    env = {
        **(quick_environment() if quick else {"MINIGAN_QUICK": None}),
        "MPLBACKEND": "Agg",
        "MINIGAN_OUT": str(out),
        "JUPYTER_PATH": os.pathsep.join([str(jupyter), os.environ.get("JUPYTER_PATH", "")]),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # silences a debugger warning on stderr
        # plt.show() under Agg (full mode) warns on stderr; the book shows the saved figure instead
        "PYTHONWARNINGS": "ignore:FigureCanvasAgg is non-interactive:UserWarning",
    }
    figures = {}
    try:
        with _environment(env):
            client = NotebookClient(
                nb, timeout=timeout, kernel_name=KERNEL_NAME, resources={"metadata": {"path": str(work)}}
            )
            client.reset_execution_trackers()
            # the kernel's own stderr (a transport warning, a crash report) goes to a log, not the build's
            with open(partial / "kernel.log", "w") as kernel_log, client.setup_kernel(stderr=kernel_log):
                code_number = 0
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    code_number += 1
                    before = _snapshot(out)
                    try:
                        client.execute_cell(cell, index)
                    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
                        where = (
                            f"code cell {code_number} (line {starts[index]})"
                            if starts[index]
                            else f"code cell {code_number}"
                        )
                        raise ChapterError(f"{name}: {where} failed: {_error_line(err)}") from None
                    after = _snapshot(out)
                    new = sorted(p for p, stamp in after.items() if before.get(p) != stamp)
                    if new:
                        figures[index] = new
    finally:
        shutil.rmtree(jupyter, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    for cell in nb.cells:  # the reader's own run would print tutorials/_out, not this cache's folder
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = output["text"].replace(str(out), "tutorials/_out")
            elif "text/plain" in output.get("data", {}):
                data = output["data"]
                data["text/plain"] = data["text/plain"].replace(str(out), "tutorials/_out")
    nbformat.write(nb, partial / "executed.ipynb")
    (partial / "figures.json").write_text(
        json.dumps({str(k): [p.relative_to(out).as_posix() for p in v] for k, v in figures.items()})
    )
    partial.rename(entry)  # complete entries only: a run killed half-way leaves a .partial, never a hit
    figures = {k: [entry / "out" / p.relative_to(out) for p in v] for k, v in figures.items()}
    return Executed(chapter, nb, figures, entry / "out", cached=False)


def _timed_execute(chapter: Path, cache_dir: Path, quick: bool, digest: str) -> float:
    start = time.perf_counter()
    execute(chapter, cache_dir, quick=quick, digest=digest)
    return time.perf_counter() - start


def execute_many(chapters: list, cache_dir: Path, quick: bool, digest: str, jobs: int = 1) -> dict:
    """Execute those of ``chapters`` that are not in ``cache_dir`` yet, ``jobs`` at a time; returns
    {chapter: seconds} for the ones it ran. With jobs > 1 each runs in a worker process of its own
    (spawned: ``execute`` sets the process's environment for its kernel, so two at once cannot share
    one process). A failure starts no further chapter and, once the running ones have finished, raises
    the ChapterError of the first chapter (in ``chapters`` order) that failed."""
    todo = [c for c in chapters if not cached_notebook(c, cache_dir, quick, digest).is_file()]
    if jobs <= 1 or len(todo) <= 1:
        return {c: _timed_execute(c, cache_dir, quick, digest) for c in todo}
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(jobs, len(todo)), mp_context=context) as pool:
        # the last chapters first: they are the longest (16's two MPI ranks most of all), and a long one
        # started last would leave the other worker idle at the end
        futures = {c: pool.submit(_timed_execute, c, cache_dir, quick, digest) for c in reversed(todo)}
        _done, pending = wait(futures.values(), return_when=FIRST_EXCEPTION)
        for future in pending:  # after a failure, start no other chapter
            future.cancel()
    for future in futures.values():
        if not future.cancelled() and future.exception() is not None:
            raise future.exception()
    return {c: f.result() for c, f in futures.items()}


def clear_stale(cache_dir: Path, keep: set[str], mode: str) -> None:
    """Remove the ``mode`` ("quick" or "full") entries whose key is not in ``keep``, and half-written
    entries; the other mode's entries stay."""
    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        return
    for entry in cache_dir.iterdir():
        stale = f"-{mode}-" in entry.name and entry.name not in keep
        if entry.is_dir() and (stale or entry.name.endswith(".partial")):
            shutil.rmtree(entry, ignore_errors=True)
