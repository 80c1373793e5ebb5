"""MkDocs hooks of the book: the site's pages are made by minigan/docs/site.py (the README's "The book"
section says how to build it; no chapter teaches it)."""

from minigan.docs.site import on_config, on_files, on_page_content, on_page_markdown  # noqa: F401
