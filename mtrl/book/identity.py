"""What the book is, read from the one place that says it: ``CITATION.cff``.

Title, authors and version of every citation, figure record and PDF come from here; the
version must equal ``mtrl.__version__`` (a test checks it). The citation names no repository
URL until the project has a public one, so none is invented here either.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CITATION", "Identity", "identity"]

CITATION = Path(__file__).resolve().parents[2] / "CITATION.cff"


@dataclass(frozen=True)
class Identity:
    """The book's ``title``, ``authors`` (one string), ``version`` and ``url`` (None if none)."""

    title: str
    authors: str
    version: str
    url: str | None


@functools.cache
def identity() -> Identity:
    """Return the book's identity as ``CITATION.cff`` states it."""
    import yaml

    data = yaml.safe_load(CITATION.read_text())
    names = [a.get("name") or f"{a['given-names']} {a['family-names']}" for a in data["authors"]]
    return Identity(
        title=data["title"],
        authors=", ".join(names),
        version=str(data["version"]),
        url=data.get("repository-code") or data.get("url"),
    )
