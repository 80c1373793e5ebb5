"""Annotated source: a module split into (prose, code) sections, as in docco / pycco (the book; see the
README's "The book" section and the architecture page).

``split(text)`` reads a Python module with ``tokenize`` and ``ast`` and returns its ``Section`` list:

- the module docstring opens the first section as prose;
- every ``def`` / ``class`` (decorators included) starts a section whose anchor is its qualified name
  (``Tensor.backward``, ``outer.inner``); its docstring, when it has one, is that section's prose and is
  left out of the code;
- a run of full-line ``#`` comments starts a section whose prose is the comments' text (markdown and
  ``$math$``); a comment at the end of a code line stays in the code, and so do tool pragmas
  (``# noqa``, ``# type:``, ``# fmt:``, ``# pragma``) and a shebang.

Everything else is code, in order, so the code columns of all sections put together are the module with
its docstrings and full-line comments taken out. ``docstring_markdown`` turns a docstring written for a
terminal (wrapped lines, lists right after a sentence) into markdown that renders as the author meant.
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import tokenize
from dataclasses import dataclass, field

PRAGMA = re.compile(r"#\s*(noqa|type:|fmt:|pragma|pylint|ruff:|isort:|%%)|#!")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)]|\([a-z0-9]{1,2}\))\s+\S")


@dataclass
class Section:
    """One row of an annotated page: prose (markdown) beside the code it describes.

    ``anchor`` is the qualified name of the ``def`` / ``class`` the section opens (None for a module
    docstring or a comment run); ``line`` is the 1-based source line the section starts at.
    """

    prose: str = ""
    code: list[str] = field(default_factory=list)
    anchor: str | None = None
    kind: str = "code"  # "module", "def", "class" or "comment"
    line: int = 1

    @property
    def code_text(self) -> str:
        return "\n".join(self.code).strip("\n")


def _definitions(tree):
    """{first line (decorators included): (qualified name, kind, docstring node or None)}."""
    found = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                body = child.body
                doc = None
                first = body[0] if body else None
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    # a docstring on the def's own line stays code: hiding it would hide the signature
                    if isinstance(first.value.value, str) and first.lineno > child.lineno:
                        doc = first
                kind = "class" if isinstance(child, ast.ClassDef) else "def"
                found[start] = (name, kind, doc)
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _comment_lines(text):
    """{line: comment text} for lines holding nothing but a comment (pragmas and the shebang excluded)."""
    out = {}
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    last_code_line = 0
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            line = tok.start[0]
            if line != last_code_line and not PRAGMA.match(tok.string):
                body = tok.string[1:]
                out[line] = body[1:] if body.startswith(" ") else body
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            last_code_line = tok.end[0]
    return out


def split(text: str) -> list[Section]:
    """The (prose, code) sections of a module's source ``text``; raises SyntaxError on invalid Python."""
    tree = ast.parse(text)
    lines = text.splitlines()
    defs = _definitions(tree)
    comments = _comment_lines(text)
    skip = set()  # docstring lines: shown as prose, not code
    sections = [Section(kind="module", line=1)]
    module_doc = ast.get_docstring(tree, clean=True)
    if module_doc is not None:
        node = tree.body[0]
        skip.update(range(node.lineno, node.end_lineno + 1))
        sections[0].prose = docstring_markdown(module_doc)
    doc_of = {}
    for start, (_name, _kind, doc) in defs.items():
        if doc is not None:
            skip.update(range(doc.lineno, doc.end_lineno + 1))
            doc_of[start] = inspect.cleandoc(doc.value.value)

    current = sections[0]
    in_comment_run = False
    for number, line in enumerate(lines, start=1):
        if number in defs:
            name, kind, _doc = defs[number]
            # a comment run right above a def belongs to it: the def joins the comment's section
            if in_comment_run and not current.code:
                current.anchor, current.kind = name, kind
                if number in doc_of:
                    current.prose += "\n\n" + docstring_markdown(doc_of[number])
            else:
                current = Section(
                    anchor=name, kind=kind, line=number, prose=docstring_markdown(doc_of.get(number, ""))
                )
                sections.append(current)
            in_comment_run = False
        if number in skip:
            continue
        if number in comments:
            if not in_comment_run:
                current = Section(kind="comment", line=number)
                sections.append(current)
                in_comment_run = True
            current.prose += comments[number] + "\n"
            continue
        if in_comment_run and not line.strip():
            current.prose += "\n"
            continue
        in_comment_run = False
        current.code.append(line)
    for section in sections:
        section.prose = section.prose.strip()
    return [s for s in sections if s.prose or s.code_text or s.anchor]


def docstring_markdown(doc: str) -> str:
    """A docstring (already dedented) as markdown: a list item or an indented block that follows a
    sentence line gets the blank line markdown needs before it; everything else is left as written."""
    out = []
    previous = ""
    for line in doc.splitlines():
        starts_block = LIST_ITEM.match(line) or (line.startswith("    ") and not previous.startswith("    "))
        if (
            starts_block
            and previous.strip()
            and not LIST_ITEM.match(previous)
            and not previous.startswith(" ")
        ):
            out.append("")
        out.append(line)
        previous = line
    return "\n".join(out)
