"""Rendering the book's generated pages: an annotated-source page as HTML, an executed chapter as markdown
(the book; see the README's "The book" section).

``annotated_html(module, sections, ...)`` lays out the ``annotate.split`` sections of a module: each
section is a ``<section class="mg-section" id="qualified.name">`` holding its prose (rendered with the
same markdown and math as the rest of the site) and its code (Pygments, in the theme's colours). The
stylesheet ``docs/assets/book.css`` puts prose and code in two columns when the page is wide and stacks
them when it is narrow. Above the sections: the chapters that teach the module and mention it.

``chapter_markdown(executed, ...)`` writes an executed chapter as one markdown page: markdown cells as
they are, code cells as fenced Python, printed output as text blocks, and after each cell the figures it
saved (copied beside the page).
"""

from __future__ import annotations

import html
import re

PROSE_EXTENSIONS = ["pymdownx.arithmatex", "tables", "sane_lists", "pymdownx.superfences", "attr_list"]
PROSE_CONFIG = {"pymdownx.arithmatex": {"generic": True}}


def _markdown():
    import markdown

    return markdown.Markdown(extensions=PROSE_EXTENSIONS, extension_configs=PROSE_CONFIG)


def _highlight(code: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    body = highlight(code, PythonLexer(), HtmlFormatter(nowrap=True))
    return f'<div class="language-python highlight"><pre><span></span><code>{body}</code></pre></div>'


def _md_links_to_html(rendered: str) -> str:
    # the prose is raw HTML in the page, which MkDocs does not rewrite: point .md links at the .html pages
    return re.sub(
        r'href="([^":#]+)\.md(#[^"]*)?"', lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', rendered
    )


def annotated_html(module, sections, linker, page: str, header: str) -> str:
    """The annotated page body of ``module`` (a links.Module) for docs page ``page``."""
    md = _markdown()
    parts = [
        f'<div class="mg-source-meta">{_md_links_to_html(md.convert(header))}</div>',
        '<div class="mg-annotated">',
    ]
    for section in sections:
        md.reset()
        prose = linker.rewrite(section.prose, page, module.path) if section.prose else ""
        prose_html = _md_links_to_html(md.convert(prose)) if prose else ""
        code = section.code_text
        ident = f' id="{html.escape(section.anchor)}"' if section.anchor else ""
        label = ""
        if section.anchor:
            label = (
                f'<a class="mg-anchor" href="#{html.escape(section.anchor)}" '
                f'title="line {section.line}">{html.escape(section.anchor)}</a>'
            )
        parts.append(
            f'<section class="mg-section mg-{section.kind}"{ident}>'
            f'<div class="mg-prose">{label}{prose_html}</div>'
            f'<div class="mg-code">{_highlight(code) if code else ""}</div></section>'
        )
    parts.append("</div>")
    return "\n".join(parts)


def _fence(text: str, lang: str = "text") -> str:
    ticks = "`" * max(3, max((len(t) for t in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def chapter_markdown(executed, linker, page: str, origin: str, number: int):
    """(markdown, {docs path: file to copy}) for the executed chapter, to be the docs page ``page``."""
    stem = executed.chapter.stem
    assets = {}
    blocks = []
    for index, cell in enumerate(executed.notebook.cells):
        if cell.cell_type == "markdown":
            blocks.append(linker.rewrite(cell.source, page, origin, own_chapter=number))
            continue
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        blocks.append(_fence(cell.source, "python"))
        streams = []

        def flush(streams=streams):
            if streams:
                blocks.append(
                    '<div class="mg-output" markdown>\n\n' + _fence("".join(streams)) + "\n\n</div>"
                )
                streams.clear()

        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                streams.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                data = output.get("data", {})
                if "text/plain" in data and not any(k.startswith("image/") for k in data):
                    streams.append(data["text/plain"] + "\n")
        flush()
        for figure in executed.figures.get(index, []):
            name = figure.relative_to(executed.out).as_posix()
            target = f"chapters/{stem}/{name}"
            assets[target] = figure
            blocks.append(f"![{name}]({stem}/{name}){{ .mg-figure }}")
    return "\n\n".join(blocks) + "\n", assets
