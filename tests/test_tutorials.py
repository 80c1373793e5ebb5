"""Every chapter runs end to end in quick mode, both as a plain script and as an executed notebook.

Chapters are discovered, not listed: every ``tutorials/NN_slug.py`` becomes two test items,
``test_chapter_script[NN_slug]`` and ``test_chapter_notebook[NN_slug]``, so a new chapter is tested the
moment it lands. The scripts run two at a time (``script_runs``), as the book's build runs the notebooks.
Both modes run with

    MINIGAN_QUICK=1         the chapter shrinks itself to a few seconds
    OPENBLAS_NUM_THREADS=1, OMP_WAIT_POLICY=PASSIVE   tiny arrays: threads that spin cost more than they
                            give (``minigan.docs.chapters.quick_environment``)
    MPLBACKEND=Agg          no display needed
    MINIGAN_OUT=<tmp dir>   where the chapter writes its figures and files (default tutorials/_out/)

and with a fresh temporary working directory, so a test run never writes into the repository. A chapter
must therefore not depend on the working directory or on ``__file__`` (a notebook has none), and must
write at least one file (its figures) under ``MINIGAN_OUT``.

The notebook mode is the book's own chapter run, ``minigan.docs.chapters.execute``: the chapter converted
with jupytext (percent format) and executed cell by cell with nbclient in an IPython kernel pinned to this
interpreter (``sys.executable``, through a kernelspec of its own in a temporary ``JUPYTER_PATH`` entry, so
a ``python3`` kernelspec installed elsewhere is never picked up). Its results go to the session's chapter
cache (``chapter_cache`` in conftest.py), which the site build of ``tests/docs/test_site.py`` shares: in
one test run each chapter is executed as a notebook once, by whichever test comes first, and a failure
names the chapter and the cell. Needs the dev extra: jupytext, nbformat, nbclient, ipykernel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
TIMEOUT_S = int(os.environ.get("MINIGAN_CHAPTER_TIMEOUT", "300"))  # generous: CI machines may be loaded


def _chapter_env(tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "out"
    out.mkdir()
    from minigan.docs.chapters import quick_environment  # MINIGAN_QUICK=1, threads that do not spin

    return {**quick_environment(), "MPLBACKEND": "Agg", "MINIGAN_OUT": str(out)}


def _assert_wrote_output(chapter: Path, out: Path) -> None:
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written, (
        f"{chapter.name} wrote nothing under MINIGAN_OUT={out}: save figures to "
        "Path(os.environ.get('MINIGAN_OUT', 'tutorials/_out'))"
    )


def test_chapters_are_discovered():
    names = [p.stem for p in CHAPTERS]
    assert "01_autograd" in names and "02_gradient_checking" in names, names


def _run_script(chapter: Path, folder: Path):
    env = {**os.environ, **_chapter_env(folder)}
    try:
        proc = subprocess.run([sys.executable, str(chapter)], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired as err:
        return err, Path(env["MINIGAN_OUT"])
    return proc, Path(env["MINIGAN_OUT"])


@pytest.fixture(scope="module")
def script_runs(request, tmp_path_factory) -> dict:
    """The selected chapters run as scripts, two at a time where there are two cores (each is one process
    doing single-threaded quick-mode work, so two at once take about half the time); the last chapters
    first, since they are the longest. {chapter: (CompletedProcess or TimeoutExpired, its MINIGAN_OUT)}."""
    selected = [item.callspec.params["chapter"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_chapter_script"]  # fmt: skip
    folders = {chapter: tmp_path_factory.mktemp(chapter.stem) for chapter in selected}
    with ThreadPoolExecutor(min(2, os.cpu_count() or 1)) as pool:
        runs = {c: pool.submit(_run_script, c, folders[c]) for c in reversed(selected)}
    return {chapter: future.result() for chapter, future in runs.items()}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_script(chapter: Path, script_runs: dict):
    proc, out = script_runs[chapter]
    if isinstance(proc, subprocess.TimeoutExpired):
        pytest.fail(f"{chapter.name} ran past {TIMEOUT_S} s (MINIGAN_CHAPTER_TIMEOUT)", pytrace=False)
    assert proc.returncode == 0, (
        f"{chapter.name} exited with {proc.returncode}\n--- stdout (tail) ---\n{proc.stdout[-4000:]}"
        f"\n--- stderr (tail) ---\n{proc.stderr[-4000:]}"
    )
    _assert_wrote_output(chapter, out)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_notebook(chapter: Path, chapter_cache: Path):
    import jupytext

    from minigan.docs.chapters import ChapterError, execute

    nb = jupytext.read(chapter, fmt="py:percent")
    kinds = {cell.cell_type for cell in nb.cells}
    assert {"markdown", "code"} <= kinds, (
        f"{chapter.name}: expected '# %%' code and markdown cells, got {kinds}"
    )
    try:
        done = execute(chapter, chapter_cache, quick=True)  # a cache hit when the book's build ran it
    except ChapterError as err:  # names the chapter, the cell and the exception
        pytest.fail(str(err), pytrace=False)
    code = [cell for cell in done.notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    assert all(cell.execution_count for cell in code), f"{chapter.name}: not every code cell ran"
    _assert_wrote_output(chapter, done.out)
