"""What the book's pages are and how they point at each other: the module index, the chapter index, and
the link rewriter (the book; see the README's "The book" section).

``SourceIndex(root)`` reads every module under minigan/ and kernels/: its page (``source/<path>.md``),
its dotted name (``kernels/`` is installed as ``minigan.kernels``), its top-level and class-level names
(the anchors of its annotated page), the chapters its module docstring names ("chapter 04"; else its
package's), and whether it has a docstring at all. ``ChapterIndex(root)`` reads ``tutorials/NN_*.py``.

``rewrite(markdown, page, origin)`` turns what prose mentions into links: a code span naming a module
file or folder (`` `minigan/gan/losses.py` ``, `` `minigan/autograd/` ``) or a dotted name
(`` `minigan.gan.Trainer` ``) links to its annotated source page (at the name's anchor); "chapter NN"
links to the chapter; a markdown link to a repository file (relative to ``origin``, the file the prose
came from) is pointed at that file's page, and a link to a file the site does not hold keeps its text
and loses the link, so the site never has a broken internal link. Fenced code is left alone.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

CHAPTER_MENTION = re.compile(r"\b[Cc]hapters?\s+(\d\d)\b")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.M | re.S)
# an image or link, a code span, a chapter mention or a bare source path, in that order of preference
TOKEN = re.compile(
    r"(?P<link>!?\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\))"
    r"|(?P<code>`(?P<span>[^`\n]+)`)"
    r"|(?P<chapter>\b[Cc]hapter\s+(?P<number>\d\d)\b)"
    r"|(?P<path>(?<![\w/.`])(?:minigan|kernels)/[\w/]+\.py\b)"
)
NAME = re.compile(r"^(?:minigan|kernels)(?:[./][A-Za-z_]\w*)*[./]?(?:\(\))?$")


@dataclass
class Module:
    """One source file: ``path`` (repository-relative, posix), ``dotted`` name, ``page`` (docs-relative
    .md), ``names`` (anchors of its annotated page), ``chapters`` it is taught in, ``docstring``."""

    path: str
    dotted: str
    page: str
    names: set = field(default_factory=set)
    chapters: list = field(default_factory=list)
    docstring: str | None = None


def _dotted(path: str) -> str:
    parts = path[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if parts[0] == "kernels":
        parts = ["minigan", *parts]
    return ".".join(parts)


def _names(tree) -> set:
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
            if isinstance(node, ast.ClassDef):
                out.update(
                    f"{node.name}.{c.name}"
                    for c in node.body
                    if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                )
    return out


class ChapterIndex:
    """The chapters: {number: (stem, title, page)}; the title is the first markdown heading's text."""

    def __init__(self, root: Path):
        self.chapters = {}
        for path in sorted((Path(root) / "tutorials").glob("[0-9][0-9]_*.py")):
            title = path.stem
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("# # "):
                    title = line[4:].strip()
                    break
            self.chapters[int(path.name[:2])] = (path.stem, title, f"chapters/{path.stem}.md")

    def page(self, number: int) -> str | None:
        entry = self.chapters.get(number)
        return entry[2] if entry else None


