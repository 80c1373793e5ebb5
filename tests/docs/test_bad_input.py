"""The book's build on bad input, in temporary trees: a chapter that fails and a module without a docstring
each fail ``minigan docs build`` with one line naming them (exit 1), never a traceback; a missing
``mkdocs.yml`` is a usage error (exit 2).

A tree is the repository's ``mkdocs.yml`` and ``docs/`` with a small README, one chapter and a small
``minigan/`` package of its own (the build reads the tree its ``mkdocs.yml`` is in).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from minigan.cli import main

ROOT = Path(__file__).resolve().parents[2]
BROKEN_CELLS = """
# %% [markdown]
# ## A planted failure

# %%
ok = 1 + 1

# %%
raise ValueError("planted failure")
"""


def _tree(tmp_path: Path, chapter_text: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", root / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "README.md").write_text("# minigan\n\nA small tree.\n", encoding="utf-8")
    (root / "tutorials").mkdir()
    (root / "tutorials" / "01_autograd.py").write_text(chapter_text, encoding="utf-8")
    (root / "minigan").mkdir()
    (root / "minigan" / "__init__.py").write_text('"""A package (chapter 01)."""\n', encoding="utf-8")
    return root


def _build(root: Path, tmp_path: Path, capsys):
    status = main(["docs", "build", "-f", str(root / "mkdocs.yml"), "--site-dir", str(tmp_path / "site"),
                   "--cache", str(tmp_path / "cache")])  # fmt: skip
    err = capsys.readouterr().err
    last = [line for line in err.splitlines() if line.strip()][-1]
    return status, err, last


def test_a_chapter_that_fails_names_the_chapter_and_the_cell(tmp_path, capsys):
    chapter = (ROOT / "tutorials" / "01_autograd.py").read_text(encoding="utf-8")
    root = _tree(tmp_path, chapter + BROKEN_CELLS)
    lines = (root / "tutorials" / "01_autograd.py").read_text(encoding="utf-8").splitlines()
    raise_line = lines.index('raise ValueError("planted failure")') + 1
    status, err, last = _build(root, tmp_path, capsys)
    assert status == 1, err
    assert last.startswith("minigan: error: docs build failed: tutorials/01_autograd.py: code cell "), last
    assert f"(line {raise_line})" in last and "ValueError: planted failure" in last, last
    assert "Traceback" not in err
    assert not (tmp_path / "site").exists() or not any((tmp_path / "site").iterdir())
    # nothing half-done is cached as a success
    assert not [p for p in (tmp_path / "cache").iterdir() if p.is_dir() and not p.name.endswith(".partial")]


def test_a_module_without_a_docstring_is_named(tmp_path, capsys):
    root = _tree(tmp_path, "# %% [markdown]\n# # Chapter 01 — A chapter\n\n# %%\nx = 1\n")
    (root / "minigan" / "quiet.py").write_text("x = 1\n", encoding="utf-8")
    (root / "kernels").mkdir()
    (root / "kernels" / "silent.py").write_text("# a comment is not a docstring\ny = 2\n", encoding="utf-8")
    status, err, last = _build(root, tmp_path, capsys)
    assert status == 1, err
    assert "2 module(s) without a docstring" in last, last
    assert "minigan/quiet.py" in last and "kernels/silent.py" in last, last
    assert "Traceback" not in err


def test_no_mkdocs_yml_is_a_usage_error(tmp_path, capsys):
    status = main(["docs", "build", "-f", str(tmp_path / "nowhere" / "mkdocs.yml")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1 and "mkdocs.yml" in err, err


@pytest.mark.parametrize("argv", [["docs"], ["docs", "publish"], ["docs", "build", "--bogus"]])
def test_bad_arguments_are_usage_errors(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("minigan: error:"), err


def test_two_chapters_at_once_a_failure_names_its_chapter_and_the_other_is_cached(tmp_path, capsys):
    root = _tree(tmp_path, "# %% [markdown]\n# # Chapter 01 — A chapter\n\n# %%\nx = 1\n")
    (root / "tutorials" / "02_gradient_checking.py").write_text(
        "# %% [markdown]\n# # Chapter 02 — Another\n" + BROKEN_CELLS, encoding="utf-8"
    )
    status = main(["docs", "build", "-f", str(root / "mkdocs.yml"), "--site-dir", str(tmp_path / "site"),
                   "--cache", str(tmp_path / "cache"), "--jobs", "2"])  # fmt: skip
    err = capsys.readouterr().err
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert status == 1, err
    assert "tutorials/02_gradient_checking.py: code cell 2" in last and "planted failure" in last, last
    assert "Traceback" not in err
    cached = [p for p in (tmp_path / "cache").iterdir() if (p / "executed.ipynb").is_file()]
    assert [p.name.split("-")[0] for p in cached] == ["01_autograd"], cached  # 01 ran, in its own process


def test_jobs_must_be_a_positive_number(capsys):
    assert main(["docs", "build", "--jobs", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--jobs" in err and "'0'" in err, err
