"""The book, built in quick mode and read in a real browser (headless Chromium driven by Playwright).

One session-scoped build (``minigan docs build --site-dir <tmp> --cache <chapter cache>``) makes the site;
its chapter runs go to the session's chapter cache, which the notebook tests of
``tests/test_tutorials.py`` share, so no chapter is executed twice as a notebook in one test run. The
site is served from 127.0.0.1 (the search runs in a web worker, which a ``file://`` page may not start)
and every page is opened, at 1400 px:

- no console error, no uncaught exception, no failed request and no HTTP error (a few sample pages load
  the real search index, the others the same index without its documents: see ``_crawl``);
- every figure has loaded (``naturalWidth > 0``);
- math is MathML that takes up room, and no LaTeX is left unconverted;
- every internal link resolves to a page of the site, and its ``#anchor`` to an id on that page.

An annotated page shows prose and code side by side at 1400 px and stacked at 500 px; the search finds an
annotated page by the words of its docstring; screenshots of a
chapter page and an annotated page are saved (``MINIGAN_DOCS_SCREENSHOTS`` or the test's tmp dir) for a
person to look at. The browser is ``MINIGAN_CHROMIUM`` or ``/usr/bin/chromium`` (Debian's ``chromium``,
which ``.ci/run`` installs): without it, or without the docs extra, these tests FAIL saying what to
install; they never skip.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
CHAPTER_PAGE = "chapters/06_minimax_game.html"
ANNOTATED_PAGE = "source/minigan/autograd/engine.html"


def _chromium() -> str:
    path = os.environ.get("MINIGAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(
            f"no Chromium at {path}: the browser tests of the book need it "
            "(Debian: apt-get install chromium; or set MINIGAN_CHROMIUM=/path/to/chrome)"
        )
    return path


@pytest.fixture(scope="session")
def site(tmp_path_factory, chapter_cache) -> Path:
    for module in ("mkdocs", "mkdocstrings", "material", "latex2mathml", "playwright"):
        try:
            __import__(module)
        except ImportError:
            pytest.fail(f"the book's tests need the docs extra ({module} is missing): pip install -e .[docs]")
    from minigan.cli import main

    out = tmp_path_factory.mktemp("site")
    status = main(["docs", "build", "--site-dir", str(out), "--cache", str(chapter_cache)])
    assert status == 0, "minigan docs build failed (its error line is above)"
    return out


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser moved on to the next page before a response was sent in full


async def _launch(playwright):
    return await playwright.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_FLAGS)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("MINIGAN_DOCS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


PAGE_PROBE = """() => {
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const outsideCode = (e) => {
    let text = '';
    const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
      if (!walk.currentNode.parentElement.closest('code, pre')) text += walk.currentNode.textContent;
    }
    return text;
  };
  const maths = Array.from(document.querySelectorAll('article math'));
  const prose = Array.from(document.querySelectorAll('article :is(p, li, td, h1, h2), .md-nav__link'));
  return {
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    brokenImages: Array.from(document.images).filter(i => !i.complete || !i.naturalWidth).map(i => i.src),
    images: document.images.length,
    math: maths.length,
    invisibleMath: maths.filter(m => !visible(m)).length,
    mathErrors: document.querySelectorAll('.mg-math-error, merror').length,
    leftoverLatex: prose.map(outsideCode).filter(t => /\\\\\\(|\\\\\\[|\\$\\$/.test(t)).slice(0, 3),
  };
}"""


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


# pages that load the real search index; the others get the same index without its documents (see _crawl)
SEARCH_SAMPLE = ("index.html", "architecture.html", CHAPTER_PAGE, ANNOTATED_PAGE, "api/minigan.nn.html")


async def _crawl(server: str, site: Path, pages: list[str], workers: int = 4) -> dict:
    from playwright.async_api import async_playwright

    results = {}
    queue = list(reversed(pages))
    # Every page starts the search worker, which fetches and indexes the whole site's text (megabytes of
    # source): done for ~200 pages that is most of the crawl's time, and the same script on the same file
    # each time. So the sample pages load the real index, and the rest the same index with no documents:
    # the worker still starts and runs on every page, and its errors would still show.
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    stub = json.dumps({**index, "docs": []})
    async with async_playwright() as playwright:
        browser = await _launch(playwright)
        context = await browser.new_context(viewport={"width": 1400, "height": 900})

        async def worker():
            page = await context.new_page()
            problems: list[str] = []

            def failed(request):
                # a request the next navigation cancels (ERR_ABORTED) is no error of the page
                if "ERR_ABORTED" not in (request.failure or ""):
                    problems.append(f"request failed: {request.url} ({request.failure})")

            page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
            page.on("requestfailed", failed)
            page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
            current = {"rel": ""}

            async def search_index(route):
                if current["rel"] in SEARCH_SAMPLE:
                    await route.continue_()
                else:
                    await route.fulfill(status=200, content_type="application/json", body=stub)

            await page.route("**/search/search_index.json", search_index)
            while queue:
                rel = current["rel"] = queue.pop()
                problems.clear()
                await page.goto(server + rel, wait_until="load")
                info = await page.evaluate(PAGE_PROBE)
                info["problems"] = list(problems)
                results[rel] = info
            await page.close()

        await asyncio.gather(*(worker() for _ in range(workers)))
        await browser.close()
    return results


@pytest.fixture(scope="session")
def crawl(site, server):
    """Every page of the site opened once, four at a time: {page: probe result and its errors}."""
    _chromium()
    return asyncio.run(_crawl(server, site, _pages(site)))


def test_the_site_has_every_kind_of_page(site):
    pages = set(_pages(site))
    chapters = sorted(p.stem for p in (ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
    modules = [p.relative_to(ROOT).with_suffix("").as_posix() for d in ("minigan", "kernels")
               for p in (ROOT / d).rglob("*.py") if "__pycache__" not in p.parts]  # fmt: skip
    assert "index.html" in pages and "architecture.html" in pages
    assert {f"chapters/{c}.html" for c in chapters} <= pages
    missing = [m for m in modules if f"source/{m}.html" not in pages]
    assert not missing, f"modules without an annotated page: {missing}"
    assert {"api/minigan.html", "api/minigan.nn.html", "api/minigan.optim.html"} <= pages
    assert (site / "search" / "search_index.json").is_file()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Generative Adversarial Networks from scratch" in home  # the README is the home page


def test_every_page_loads_without_errors(crawl):
    bad = {page: info["problems"] for page, info in crawl.items() if info["problems"]}
    assert not bad, f"{len(bad)} page(s) with errors: " + "; ".join(f"{p}: {e[:3]}" for p, e in bad.items())


def test_every_figure_loads(crawl):
    broken = {page: info["brokenImages"] for page, info in crawl.items() if info["brokenImages"]}
    assert not broken, f"images that did not load: {broken}"
    chapter_images = sum(info["images"] for page, info in crawl.items() if page.startswith("chapters/"))
    assert chapter_images >= len([p for p in crawl if p.startswith("chapters/")]), "chapters show figures"


def test_math_renders(crawl):
    assert crawl[CHAPTER_PAGE]["math"] > 10, "chapter 06 is full of formulas"
    bad = {p: (i["invisibleMath"], i["mathErrors"], i["leftoverLatex"]) for p, i in crawl.items()
           if i["invisibleMath"] or i["mathErrors"] or i["leftoverLatex"]}  # fmt: skip
    assert not bad, f"math not rendered (invisible, errors, LaTeX left as text): {bad}"


def test_every_internal_link_resolves(crawl, server):
    broken = []
    for page, info in crawl.items():
        for href in info["links"]:
            if not href.startswith(server):
                continue
            url, fragment = urldefrag(href)
            target = unquote(urlparse(url).path).lstrip("/") or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if target not in crawl:
                broken.append(f"{page} -> {href} (no such page)")
            elif fragment and unquote(fragment) not in crawl[target]["ids"]:
                broken.append(f"{page} -> {href} (no #{unquote(fragment)} on {target})")
    assert not broken, f"{len(broken)} broken internal link(s): {broken[:20]}"
    total = sum(len(i["links"]) for i in crawl.values())
    assert total > 1000, total


def test_chapters_and_source_pages_link_to_each_other(crawl, server):
    to_source = [h for h in crawl[CHAPTER_PAGE]["links"] if "/source/" in h]
    assert to_source, "chapter 06 mentions minigan modules: they should link to their annotated pages"
    chapter_01 = server + "chapters/01_autograd.html"
    to_chapter = [h for h in crawl[ANNOTATED_PAGE]["links"] if h.startswith(chapter_01)]
    assert to_chapter, "engine.py is taught in chapter 01: its page should say so"
    assert "backward" in crawl[ANNOTATED_PAGE]["ids"] and "grad" in crawl[ANNOTATED_PAGE]["ids"]


LAYOUT = """() => Array.from(document.querySelectorAll('.mg-section')).filter(s =>
    s.querySelector('.mg-prose').textContent.trim() && s.querySelector('.mg-code').textContent.trim()
  ).map(s => { const p = s.querySelector('.mg-prose').getBoundingClientRect();
               const c = s.querySelector('.mg-code').getBoundingClientRect();
               return {pl: p.left, pr: p.right, pt: p.top, pb: p.bottom, cl: c.left, ct: c.top}; })"""


async def _look(server: str, width: int, screenshots: Path):
    """The annotated page's section boxes at ``width`` px, and screenshots."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await _launch(playwright)
        page = await browser.new_page(viewport={"width": width, "height": 1000})
        await page.goto(server + ANNOTATED_PAGE, wait_until="load")
        sections = await page.evaluate(LAYOUT)
        await page.screenshot(path=str(screenshots / f"annotated-engine-{width}.png"))
        if width == 1400:
            await page.goto(server + CHAPTER_PAGE, wait_until="load")
            await page.screenshot(path=str(screenshots / "chapter-06.png"))
            await page.locator("img.mg-figure").first.scroll_into_view_if_needed()
            await page.screenshot(path=str(screenshots / "chapter-06-figure.png"))
            # the search: the index loads in a web worker; a query for an engine function finds its page
            await page.goto(server + "index.html", wait_until="networkidle")
            await page.locator("input.md-search__input").click()
            await page.locator("input.md-search__input").fill("generation numbers")
            await page.locator(".md-search-result__item").first.wait_for(timeout=30_000)
            hits = await page.locator(".md-search-result__item a").evaluate_all("as => as.map(a => a.href)")
            sections.append({"search": hits})
        await browser.close()
    return sections


@pytest.mark.parametrize("width", [1400, 500])
def test_annotated_page_layout(server, screenshots, width):
    _chromium()
    sections = asyncio.run(_look(server, width, screenshots))
    if width == 1400:
        hits = sections.pop()["search"]
        assert any("source/minigan/autograd/engine.html" in h for h in hits), f"search found {hits[:5]}"
    assert len(sections) >= 3, "engine.py has documented functions with code"
    if width == 1400:
        side = [s for s in sections if s["pr"] <= s["cl"] + 1 and abs(s["pt"] - s["ct"]) < 40]
        assert len(side) == len(sections), f"prose and code not side by side at 1400 px: {sections[:3]}"
    else:
        stacked = [s for s in sections if s["ct"] >= s["pb"] - 1 and abs(s["pl"] - s["cl"]) < 2]
        assert len(stacked) == len(sections), f"prose and code not stacked at 500 px: {sections[:3]}"
    assert (screenshots / f"annotated-engine-{width}.png").stat().st_size > 10_000
    print(f"screenshots in {screenshots}")
