"""Exporting a figure with its provenance: PDF, PNG and SVG files and a JSON record.

Every file carries its provenance in its metadata (book version, chapter, label, the chapter's
parameters and the figure's seeds), but neither a timestamp nor the git commit, so that a figure
that did not change keeps its bytes when the book is re-executed at a later commit. The JSON
record holds the same, the git commit of the execution (``make execute`` refuses to run with
uncommitted changes in ``mtrl/``, so that the commit has the code), the content hash of the code
that computed the results (:func:`mtrl.cache.code_version`) and the SHA-256 of each file.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import code_version, write_atomically
from .identity import identity

__all__ = ["Provenance", "export_figure", "git_commit"]


@dataclass(frozen=True)
class Provenance:
    """Where a figure comes from: its ``chapter`` (notebook stem), the chapter's ``parameters``
    (name -> value as text) and the ``seeds`` it used (empty when it used none)."""

    chapter: str
    parameters: dict[str, str]
    seeds: Sequence[int] = field(default_factory=tuple)

    def describe(self, label: str) -> str:
        book = identity()
        text = f"{book.title}, version {book.version}; chapter {self.chapter}, figure {label}; "
        text += ", ".join(f"{k}={v}" for k, v in self.parameters.items())
        return text + (f"; seeds {', '.join(map(str, self.seeds))}" if self.seeds else "")


def git_commit() -> str:
    """Return the short commit of the repository, ``-dirty`` if ``mtrl/`` has changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "mtrl"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def export_figure(fig, name: str, folder, provenance: Provenance) -> dict:
    """Save ``fig`` as ``name``.pdf, .png (150 dpi) and .svg in ``folder``, and ``name``.json
    (see the module docstring). Returns the record."""
    import matplotlib

    book, label = identity(), name.replace("_", "-")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    description, creator = provenance.describe(label), f"mtrl {book.version}"
    metadata = {
        "pdf": {"Title": label, "Author": book.authors, "Subject": description,
                "Creator": creator, "CreationDate": None, "ModDate": None},
        "png": {"Title": label, "Author": book.authors, "Description": description,
                "Software": creator},
        "svg": {"Title": label, "Creator": creator, "Description": description, "Date": None},
    }  # fmt: skip
    files = {}
    for ext, meta in metadata.items():
        path = folder / f"{name}.{ext}"
        with matplotlib.rc_context({"svg.hashsalt": name}):
            write_atomically(
                path, lambda tmp, e=ext, m=meta: fig.savefig(tmp, format=e, metadata=m, dpi=150)
            )
        files[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    record = {
        "label": label,
        "name": name,
        "chapter": provenance.chapter,
        "parameters": dict(provenance.parameters),
        "seeds": list(provenance.seeds),
        "seed": provenance.parameters.get("seed"),
        "version": book.version,
        "commit": git_commit(),
        "code": code_version(),
        "files": files,
    }
    text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    write_atomically(folder / f"{name}.json", lambda tmp: Path(tmp).write_text(text))
    return record
