"""Math in the book, rendered when the site is built: the LaTeX that ``pymdownx.arithmatex`` marks
(``$...$`` inline, ``$$...$$`` displayed) becomes MathML, which the browser lays out natively (the book;
see the README's "The book" section).

No script and no web font is loaded to show an equation, so a page reads the same offline and its math
is there the moment the HTML is. ``convert(html)`` replaces every ``<span class="arithmatex">\\(..\\)``
and ``<div class="arithmatex">\\[..\\]`` with ``<math>`` (display="block" for the latter); LaTeX that
latex2mathml cannot read is left as it was, in a ``<code class="mg-math-error">``, and logged, so a bad
formula shows up in the page and in the build log instead of vanishing.
"""

from __future__ import annotations

import html
import logging
import re

log = logging.getLogger("mkdocs.minigan")

INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
BLOCK = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)


def to_mathml(latex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception as err:  # latex2mathml raises its own exception types, and IndexError on some input
        log.warning(f"math not converted ({type(err).__name__}): {latex.strip()[:80]}")
        return f'<code class="mg-math-error">{html.escape(latex)}</code>'


def convert(page_html: str) -> str:
    """``page_html`` with its arithmatex math as MathML."""
    page_html = BLOCK.sub(lambda m: to_mathml(html.unescape(m.group(1)), True), page_html)
    return INLINE.sub(lambda m: to_mathml(html.unescape(m.group(1)), False), page_html)


TEXT_INLINE = re.compile(r"\\\((.*?)\\\)", re.S)


def convert_text(text: str) -> str:
    """Heading text as the table of contents holds it (``\\(..\\)`` left by arithmatex) with MathML."""
    return TEXT_INLINE.sub(lambda m: to_mathml(html.unescape(m.group(1)), False), text)
