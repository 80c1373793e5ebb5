"""Every citation in the code, the chapters and the README points at something that exists.

minigan's docstrings and chapters send the reader elsewhere: "chapter 04, section 6",
"``kernels/RESULTS.md``", "§4". This test scans the .py and .md files under minigan/, kernels/,
tutorials/ and docs/ (the book's pages), plus README.md, setup.py and pyproject.toml, and fails on

(a) a mention of DESIGN.md or ``../shared`` (documents and folders users do not have);
(b) "chapter NN" / "chapters NN-MM" / "chapters NN, MM and KK" when no ``tutorials/NN_*.py`` exists;
(c) a repository path (``minigan/...``, ``kernels/...``, ``tutorials/...``, ``tests/...``, ``.ci/...``,
    ``docs/...``)
    ending in .py / .md / .sh / .json that does not exist, or a bare upper-case document name
    (``RESULTS.md``) that is neither in the citing file's folder or one above it nor in a folder named
    earlier in the same paragraph (as in the README's layout listing);
(d) "§N" / "section N": the cited chapter (the one named, as in "chapter 08, section 7", or else the
    chapter the text is in) has no markdown heading numbered N. Outside a chapter a section must name
    its chapter.

The second half plants each kind of bad citation in a temporary tree and checks that it is caught.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED_DIRS = ("minigan", "kernels", "tutorials", "docs")
SCANNED_TOP = ("README.md", "setup.py", "pyproject.toml")
SKIP_PARTS = {"__pycache__", "_out", ".ipynb_checkpoints", "build", "dist"}
# first components of repo-relative paths checked by (c)
PATH_ROOTS = ("minigan", "kernels", "tutorials", "tests", ".ci", "docs")

STALE = re.compile(r"DESIGN\.md|\.\./shared\b")
NUM = r"\d{1,2}"
# "chapter 08", "Chapters 03-04", "chapters 05, 08", "chapters 06, 07 and 08", "chapters 08/09"
CHAPTERS = re.compile(
    rf"\b[Cc]hapters?\s+({NUM}(?:\s*(?:-|–|/|,|and|or|to)\s*{NUM}\b)*)(?![\w.]*\.py)",
)
SEP = re.compile(r"\s*(-|–|to|/|,|and|or)\s*")
# a section citation: "§4", "§§4-5", "section 7", "sections 4 and 5"
SECTION = re.compile(rf"(?:§§?\s*|\b[Ss]ections?\s+)({NUM}(?:\s*(?:-|–|,|and|or)\s*{NUM}\b)*)")
# a section tied to a chapter: "chapter 08, section 7", "chapter 01, §4", "chapter 06's section 3",
# "chapter 08 (section 7)" ...
SECTION_OF_CHAPTER = re.compile(
    rf"\b[Cc]hapter\s+({NUM})(?:'s)?\s*[,(]?\s*(?:§|[Ss]ections?\s)\s*({NUM}(?:\s*(?:-|–|,|and|or)\s*{NUM}\b)*)"
)
# ... or "section 7 of chapter 08"
CHAPTER_OF_SECTION = re.compile(
    rf"(?:§\s*|\b[Ss]ections?\s+)({NUM}(?:\s*(?:-|–|,|and|or)\s*{NUM}\b)*)\s+of\s+[Cc]hapter\s+({NUM})"
)
_ROOTS = "|".join(re.escape(p) for p in PATH_ROOTS)
PATH = re.compile(rf"(?<![\w./~$-])((?:{_ROOTS})/[\w./-]*?\.(?:py|md|sh|json))(?![\w/])")
BARE_DOC = re.compile(r"(?<![\w./~$-])([A-Z][A-Z_]+\.md)\b")
BLANK_LINE = re.compile(r"\n[ \t]*#?[ \t]*\n")
PLACEHOLDER = re.compile(r"(?:^|/)(?:NN|XX)[_./]")
FOLDER = re.compile(rf"(?<![\w./~$-])((?:{_ROOTS})(?:/[\w.-]+)*)/(?=\s)")
HEADING = re.compile(r"^#\s+#{1,6}\s+(\d+)[.)]\s", re.M)


def _numbers(spec):
    """Chapter or section numbers, ranges inclusive: "03-04" -> [3, 4]; "06, 07 and 08" -> [6, 7, 8]."""
    parts = SEP.split(spec.strip())
    out = [int(parts[0])]
    for sep, num in zip(parts[1::2], parts[2::2], strict=True):
        n = int(num)
        out.extend(range(out[-1] + 1, n + 1) if sep in ("-", "–", "to") else [n])
    return out


def _chapters(root):
    """{number: path} of tutorials/NN_*.py."""
    found = {}
    for p in sorted((root / "tutorials").glob("[0-9][0-9]_*.py")):
        found[int(p.name[:2])] = p
    return found


def _headings(path):
    return {int(n) for n in HEADING.findall(path.read_text(encoding="utf-8"))}


def scanned_files(root):
    files = [root / name for name in SCANNED_TOP if (root / name).is_file()]
    for d in SCANNED_DIRS:
        for p in sorted((root / d).rglob("*")):
            if p.suffix in (".py", ".md") and p.is_file() and not SKIP_PARTS & set(p.relative_to(root).parts):
                files.append(p)
    return files


def _line(text, pos):
    return text.count("\n", 0, pos) + 1


def find_bad_references(root):
    """Every bad citation under ``root``, as "path:line: what" strings (empty when all is well)."""
    root = Path(root)
    chapters = _chapters(root)
    headings = {n: _headings(p) for n, p in chapters.items()}
    bad = []
    for path in scanned_files(root):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        own = int(path.name[:2]) if path.parent == root / "tutorials" and path in chapters.values() else None

        def report(pos, what, rel=rel, text=text):
            bad.append(f"{rel}:{_line(text, pos)}: {what}")

        for m in STALE.finditer(text):
            report(m.start(), f"cites {m.group(0)!r}, which users do not have")

        for m in CHAPTERS.finditer(text):
            for n in _numbers(m.group(1)):
                if n not in chapters:
                    report(m.start(), f"{m.group(0)!r}: there is no tutorials/{n:02d}_*.py")

        for m in PATH.finditer(text):
            target = m.group(1).rstrip(".")
            if PLACEHOLDER.search(target):
                continue  # a pattern such as tutorials/NN_slug.py, not a file
            if not (root / target).exists():
                report(m.start(), f"{target!r} does not exist")
        for m in BARE_DOC.finditer(text):
            name = m.group(1)
            if name == "DESIGN.md":
                continue  # reported by (a)
            # the citing file's folder and those above it, and folders named earlier in the paragraph (as in
            # the README's layout listing)
            starts = [b.end() for b in BLANK_LINE.finditer(text, 0, m.start())]
            folders = [path.parent, *path.parent.parents]
            folders += [root / d for d in FOLDER.findall(text, starts[-1] if starts else 0, m.start())]
            if not any((d / name).is_file() and root in (d, *d.parents) for d in folders):
                report(m.start(), f"{name!r} is not in {path.parent.relative_to(root).as_posix()}/ or above")

        tied = {}  # where a section citation's numbers start -> the chapter it names
        for m in SECTION_OF_CHAPTER.finditer(text):
            tied[m.start(2)] = int(m.group(1))
        for m in CHAPTER_OF_SECTION.finditer(text):
            tied[m.start(1)] = int(m.group(2))
        for m in SECTION.finditer(text):
            chapter = tied.get(m.start(1), own)
            if chapter is None:
                report(m.start(), f"{m.group(0).strip()!r} names no chapter")
                continue
            if chapter not in chapters:
                continue  # reported by (b)
            for n in _numbers(m.group(1)):
                if n not in headings[chapter]:
                    report(m.start(), f"{m.group(0).strip()!r}: chapter {chapter:02d} has no section {n}")
    return bad


def test_no_bad_references_in_the_repository():
    bad = find_bad_references(ROOT)
    assert not bad, "bad citations:\n" + "\n".join(bad)


def test_the_scan_covers_the_sources_chapters_and_readme():
    files = {p.relative_to(ROOT).as_posix() for p in scanned_files(ROOT)}
    assert {"README.md", "minigan/__init__.py", "kernels/dispatch.py", "tutorials/01_autograd.py"} <= files
    assert len(_chapters(ROOT)) >= 9 and all(_headings(p) for p in _chapters(ROOT).values())


# --- planted bad citations in a temporary tree ---------------------------------------------------------

CHAPTER_01 = """# %% [markdown]
# # Chapter 01 — A chapter
#
# ## 1. First
# See §2 and section 1, and chapter 02, §1.
#
# ## 2. Second
"""
CHAPTER_02 = """# %% [markdown]
# # Chapter 02 — Another
#
# ## 1. Only
"""
GOOD_MODULE = '''"""A module (chapter 01, section 2; chapters 01-02).

