"""Click the book's navigation toggles in headless Chromium, as a reader would, and check that
they open and close the sidebars.

Used by ``browser_check.py`` on one chapter page; runs alone too, and can then keep a
screenshot of each step::

    .venv/bin/python tests/nav_check.py _build/html/book/01_setup.html --screenshots DIR

Chromium is driven through its DevTools protocol over a pipe (``--remote-debugging-pipe``: JSON
messages ended by a NUL byte on file descriptors 3 and 4), so nothing beyond the standard
library is needed. A click is a real mouse press and release at the centre of the button. Each
check asks what a reader sees: an element is *seen* if it has a size, lies in the viewport, is
neither hidden nor transparent, and is the topmost element at its centre (so a click there
reaches it). MathJax is kept from loading (it has no part in the navigation, and the other
checks of ``browser_check.py`` look at the math). The page is loaded afresh for each width, and
again for each further toggle of one sidebar or after a step that failed:

- desktop (1280x900): the chapter list (primary sidebar) is seen; the toggle hides it (no
  longer on screen, none of its links seen), and a second click shows it again;
- phone (390x844): the chapter list and the page's contents (secondary sidebar) are not seen;
  each one's toggle opens it on screen with its links seen, and a click beside it closes it
  (the chapter list first, then the contents);
- at both widths, at most one search box or button is seen at a time outside the article.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mtrl.book.chromium import command

DESKTOP, PHONE = (1280, 900), (390, 844)
PRIMARY = ("the chapter list", "#pst-primary-sidebar, .bd-sidebar-primary", ".primary-toggle")
SECONDARY = (
    "the page contents",
    "#pst-secondary-sidebar, .bd-sidebar-secondary",
    ".secondary-toggle",
)
SEARCH = ".search-button__button, .search-button-field, form.bd-search, input[type=search]"

# What a reader sees of one sidebar and its toggles, measured in the page.
PROBE = r"""
((sidebarSelector, toggleSelector, searchSelector) => {
  const W = innerWidth, H = innerHeight;
  const shown = el => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden" || +s.opacity === 0) return false;
    }
    return true;
  };
  const onScreen = r => r.width >= 1 && r.height >= 1 && r.right > 0 && r.left < W
    && r.bottom > 0 && r.top < H;
  const seen = el => {
    const r = el.getBoundingClientRect();
    if (!onScreen(r) || !shown(el)) return false;
    const x = Math.min(Math.max(r.left + r.width / 2, 0), W - 1);
    const y = Math.min(Math.max(r.top + r.height / 2, 0), H - 1);
    const top = document.elementFromPoint(x, y);
    return !!top && (el === top || el.contains(top));
  };
  const centre = el => {
    const r = el.getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2];
  };
  const sidebar = document.querySelector(sidebarSelector);
  const box = sidebar ? sidebar.getBoundingClientRect() : null;
  const links = sidebar ? [...sidebar.querySelectorAll("nav a[href]")] : [];
  const searches = [...document.querySelectorAll(searchSelector)]
    .filter(el => !el.closest("article, .bd-article, dialog:not([open])") && seen(el))
    .filter(el => !el.parentElement.closest(searchSelector));
  return {
    sidebar: !!sidebar,
    box: box ? [box.left, box.top, box.width, box.height].map(Math.round) : null,
    onScreen: !!box && onScreen(box) && shown(sidebar),
    links: links.length,
    seenLinks: links.filter(seen).length,
    toggles: [...document.querySelectorAll(toggleSelector)].filter(seen).map(centre),
    searches: searches.map(el => {
      const r = el.getBoundingClientRect();
      return `${el.tagName.toLowerCase()} at (${Math.round(r.left)}, ${Math.round(r.top)})`;
    }),
    modal: !!document.querySelector("dialog[open]"),
  };
})
"""


class Chromium:
    """Headless Chromium with one page, driven over ``--remote-debugging-pipe``."""

    def __init__(self, profile: str, executable: str | None = None):
        to_chromium, self._to = os.pipe()  # Chromium reads commands on its fd 3
        self._from, from_chromium = os.pipe()  # and writes answers and events on its fd 4

        def fds():  # in the child: the pipe ends on 3 and 4 (through fds >= 10, in case of a clash)
            read = fcntl.fcntl(to_chromium, fcntl.F_DUPFD, 10)
            write = fcntl.fcntl(from_chromium, fcntl.F_DUPFD, 10)
            os.dup2(read, 3)
            os.dup2(write, 4)

        arguments = ("--remote-debugging-pipe", "about:blank")
        self.process = subprocess.Popen(
            command(profile, *arguments, executable=executable, budget=None),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, close_fds=False,
        )  # fmt: skip
        os.close(to_chromium)
        os.close(from_chromium)
        self._buffer, self._id, self._events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = self.session["sessionId"]
        self.send("Page.enable")
        # MathJax is the page's heaviest script and has no part in the navigation (the other
        # checks of browser_check.py look at the math): not loading it saves a second a load.
        self.send("Network.enable")
        self.send("Network.setBlockedURLs", urls=["*/_static/mathjax/*"])

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params):
        """Send one command (to the browser, or to ``session``) and return its result."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def send(self, method: str, **params):
        """Send one command to the page."""
        return self.call(method, session=self.session, **params)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                raise TimeoutError("no answer from Chromium")
            if select.select([self._from], [], [], min(left, 1.0))[0]:
                chunk = os.read(self._from, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed its pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _wait(self, event: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self._events):
            self._events.append(self._read(deadline))

    def open(self, url: str, size: tuple[int, int]):
        """Load ``url`` in a viewport of ``size`` (a phone's, with touch-size rules, if narrow)."""
        width, height = size
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1}
        self.send("Emulation.setDeviceMetricsOverride", mobile=width < 600, **metrics)
        self._events.clear()
        self.send("Page.navigate", url=url)
        # The themes' deferred scripts bind the toggles on DOMContentLoaded; the load event
        # (images, MathJax) is not needed for the navigation.
        self._wait("Page.domContentEventFired")
        time.sleep(0.2)

    def probe(self, panel: tuple[str, str, str]) -> dict:
        _, sidebar, toggle = panel
        expression = f"{PROBE}({json.dumps(sidebar)}, {json.dumps(toggle)}, {json.dumps(SEARCH)})"
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return reply["result"]["value"]

    def click(self, x: float, y: float):
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self, path: Path):
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot")["data"]))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to)
        os.close(self._from)


