"""The book: a static site of the executed chapters, minigan's annotated source and its API reference,
built with MkDocs by ``minigan docs build`` (no chapter teaches it; the README's "The book" section
describes it and the architecture page, ``docs/architecture.md``, says where it sits).

    chapters.py  run each chapter as a notebook, collect its figures, cache the result
    annotate.py  split a module into (prose, code) sections: docstrings and comments beside the code
    links.py     the module and chapter indexes; prose mentions of modules and chapters become links
    render.py    the annotated-source HTML and the executed-chapter markdown
    mathml.py    LaTeX to MathML when the site is built, so no page loads a math script
    site.py      the MkDocs hooks that put it together (``docs/hooks.py`` hands them to MkDocs)

Importing this package imports nothing from MkDocs; the docs extra is needed only to build.
"""
