"""Every chapter runs end to end in quick mode, both as a plain script and as an executed notebook.

Chapters are discovered, not listed: every ``tutorials/NN_slug.py`` becomes two test items,
``test_chapter_script[NN_slug]`` and ``test_chapter_notebook[NN_slug]``, so a new chapter is tested the
moment it lands. Both modes run with

    MINIGAN_QUICK=1         the chapter shrinks itself to a few seconds
    MPLBACKEND=Agg          no display needed
    MINIGAN_OUT=<tmp dir>   where the chapter writes its figures and files (default tutorials/_out/)

and with a fresh temporary working directory, so a test run never writes into the repository. A chapter
must therefore not depend on the working directory or on ``__file__`` (a notebook has none), and must
write at least one file (its figures) under ``MINIGAN_OUT``.

The notebook mode converts the chapter with jupytext (percent format) and executes it with nbclient in an
IPython kernel. The kernel is pinned to this interpreter (``sys.executable``) through a kernelspec written
to a temporary ``JUPYTER_PATH`` entry under a name of its own, so a ``python3`` kernelspec installed
elsewhere (user or system Jupyter dirs) can never be picked up instead of the test environment's Python.
Needs the dev extra: jupytext, nbformat, nbclient, ipykernel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
TIMEOUT_S = int(os.environ.get("MINIGAN_CHAPTER_TIMEOUT", "300"))  # generous: CI machines may be loaded
KERNEL_NAME = "minigan-tests-python"


def _chapter_env(tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "out"
    out.mkdir()
    return {"MINIGAN_QUICK": "1", "MPLBACKEND": "Agg", "MINIGAN_OUT": str(out)}


def _assert_wrote_output(chapter: Path, out: Path) -> None:
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written, (
        f"{chapter.name} wrote nothing under MINIGAN_OUT={out}: save figures to "
        "Path(os.environ.get('MINIGAN_OUT', 'tutorials/_out'))"
    )


def test_chapters_are_discovered():
    names = [p.stem for p in CHAPTERS]
    assert "01_autograd" in names and "02_gradient_checking" in names, names


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_script(chapter: Path, tmp_path: Path):
    env = {**os.environ, **_chapter_env(tmp_path)}
    proc = subprocess.run(
        [sys.executable, str(chapter)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, (
        f"{chapter.name} exited with {proc.returncode}\n--- stdout (tail) ---\n{proc.stdout[-4000:]}"
        f"\n--- stderr (tail) ---\n{proc.stderr[-4000:]}"
    )
    _assert_wrote_output(chapter, Path(env["MINIGAN_OUT"]))


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory) -> Path:
    """A JUPYTER_PATH entry holding one kernelspec that runs ipykernel on this very interpreter."""
    import ipykernel  # noqa: F401 - the dev extra provides it; fail here, clearly, when it is missing

    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "minigan tests", "language": "python"})
    )
    return root


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_notebook(chapter: Path, tmp_path: Path, kernel_dir: Path, monkeypatch):
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    nb = jupytext.read(chapter, fmt="py:percent")
    kinds = {cell.cell_type for cell in nb.cells}
    assert {"markdown", "code"} <= kinds, (
        f"{chapter.name}: expected '# %%' code and markdown cells, got {kinds}"
    )

    # the kernel process inherits this environment
    env = _chapter_env(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join([str(kernel_dir), os.environ.get("JUPYTER_PATH", "")]))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # silences a debugger warning on stderr

    client = NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    try:
        client.execute()  # raises CellExecutionError, naming the cell and the traceback, on any error
    finally:
        nbformat.write(nb, tmp_path / f"{chapter.stem}.ipynb")  # kept for inspection on failure
    _assert_wrote_output(chapter, Path(env["MINIGAN_OUT"]))
