"""Headless Chromium as the book uses it: offline, from disk, with a throw-away profile."""

from __future__ import annotations

import shutil

__all__ = ["chromium", "command"]

# Without the background-networking flags Chromium keeps trying to reach Google's hosts, which
# this project's machines cannot reach.
_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=15000",
)  # fmt: skip


def chromium() -> str:
    """Return the Chromium executable, or raise if there is none."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise FileNotFoundError("headless Chromium is needed (Debian: apt-get install chromium)")
    return found


def command(profile: str, *arguments: str, executable: str | None = None) -> list[str]:
    """Return the command line that runs Chromium headless with ``arguments`` and the
    profile directory ``profile``."""
    return [executable or chromium(), *_FLAGS, f"--user-data-dir={profile}", *arguments]