class SourceIndex:
    """Every module of minigan/ and kernels/ under ``root``, by path and by dotted name."""

    def __init__(self, root: Path, chapters: ChapterIndex):
        root = Path(root)
        self.modules = {}
        for folder in ("minigan", "kernels"):
            for file in sorted((root / folder).rglob("*.py")):
                if "__pycache__" in file.parts:
                    continue
                rel = file.relative_to(root).as_posix()
                text = file.read_text(encoding="utf-8")
                tree = ast.parse(text, filename=rel)
                doc = ast.get_docstring(tree)
                found = [int(n) for n in CHAPTER_MENTION.findall(doc or "")]
                taught = [n for n in dict.fromkeys(found) if n in chapters.chapters]
                self.modules[rel] = Module(
                    rel, _dotted(rel), f"source/{rel[:-3]}.md", _names(tree), taught, doc
                )
        for module in self.modules.values():  # a module its docstring ties to no chapter: its package's
            parent = posixpath.dirname(module.path)
            while not module.chapters and parent:
                package = self.modules.get(f"{parent}/__init__.py")
                if package is not None and package is not module:
                    module.chapters = list(package.chapters)
                parent = posixpath.dirname(parent)
        self.by_dotted = {m.dotted: m for m in self.modules.values()}

    def missing_docstrings(self) -> list[str]:
        return [m.path for m in self.modules.values() if not (m.docstring or "").strip()]

    def resolve(self, mention: str):
        """(page, anchor or None) for a file path, folder or dotted name; None when it names nothing."""
        mention = mention.strip()
        if mention.endswith("()"):
            mention = mention[:-2]
        if mention.endswith(".py") and mention in self.modules:
            return self.modules[mention].page, None
        if mention.endswith("/") and f"{mention}__init__.py" in self.modules:
            return self.modules[f"{mention}__init__.py"].page, None
        if "/" in mention:
            return None
        dotted = mention.rstrip(".")
        if dotted.startswith("kernels."):
            dotted = "minigan." + dotted
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            module = self.by_dotted.get(".".join(parts[:cut]))
            if module is None:
                continue
            rest = ".".join(parts[cut:])
            if not rest:
                return module.page, None
            if rest in module.names:
                return module.page, rest
            # a name a package re-exports: the one module under it that defines the name
            owners = [
                m
                for m in self.modules.values()
                if m.dotted.startswith(module.dotted + ".") and rest in m.names
            ]
            if len(owners) == 1:
                return owners[0].page, rest
            return module.page, None
        return None


def relative(target: str, page: str) -> str:
    """The link from docs page ``page`` to docs file ``target`` (both docs-relative posix paths)."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


class Linker:
    """Rewrites prose for the page it lands on (see the module docstring)."""

    def __init__(self, sources: SourceIndex, chapters: ChapterIndex, files: dict):
        self.sources = sources
        self.chapters = chapters
        self.files = files  # repository path -> docs path, for every repository file the site holds

    def _target_for_repo_path(self, repo_path: str):
        repo_path = posixpath.normpath(repo_path)
        if repo_path in self.files:
            return self.files[repo_path], None
        if repo_path.startswith("tutorials/") and repo_path.endswith(".py"):
            stem = posixpath.basename(repo_path)[:-3]
            number = int(stem[:2]) if stem[:2].isdigit() else None
            if number in self.chapters.chapters and self.chapters.chapters[number][0] == stem:
                return self.chapters.chapters[number][2], None
        found = self.sources.resolve(repo_path if repo_path.endswith(".py") else repo_path + "/")
        return found

    def rewrite(self, text: str, page: str, origin: str, own_chapter: int | None = None) -> str:
        """``text`` (markdown from repository file ``origin``) with its mentions linked for ``page``."""
        pieces, last = [], 0
        for fence in FENCE.finditer(text):
            pieces.append(self._rewrite_prose(text[last : fence.start()], page, origin, own_chapter))
            pieces.append(fence.group(0))
            last = fence.end()
        pieces.append(self._rewrite_prose(text[last:], page, origin, own_chapter))
        return "".join(pieces)

    def _link(self, label: str, found, page: str) -> str:
        target, anchor = found
        href = relative(target, page) + (f"#{anchor}" if anchor else "")
        return f"[{label}]({href})"

    def _rewrite_prose(self, text: str, page: str, origin: str, own_chapter) -> str:
        def replace(m):
            if m.group("link"):
                return self._rewrite_link(m, page, origin)
            if m.group("code"):
                span = m.group("span")
                found = self.sources.resolve(span) if NAME.match(span) else None
                return self._link(m.group("code"), found, page) if found else m.group(0)
            if m.group("chapter"):
                number = int(m.group("number"))
                target = self.chapters.page(number)
                if target is None or number == own_chapter:
                    return m.group(0)
                return self._link(m.group("chapter"), (target, None), page)
            found = self.sources.resolve(m.group("path"))
            return self._link(m.group("path"), found, page) if found else m.group(0)

        return TOKEN.sub(replace, text)

    def _rewrite_link(self, m, page: str, origin: str) -> str:
        whole, label, target = m.group("link"), m.group("text"), m.group("target")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            return whole  # an external link or one within the page
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(origin), path))
        found = self._target_for_repo_path(repo_path)
        if found is None:
            return whole if whole.startswith("!") else label  # a file the site does not hold: plain text
        href = relative(found[0], page) + (f"#{anchor or found[1]}" if (anchor or found[1]) else "")
        return f"{'!' if whole.startswith('!') else ''}[{label}]({href})"
