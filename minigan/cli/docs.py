"""``minigan docs build | serve``: the book, a static site of the executed chapters, the annotated source
and the API reference (no chapter teaches it; the README's "The book" section describes it).

A thin wrapper over MkDocs (``mkdocs.yml`` at the repository root, pages made by ``minigan/docs/``):

    minigan docs build [--full] [--site-dir DIR] [-f mkdocs.yml]   build the site (default: site/)
    minigan docs serve [--full] [--dev-addr 127.0.0.1:8000]         build, serve, rebuild on change

Quick mode (the default) runs each chapter with ``MINIGAN_QUICK=1``, as the tests do; ``--full`` runs
the full chapters (minutes to an hour each, see the chapter table). Executed chapters are cached in
``.docs_cache/`` (``--cache DIR``), keyed by chapter and library source, so a rebuild only re-runs what
changed; ``--jobs N`` executes N chapters at once, each in a process of its own (default 2 in quick mode
where there are 2 cores, 1 in full mode). A chapter that fails, a module without a docstring or a broken
link fails the build with one line naming it (exit 1); the docs extra missing or no ``mkdocs.yml`` is a
usage error (exit 2).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .common import CLIError

ROOT = Path(__file__).resolve().parents[2]


def add_parser(sub):
    p = sub.add_parser("docs", help="build or serve the book (chapters, annotated source, API reference)")
    actions = p.add_subparsers(dest="action", metavar="{build,serve}", parser_class=type(p))
    actions.required = True
    for name, text in (("build", "build the static site"), ("serve", "serve the site, rebuilding on change")):
        a = actions.add_parser(name, help=text)
        a.add_argument("--full", action="store_true", help="run the full chapters (default: quick mode)")
        a.add_argument(
            "-f", "--config-file", type=Path, default=ROOT / "mkdocs.yml", help="mkdocs.yml to use"
        )
        a.add_argument(
            "--cache", type=Path, default=None, help="executed-chapter cache (default: .docs_cache/)"
        )
        a.add_argument(
            "--jobs", type=_jobs, default=None,
            help="chapters executed at once (default: 2 in quick mode on 2 or more cores, 1 in full mode)",
        )  # fmt: skip
        if name == "build":
            a.add_argument("--site-dir", type=Path, default=None, help="where the site goes (default: site/)")
        else:
            a.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on")
        a.set_defaults(func=run)


def _jobs(text: str) -> int:
    from ..docs.chapters import parse_jobs  # the check MINIGAN_DOCS_JOBS gets too (stdlib imports only)

    try:
        return parse_jobs(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _prepare(args):
    try:
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError as err:
        raise CLIError(
            f"minigan docs needs the docs extra ({err.name} is missing): pip install -e '.[docs]'", code=2
        ) from None
    config = args.config_file.resolve()
    if not config.is_file():
        raise CLIError(
            f"minigan docs: no {config} (the book is built from a clone of the repository; "
            "pass -f PATH/mkdocs.yml)",
            code=2,
        )
    return config


def run(args) -> int:
    config_file = _prepare(args)
    # the hooks read the mode and the cache from the environment (plain `mkdocs build` uses the defaults)
    env = {"MINIGAN_DOCS_MODE": "full" if args.full else "quick"}
    if args.cache is not None:
        env["MINIGAN_DOCS_CACHE"] = str(args.cache.resolve())
    if args.jobs is not None:
        env["MINIGAN_DOCS_JOBS"] = str(args.jobs)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    # MkDocs' progress and warnings, as its own command line shows them, for this run only
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        return _run(args, config_file)
    finally:
        logger.removeHandler(handler)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run(args, config_file) -> int:
    from mkdocs.exceptions import Abort, ConfigurationError

    from ..docs.chapters import ChapterError
    from ..docs.site import DocsError

    try:
        if args.action == "serve":
            from mkdocs.commands.serve import serve

            root = config_file.parent  # the chapters and the sources are the book's input too
            inputs = ("README.md", "tutorials", "minigan", "kernels")
            watch = [str(root / p) for p in inputs if (root / p).exists()]
            serve(config_file=str(config_file), dev_addr=args.dev_addr, watch=watch)
            return 0
        from mkdocs.commands.build import build
        from mkdocs.config import load_config

        overrides = {"site_dir": str(args.site_dir.resolve())} if args.site_dir else {}
        config = load_config(config_file=str(config_file), **overrides)
        build(config)
    except (ChapterError, DocsError) as err:
        raise CLIError(f"docs build failed: {err}") from None
    except (Abort, ConfigurationError) as err:
        raise CLIError(f"docs build failed: {err} (the warnings above say what)") from None
    print(f"minigan docs: site built in {config['site_dir']}", file=sys.stderr)
    return 0
