"""Headless Chromium as the book uses it: offline, from disk, with a throw-away profile."""

from __future__ import annotations

import shutil

__all__ = ["chromium", "command"]

# Without the background-networking flags Chromium keeps trying to reach Google's hosts, which
# this project's machines cannot reach.
_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def chromium() -> str:
    """Return the Chromium executable, or raise if there is none."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise FileNotFoundError("headless Chromium is needed (Debian: apt-get install chromium)")
    return found


def command(
    profile: str, *arguments: str, executable: str | None = None, budget: int | None = 15000
) -> list[str]:
    """Return the command line that runs Chromium headless with ``arguments`` and the
    profile directory ``profile``.

    ``budget`` is the virtual time (ms) given to a page loaded from the command line before it
    is dumped or printed, so that MathJax has run. ``None`` leaves it out, as a browser driven
    through the DevTools protocol needs: under a virtual-time budget a page opened with
    ``Page.navigate`` never fires its load events."""
    timing = () if budget is None else (f"--virtual-time-budget={budget}",)
    return [executable or chromium(), *_FLAGS, *timing, f"--user-data-dir={profile}", *arguments]