def opened(state: dict) -> bool:
    return state["onScreen"] and state["seenLinks"] > 0


def closed(state: dict) -> bool:
    return not state["onScreen"] and state["seenLinks"] == 0


def describe(state: dict) -> str:
    return (
        f"sidebar at {state['box']}, {state['seenLinks']} of {state['links']} links seen, "
        f"a modal {'open' if state['modal'] else 'closed'}"
    )


def searches(where: str, state: dict) -> str:
    return f"{where}: {len(state['searches'])} search boxes in view: {', '.join(state['searches'])}"


class Reader:
    """One reader's session on one page: load it, click, wait for what a click changes."""

    def __init__(self, browser: Chromium, page: Path, shots: Path | None):
        self.browser, self.page, self.shots = browser, page, shots
        self.url = page.resolve().as_uri()

    def load(self, size, panel, label: str) -> dict:
        self.browser.open(self.url, size)
        self.shoot(label)
        return self.browser.probe(panel)

    def shoot(self, label: str):
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            self.browser.screenshot(self.shots / f"{self.page.stem}-{label}.png")

    def click(self, x, y, panel, until, label: str, timeout: float = 2.0) -> dict:
        """Click at (x, y), then probe ``panel`` until ``until(state)`` holds (the themes
        animate their sidebars) or ``timeout`` passes; return the last state."""
        self.browser.click(x, y)
        deadline = time.monotonic() + timeout
        while True:
            state = self.browser.probe(panel)
            if until(state) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.shoot(label)
        return state


