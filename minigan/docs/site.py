"""The book's MkDocs hooks: which pages the site has and how each is made (the book; see the README's
"The book" section and the architecture page, ``docs/architecture.md``).

``docs/hooks.py`` hands MkDocs these functions. The repository root is the folder of ``mkdocs.yml``.

- ``on_config``: reads the chapters and the modules, fails on any module without a docstring (all of
  them named in one line), executes every chapter (quick mode unless ``MINIGAN_DOCS_MODE=full``; cache
  in ``MINIGAN_DOCS_CACHE``, default ``.docs_cache/``; ``MINIGAN_DOCS_JOBS`` at a time, ``docs_jobs``) and
  sets the navigation.
- ``on_files``: adds the generated pages, none of which is written into the repository: ``index.md``
  (the README), ``chapters/NN_slug.md`` with their figures, ``source/<path>.md`` for every module (the
  annotated source), ``api/<package>.md`` (mkdocstrings directives for the public API) and
  ``notes/<path>.md`` (the repository's other documents: ``kernels/RESULTS.md``,
  ``minigan/gan/QUALITY.md`` ...).
- ``on_page_markdown``: links the mentions in the hand-written pages (links.py).
- ``on_page_content``: puts the annotated HTML in its page and turns math into MathML (mathml.py), in the
  page and in its table of contents.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
from pathlib import Path

from . import annotate, chapters, mathml, render
from .links import ChapterIndex, Linker, SourceIndex, relative

log = logging.getLogger("mkdocs.minigan")

# the public API, one reference page each (those present under the root)
API_PACKAGES = (
    "minigan",
    "minigan.autograd",
    "minigan.nn",
    "minigan.nn.functional",
    "minigan.nn.init",
    "minigan.nn.utils",
    "minigan.optim",
    "minigan.optim.lr_scheduler",
    "minigan.optim.swa_utils",
    "minigan.gan",
    "minigan.gan.variants",
    "minigan.data",
    "minigan.metrics",
    "minigan.viz",
    "minigan.testing",
    "minigan.io",
    "minigan.serialization",
    "minigan.cuda",
    "minigan.backends",
)
NOTE_DIRS = ("minigan", "kernels", "tutorials", "tests")
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")


class DocsError(RuntimeError):
    """The book cannot be built; the message is one line saying why."""


class Book:
    """Everything one build knows: the root, the indexes, the executed chapters, the generated pages."""

    def __init__(self, root: Path, quick: bool, cache: Path):
        self.root, self.quick, self.cache = root, quick, cache
        self.chapters = ChapterIndex(root)
        self.sources = SourceIndex(root, self.chapters)
        missing = self.sources.missing_docstrings()
        if missing:
            raise DocsError(
                f"{len(missing)} module(s) without a docstring (every module opens with one saying what it "
                f"is and which chapter teaches it): {', '.join(missing)}"
            )
        self.notes = {}  # repository path -> docs path, for the documents
        for folder in NOTE_DIRS:
            for path in sorted((root / folder).rglob("*.md")):
                if {"__pycache__", "_out", ".pytest_cache"} & set(path.parts):
                    continue
                rel = path.relative_to(root).as_posix()
                self.notes[rel] = f"notes/{rel}"
        self.images = {}  # repository path -> docs path, for images the README and the notes show
        for origin in ["README.md", *self.notes]:
            text = (root / origin).read_text(encoding="utf-8")
            for target in IMAGE_LINK.findall(text):
                rel = posixpath.normpath(posixpath.join(posixpath.dirname(origin), target))
                if (root / rel).is_file():
                    self.images[rel] = f"assets/repo/{rel}"
        files = {
            "README.md": "index.md",
            **self.notes,
            **self.images,
            "docs/architecture.md": "architecture.md",
        }
        self.linker = Linker(self.sources, self.chapters, files)
        self.origins = {v: k for k, v in files.items()}  # docs page -> the repository file it shows
        self.executed = {}
        self.html = {}  # annotated pages: docs path -> body HTML

    def execute_chapters(self, jobs: int = 1) -> None:
        """Every chapter from the cache, the missing ones executed first, ``jobs`` at a time
        (``chapters.execute_many``)."""
        digest = chapters.library_digest(self.root)
        mode = "quick" if self.quick else "full"
        paths = {
            n: self.root / "tutorials" / f"{stem}.py" for n, (stem, _t, _p) in self.chapters.chapters.items()
        }
        ran = chapters.execute_many(list(paths.values()), self.cache, self.quick, digest, jobs)
        for number, path in paths.items():
            done = chapters.execute(path, self.cache, quick=self.quick, digest=digest)  # a cache hit now
            self.executed[number] = done
            how = f"executed in {ran[path]:.1f} s" if path in ran else "cached"
            log.info(f"chapter {path.stem} ({mode}): {how}")
        keep = {chapters.cache_key(path, self.quick, digest) for path in paths.values()}
        chapters.clear_stale(self.cache, keep, mode)

    def nav(self) -> list:
        nav = [{"Home": "index.md"}, {"Architecture": "architecture.md"}]
        nav.append(
            {
                "Chapters": [
                    {f"{n:02d} {t.split('—', 1)[-1].strip()}": p}
                    for n, (_s, t, p) in self.chapters.chapters.items()
                ]
            }
        )
        tree = {}
        for module in self.sources.modules.values():
            node = tree
            *folders, name = module.path.split("/")
            for folder in folders:
                node = node.setdefault(folder + "/", {})
            node[name] = module.page

        def as_nav(node):
            items = []
            for key in sorted(node, key=lambda k: (k != "__init__.py", k.endswith("/"), k)):
                value = node[key]
                items.append({key: as_nav(value) if isinstance(value, dict) else value})
            return items

        nav.append({"Annotated source": as_nav(tree)})
        nav.append({"API reference": [{name: f"api/{name}.md"} for name in self.api_packages()]})
        if self.notes:
            nav.append({"Notes": [{rel: page} for rel, page in self.notes.items()]})
        return nav

    def api_packages(self) -> list[str]:
        return [name for name in API_PACKAGES if name in self.sources.by_dotted]

    # --- the generated pages --------------------------------------------------------------------------

    def home(self) -> str:
        return self.linker.rewrite(
            (self.root / "README.md").read_text(encoding="utf-8"), "index.md", "README.md"
        )

    def note(self, rel: str) -> str:
        return self.linker.rewrite((self.root / rel).read_text(encoding="utf-8"), self.notes[rel], rel)

    def chapter(self, number: int):
        stem, _title, page = self.chapters.chapters[number]
        return render.chapter_markdown(
            self.executed[number], self.linker, page, f"tutorials/{stem}.py", number
        )

    def mentions(self) -> dict:
        """{module path: [chapter numbers whose prose links to it]}."""
        found = {}
        for number, (stem, _t, page) in self.chapters.chapters.items():
            text = (self.root / "tutorials" / f"{stem}.py").read_text(encoding="utf-8")
            linked = self.linker.rewrite(text, page, f"tutorials/{stem}.py", own_chapter=number)
            for target in re.findall(r"\]\(\.\./(source/[^)#]+\.md)", linked):
                found.setdefault(target, set()).add(number)
        return found

    def source_page(self, module, mentioned: set) -> str:
        page = module.page
        sections = annotate.split((self.root / module.path).read_text(encoding="utf-8"))

        def chapter_link(n):
            stem, title, target = self.chapters.chapters[n]
            return f"[{title}]({relative(target, page)})"

        lines = []
        if module.chapters:
            lines.append("**Taught in** " + ", ".join(chapter_link(n) for n in module.chapters) + ".")
        else:
            lines.append(
                "No chapter teaches this module; the [architecture page]"
                f"({relative('architecture.md', page)}) says where it sits."
            )
        others = sorted(mentioned - set(module.chapters))
        if others:
            lines.append("**Mentioned in** " + ", ".join(chapter_link(n) for n in others) + ".")
        if module.dotted in self.api_packages():
            lines.append(
                f"**API reference:** [{module.dotted}]({relative(f'api/{module.dotted}.md', page)})."
            )
        self.html[page] = render.annotated_html(module, sections, self.linker, page, "  \n".join(lines))
        title = module.path.replace("_", "\\_")  # __init__ is a file name, not markdown emphasis
        return f"---\nhide:\n  - toc\n---\n\n# {title}\n\n<!-- minigan-annotated -->\n"

    def api_page(self, name: str) -> str:
        module = self.sources.by_dotted[name]
        return (
            f"# {name}\n\nThe public names of `{name}`, from their docstrings. "
            f"The annotated source: [`{module.path}`]({relative(module.page, f'api/{name}.md')}).\n\n"
            f"::: {name}\n"
        )


_BOOK: Book | None = None


def docs_jobs(quick: bool) -> int:
    """How many chapters run at once: ``MINIGAN_DOCS_JOBS`` (``minigan docs build --jobs``), else 2 in
    quick mode on a machine with 2 cores or more (quick chapters are single-threaded, seconds each: two at a
    time nearly halve the build's chapter time) and 1 in full mode (full chapters use every core)."""
    value = os.environ.get("MINIGAN_DOCS_JOBS")
    if value:
        try:
            return chapters.parse_jobs(value)
        except ValueError as err:
            raise DocsError(f"MINIGAN_DOCS_JOBS: {err}") from None
    return min(2, os.cpu_count() or 1) if quick else 1


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_config(config):
    global _BOOK
    root = _root(config)
    mode = os.environ.get("MINIGAN_DOCS_MODE", "quick")
    if mode not in ("quick", "full"):
        raise DocsError(f"MINIGAN_DOCS_MODE={mode!r}: expected 'quick' or 'full'")
    cache = Path(os.environ.get("MINIGAN_DOCS_CACHE") or root / ".docs_cache")
    _BOOK = Book(root, quick=mode == "quick", cache=cache)
    _BOOK.execute_chapters(docs_jobs(_BOOK.quick))
    config["nav"] = _BOOK.nav()
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    book = _BOOK

    def add(uri, content=None, path=None):
        if path is not None:
            files.append(File.generated(config, uri, abs_src_path=str(path)))
        else:
            files.append(File.generated(config, uri, content=content))

    add("index.md", book.home())
    for rel, page in book.notes.items():
        add(page, book.note(rel))
    for rel, page in book.images.items():
        add(page, path=book.root / rel)
    for number in book.chapters.chapters:
        text, assets = book.chapter(number)
        add(book.chapters.chapters[number][2], text)
        for uri, path in assets.items():
            add(uri, path=path)
    mentions = book.mentions()
    for module in book.sources.modules.values():
        add(module.page, book.source_page(module, mentions.get(module.page, set())))
    for name in book.api_packages():
        add(f"api/{name}.md", book.api_page(name))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "architecture.md":
        return _BOOK.linker.rewrite(markdown, "architecture.md", "docs/architecture.md")
    return markdown


def on_page_content(html, page, config, files):
    body = _BOOK.html.get(page.file.src_uri)
    if body is not None:
        html = html.replace("<!-- minigan-annotated -->", body, 1)
        # MkDocs checks links' anchors against the ids it saw in the markdown; these come from raw HTML
        if getattr(page, "present_anchor_ids", None) is not None:
            page.present_anchor_ids.update(re.findall(r'<section class="mg-section[^"]*" id="([^"]+)"', body))
    _toc_math(page.toc)
    return mathml.convert(html)


def _toc_math(items) -> None:
    # the table of contents holds heading text, LaTeX delimiters and all: its math becomes MathML too
    for item in items:
        item.title = mathml.convert_text(item.title)
        _toc_math(item.children)
