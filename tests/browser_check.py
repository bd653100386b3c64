"""Open every page of the built book in headless Chromium, as a reader would, and check it.

Run by ``make browser-check`` after the book is built (not collected by pytest: it needs the
built HTML and Chromium). For each page, Chromium renders it from disk (no network) and dumps
the DOM after MathJax has run; the checks are:

- math is rendered: MathJax containers are present where the page has math, and no raw TeX
  delimiters are left in the text;
- every image loads: its file exists under the built book and decodes as an image;
- no broken internal link: every relative link points to an existing file, and to an existing
  anchor in it;
- glued numbers are present: no empty glued text and no unprocessed ``{glue:...}`` role;
- the navigation works (``nav_check.py``, on the first chapter): clicked at a desktop's and at a
  phone's width, the sidebar toggles hide and show the chapter list, open and close it, and at
  most one search box is in view.

Exits with status 1 and a list of problems if any check fails.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

from nav_check import check as check_navigation  # tests/nav_check.py, beside this file
from PIL import Image

from mtrl.book.chromium import command

RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$")
LATEX_MACRO = re.compile(r"\\[A-Za-z]+")  # e.g. \emph, which pybtex leaves in a note


class Page(HTMLParser):
    """Collect what the checks need from one rendered page."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.images = set(), [], []
        self.math = 0
        self.text_outside_code, self.glued = [], []
        self._skip = 0  # depth inside code, pre, script, style, or MathJax's own markup
        self._glued = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img" and a.get("src"):
            self.images.append(a["src"])
        if tag == "mjx-container":
            self.math += 1
        classes = a.get("class", "") or ""
        if tag in ("code", "pre", "script", "style", "mjx-container", "textarea"):
            self._skip += 1
        if "pasted-text" in classes.split():
            self._glued = ""

    def handle_endtag(self, tag):
        if tag in ("code", "pre", "script", "style", "mjx-container", "textarea"):
            self._skip = max(0, self._skip - 1)
        if tag == "span" and self._glued is not None:
            self.glued.append(self._glued)
            self._glued = None

    def handle_data(self, data):
        if self._glued is not None:
            self._glued += data
        if not self._skip:
            self.text_outside_code.append(data)


def render(chromium: str, page: Path, profile: str) -> str:
    """Return the DOM of ``page`` after its scripts ran (headless, offline, from disk)."""
    result = subprocess.run(
        command(profile, "--dump-dom", page.resolve().as_uri(), executable=chromium),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0 or "<html" not in result.stdout:
        raise RuntimeError(f"chromium failed on {page}: {result.stderr[-500:]}")
    return result.stdout


def check(html_root: Path, chromium: str) -> list[str]:
    problems = []
    pages = sorted((html_root / "book").glob("*.html"))
    index = (html_root / "index.html").read_text()  # a redirect to the first page
    redirect = re.search(r'url=([^"\s]+)"', index)
    if not redirect or not (html_root / redirect.group(1)).exists():
        problems.append("index.html does not redirect to an existing page")
    parsed: dict[Path, Page] = {}
    with tempfile.TemporaryDirectory() as profile:
        for page in pages:
            if page.resolve() in parsed:
                continue
            dom = Page()
            dom.feed(render(chromium, page, profile))
            parsed[page.resolve()] = dom
    for page, dom in parsed.items():
        name = page.relative_to(html_root.resolve())
        text = "".join(dom.text_outside_code)
        source = page.read_text()
        has_math = "\\(" in source or "\\[" in source or 'class="math' in source
        if has_math and dom.math == 0:
            problems.append(f"{name}: math not rendered (no MathJax output)")
        for raw in RAW_TEX.findall(text):
            problems.append(f"{name}: raw TeX {raw!r} left in the text")
        for macro in set(LATEX_MACRO.findall(text)) if name.name == "references.html" else ():
            problems.append(f"{name}: raw LaTeX {macro!r} in the bibliography")
        if "{glue:" in text:
            problems.append(f"{name}: an unprocessed glue role")
        problems += [f"{name}: empty glued text" for g in dom.glued if not g.strip()]
        for src in dom.images:
            if urlparse(src).scheme in ("http", "https"):
                problems.append(f"{name}: image from the network {src}")
                continue
            file = (page.parent / unquote(urlparse(src).path)).resolve()
            try:
                with Image.open(file) as image:
                    image.verify()
            except Exception as error:  # any failure to decode is the finding
                if file.suffix != ".svg" or not file.exists():
                    problems.append(f"{name}: image {src} does not load ({error})")
        for href in dom.links:
            url = urlparse(href)
            if url.scheme:  # http(s), mailto: outside the book
                continue
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if not target.exists():
                problems.append(f"{name}: broken link {href}")
                continue
            if url.fragment and target.suffix == ".html":
                if target not in parsed:
                    ids = set(re.findall(r'id="([^"]+)"', target.read_text()))
                else:
                    ids = parsed[target].ids
                if unquote(url.fragment) not in ids:
                    problems.append(f"{name}: link {href} to a missing anchor")
    chapters = [page for page in pages if page.stem[:1].isdigit()] or pages
    problems += check_navigation(chapters[0], chromium)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the built book, e.g. _build/html")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    problems = check(args.html, args.chromium)
    for problem in problems:
        print(problem)
    pages = len(list((args.html / "book").glob("*.html")))
    print(f"browser check: {pages} pages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
