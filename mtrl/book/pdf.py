"""The book as one PDF, printed page by page by headless Chromium (``make pdf``)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from .chromium import command
from .identity import identity

__all__ = ["print_pdf"]


def print_pdf(html_root="_build/html", out="_build/html/mtrl.pdf", toc="_toc.yml") -> Path:
    """Print every page of the built book with headless Chromium, in the order of ``toc``, and
    join them into one PDF at ``out`` (math rendered by the vendored MathJax, offline)."""
    import yaml
    from pypdf import PdfWriter

    spec = yaml.safe_load(Path(toc).read_text())
    pages = [spec["root"], *(chapter["file"] for chapter in spec.get("chapters", []))]
    out = Path(out)
    writer = PdfWriter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, page in enumerate(pages):
            html = (Path(html_root) / f"{page}.html").resolve()
            pdf = Path(tmp) / f"{i:02d}.pdf"
            arguments = ("--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri())
            subprocess.run(
                command(f"{tmp}/profile", *arguments), check=True, capture_output=True, timeout=300
            )
            writer.append(str(pdf))
        book = identity()
        writer.add_metadata({"/Title": book.title, "/Author": book.authors})
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as f:
            writer.write(f)
    return out
