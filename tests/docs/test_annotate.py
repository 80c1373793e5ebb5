"""The book's generators on small inputs: ``annotate.split`` (a module into prose and code sections) and the
link rewriter of ``minigan/docs/links.py`` (prose mentions of modules and chapters become links)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from minigan.docs.annotate import docstring_markdown, split
from minigan.docs.links import ChapterIndex, Linker, SourceIndex

ROOT = Path(__file__).resolve().parents[2]

MODULE = textwrap.dedent('''\
    """A module (chapter 01).

    It has a list:
    - one
    - two
    """

    import os  # noqa: F401 - a pragma stays code

    # Why the constant is 3: a comment run is prose,
    # with $x^2$ math.
    K = 3  # a trailing comment stays code


    class C:
        """A class."""

        def m(self):
            """A method."""
            return K

        def bare(self):
            return 1


    # A comment right above a function belongs to it.
    def f(x):
        def inner():
            return x

        return inner
    ''')


def test_split_puts_docstrings_and_comments_beside_the_code():
    sections = split(MODULE)
    by_anchor = {s.anchor: s for s in sections if s.anchor}
    assert sections[0].kind == "module" and sections[0].prose.startswith("A module (chapter 01).")
    assert "import os  # noqa: F401" in sections[0].code_text
    comment = next(s for s in sections if s.kind == "comment")
    assert comment.prose == "Why the constant is 3: a comment run is prose,\nwith $x^2$ math."
    assert comment.code_text == "K = 3  # a trailing comment stays code"
    assert set(by_anchor) == {"C", "C.m", "C.bare", "f", "f.inner"}
    assert by_anchor["C.m"].prose == "A method." and '"""' not in by_anchor["C.m"].code_text
    assert by_anchor["C.bare"].prose == "" and "return 1" in by_anchor["C.bare"].code_text
    assert by_anchor["f"].prose == "A comment right above a function belongs to it."
    assert by_anchor["f"].code_text.startswith("def f(x):")
    # the code columns together are the module less its docstrings and full-line comments
    code = [line for s in sections for line in s.code if line.strip()]
    prose_lines = ("It has a list:", "- one", "- two")
    expected = [line for line in MODULE.splitlines() if line.strip() and not line.strip().startswith("#")
                and '"""' not in line and line.strip() not in prose_lines]  # fmt: skip
    assert code == expected


def test_docstring_markdown_separates_a_list_from_its_sentence():
    assert docstring_markdown("It has a list:\n- one\n- two") == "It has a list:\n\n- one\n- two"
    assert docstring_markdown("Usage:\n    minigan docs build") == "Usage:\n\n    minigan docs build"
    assert docstring_markdown("plain\ntext") == "plain\ntext"


def test_every_module_of_the_repository_splits():
    for path in [*(ROOT / "minigan").rglob("*.py"), *(ROOT / "kernels").rglob("*.py")]:
        sections = split(path.read_text(encoding="utf-8"))
        assert sections and sections[0].prose, f"{path}: no module docstring section"


def _linker():
    chapters = ChapterIndex(ROOT)
    return Linker(SourceIndex(ROOT, chapters), chapters, {"kernels/RESULTS.md": "notes/kernels/RESULTS.md"})


def test_mentions_become_links_from_the_page_they_land_on():
    linker = _linker()
    page, origin = "chapters/06_minimax_game.md", "tutorials/06_minimax_game.py"
    text = "softplus (`minigan/gan/losses.py`), the `Trainer` and `minigan.gan.Trainer`"
    out = linker.rewrite(text, page, origin)
    assert "[`minigan/gan/losses.py`](../source/minigan/gan/losses.md)" in out
    assert "[`minigan.gan.Trainer`](../source/minigan/gan/trainer.md#Trainer)" in out
    assert "the `Trainer` and" in out  # a bare name is not a module mention
    assert linker.rewrite("as chapter 01 showed", page, origin) == ("as [chapter 01](01_autograd.md) showed")
    assert linker.rewrite("in chapter 06 itself", page, origin, own_chapter=6) == "in chapter 06 itself"
    assert linker.rewrite("see [the table](../kernels/RESULTS.md)", page, origin) == (
        "see [the table](../notes/kernels/RESULTS.md)"
    )
    # a repository file the site does not hold keeps its text, never a broken link
    assert linker.rewrite("[the CI](../.ci/run) and `minigan/nowhere.py`", page, origin) == (
        "the CI and `minigan/nowhere.py`"
    )
    fenced = "```python\nfrom minigan.gan import losses  # chapter 07\n```"
    assert linker.rewrite(fenced, page, origin) == fenced


def test_every_module_is_taught_somewhere_or_says_so():
    chapters = ChapterIndex(ROOT)
    sources = SourceIndex(ROOT, chapters)
    untaught = [m.path for m in sources.modules.values() if not m.chapters]
    assert all(path.startswith("minigan/docs/") for path in untaught), untaught
    assert sources.modules["minigan/autograd/engine.py"].chapters == [1, 16]  # taught in 01, used in 16