See ``kernels/RESULTS.md`` and tutorials/01_a.py.
"""
'''


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "tutorials").mkdir()
    (tmp_path / "tutorials" / "01_a.py").write_text(CHAPTER_01, encoding="utf-8")
    (tmp_path / "tutorials" / "02_b.py").write_text(CHAPTER_02, encoding="utf-8")
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "RESULTS.md").write_text("# Results\n", encoding="utf-8")
    (tmp_path / "minigan").mkdir()
    (tmp_path / "minigan" / "mod.py").write_text(GOOD_MODULE, encoding="utf-8")
    (tmp_path / "README.md").write_text("Chapters 01, 02 (`tutorials/02_b.py`); runs/x/config.json.\n")
    return tmp_path


def test_a_clean_tree_passes(tree):
    assert find_bad_references(tree) == []


@pytest.mark.parametrize(
    ("where", "text", "expected"),
    [
        ("minigan/x.py", '"""Floats are float32 (see DESIGN.md)."""\n', "DESIGN.md"),
        ("README.md", "MNIST lies in `../shared/data/mnist`.\n", "../shared"),
        ("kernels/x.py", '"""Stabilising GANs (chapter 10)."""\n', "no tutorials/10_*.py"),
        ("minigan/x.py", '"""Used in Chapter 11."""\n', "no tutorials/11_*.py"),
        ("minigan/x.py", '"""(chapters 01-03)"""\n', "no tutorials/03_*.py"),
        ("README.md", "chapters 02, 07\n", "no tutorials/07_*.py"),
        ("README.md", "chapters 01 and 04\n", "no tutorials/04_*.py"),
        ("README.md", "chapters 02/05\n", "no tutorials/05_*.py"),
        ("minigan/x.py", '"""See minigan/gan/QUALITY.md."""\n', "'minigan/gan/QUALITY.md' does not exist"),
        ("minigan/x.py", "# timings: `kernels/TIMES.md`\n", "'kernels/TIMES.md' does not exist"),
        ("README.md", "run tests/gpu/check.sh\n", "'tests/gpu/check.sh' does not exist"),
        ("tutorials/README.md", "see tutorials/03_c.py\n", "'tutorials/03_c.py' does not exist"),
        ("minigan/sub/x.py", '"""Numbers: RESULTS.md."""\n', "'RESULTS.md' is not in minigan/sub/ or above"),
        (
            "README.md",
            "kernels/  RESULTS.md\n\nminigan/   a folder,\n  QUALITY.md\n",
            "'QUALITY.md' is not in ./",
        ),
        ("minigan/x.py", '"""chapter 01, section 3"""\n', "chapter 01 has no section 3"),
        ("minigan/x.py", '"""chapter 02, §2"""\n', "chapter 02 has no section 2"),
        ("minigan/x.py", '"""section 2 of chapter 02"""\n', "chapter 02 has no section 2"),
        ("minigan/x.py", '"""chapter 02 (section 3)"""\n', "chapter 02 has no section 3"),
        ("minigan/x.py", "# chapter 01's section 4\n", "chapter 01 has no section 4"),
        ("minigan/x.py", '"""as in section 2"""\n', "'section 2' names no chapter"),
        ("tutorials/02_b.py", CHAPTER_02 + "# Back in §3.\n", "chapter 02 has no section 3"),
        ("tutorials/01_a.py", CHAPTER_01 + "# sections 1-3\n", "chapter 01 has no section 3"),
    ],
)
def test_a_planted_bad_citation_is_caught(tree, where, text, expected):
    path = tree / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    bad = find_bad_references(tree)
    assert len(bad) == 1 and expected in bad[0], bad
    assert bad[0].startswith(where + ":")


def test_the_repository_root_is_what_the_scan_reads(tree, monkeypatch):
    # the repository test reads ROOT: pointed at a planted tree it fails, so it is not vacuous
    (tree / "minigan" / "bad.py").write_text('"""see DESIGN.md"""\n', encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tree)
    with pytest.raises(AssertionError, match="DESIGN.md"):
        test_no_bad_references_in_the_repository()