def check_desktop(reader: Reader, where: str) -> list[str]:
    name = PRIMARY[0]
    state = reader.load(DESKTOP, PRIMARY, "desktop-loaded")
    problems = []
    if len(state["searches"]) > 1:
        problems.append(searches(where, state))
    if not opened(state):
        return [*problems, f"{where}: {name} is not shown ({describe(state)})"]
    if not state["toggles"]:
        return [*problems, f"{where}: no button to hide {name}"]
    for i in range(len(state["toggles"])):
        if i:
            state = reader.load(DESKTOP, PRIMARY, f"desktop-toggle{i}-loaded")
        x, y = state["toggles"][i]
        after = reader.click(x, y, PRIMARY, closed, f"desktop-toggle{i}-clicked")
        if not closed(after):
            at = f"the button at ({x:.0f}, {y:.0f})"
            problems.append(f"{where}: {at} does not hide {name} ({describe(after)})")
            continue
        if not after["toggles"]:
            problems.append(f"{where}: no button left to show {name} again")
            continue
        x, y = after["toggles"][min(i, len(after["toggles"]) - 1)]  # the article widened: it moved
        again = reader.click(x, y, PRIMARY, opened, f"desktop-toggle{i}-clicked-again")
        if not opened(again):
            problems.append(f"{where}: a second click does not show {name} ({describe(again)})")
    return problems


def check_phone(reader: Reader, where: str) -> list[str]:
    problems, as_loaded = [], False  # as_loaded: all opened sidebars closed again
    for panel in (PRIMARY, SECONDARY):
        name, side = panel[0], "primary" if panel is PRIMARY else "secondary"
        if as_loaded:
            state = reader.browser.probe(panel)
        else:
            state = reader.load(PHONE, panel, f"phone-{side}-loaded")
        as_loaded = False
        if panel is PRIMARY and len(state["searches"]) > 1:
            problems.append(searches(where, state))
        if not state["sidebar"]:
            continue  # a page without contents has no secondary sidebar
        if not closed(state):
            problems.append(f"{where}: {name} covers the page on load ({describe(state)})")
            continue
        if not state["toggles"]:
            problems.append(f"{where}: no button opens {name}")
            continue
        for i in range(len(state["toggles"])):
            if i:
                state = reader.load(PHONE, panel, f"phone-{side}{i}-loaded")
            x, y = state["toggles"][i]
            after = reader.click(x, y, panel, opened, f"phone-{side}{i}-clicked")
            if not opened(after):
                at = f"the button at ({x:.0f}, {y:.0f})"
                problems.append(f"{where}: {at} does not open {name} ({describe(after)})")
                continue
            left, _, width, _ = after["box"]
            gaps = [(left, left / 2), (PHONE[0] - left - width, (left + width + PHONE[0]) / 2)]
            gap, beside = max(gaps)
            if gap < 20:
                problems.append(f"{where}: open, {name} leaves no room to click beside it")
                continue
            shut = reader.click(beside, PHONE[1] / 2, panel, closed, f"phone-{side}{i}-closed")
            if not closed(shut):
                problems.append(
                    f"{where}: a click beside {name} does not close it ({describe(shut)})"
                )
                continue
            as_loaded = True
    return problems


def check(page: Path, executable: str | None = None, shots: Path | None = None) -> list[str]:
    """Return the problems with the navigation toggles of ``page``, a built chapter."""
    with tempfile.TemporaryDirectory() as profile:
        browser = Chromium(profile, executable)
        try:
            reader = Reader(browser, page, shots)
            return check_desktop(reader, f"{page.name} at 1280x900") + check_phone(
                reader, f"{page.name} at 390x844"
            )
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="a built chapter: _build/html/book/01_setup.html")
    parser.add_argument("--chromium", default=None, help="the Chromium executable")
    parser.add_argument("--screenshots", type=Path, default=None, help="keep screenshots here")
    args = parser.parse_args()
    start = time.monotonic()
    problems = check(args.page, args.chromium, args.screenshots)
    for problem in problems:
        print(problem)
    print(f"nav check: {len(problems)} problems, {time.monotonic() - start:.1f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
