"""A re-run chapter as one readable HTML page: its parameters, figures and numbers.

The page shows the parameters the run used (those that differ from the chapter's defaults
marked), every figure with its caption (glued numbers filled in), the printed output of every
cell and the table of glued numbers. It needs no Jupyter tool to open: figures are the PNG files
that the run exported, beside the page; math is typeset by the book's vendored MathJax when the
page is opened from inside the repository.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from .manifest import FIGURE_DIRECTIVE, caption_text
from .tables import chapter_title, glued_text, read_notebook

__all__ = ["write_report"]

_MATHJAX_CONFIG = "window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']]}};"
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { border: 1px solid #ccc;
       padding: 0.2rem 0.6rem; text-align: left; } tr.changed { background: #fff3c4; }
figure { margin: 2rem 0; } img { max-width: 100%; height: auto; }
figcaption { font-size: 0.95rem; color: #333; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }
"""


def _printed(notebook) -> list[str]:
    """Return the text that the code cells printed, one string per cell that printed."""
    texts = []
    for cell in notebook.cells:
        text = "".join(
            o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
        )
        if text.strip():
            texts.append(text)
    return texts


def _changed(defaults: dict, overrides: dict) -> list[str]:
    """Return the parameters whose value in ``overrides`` differs from its default."""
    return [k for k, v in overrides.items() if repr(v) != defaults.get(k)]


def _parameter_rows(defaults: dict, overrides: dict) -> str:
    rows, differ = [], _changed(defaults, overrides)
    for name, default in defaults.items():
        changed = name in differ
        value = repr(overrides[name]) if name in overrides else default
        shown = f"{value} (default {default})" if changed else value
        css = ' class="changed"' if changed else ""
        rows.append(f"<tr{css}><td><code>{name}</code></td><td><code>{html.escape(shown)}</code>")
    return "\n".join(rows)


def write_report(notebook_path, out, defaults: dict, overrides: dict, book="book") -> Path:
    """Write the HTML page of the executed notebook at ``notebook_path`` to ``out``; its
    figures are read from ``figures/`` beside ``out``. ``defaults`` are the chapter's
    parameters (name -> default as text), ``overrides`` those the run set."""
    notebook, out = read_notebook(notebook_path), Path(out)
    glued = glued_text(notebook)
    changed = _changed(defaults, overrides)
    parts = [f"<h1>{html.escape(chapter_title(notebook))}</h1>"]
    parts.append(
        f"<p>A re-run of <code>{Path(notebook_path).stem}</code> with "
        + (", ".join(f"<code>{k}={overrides[k]!r}</code>" for k in changed) or "the defaults")
        + ". The published chapter, with its text, is in the book.</p>"
    )
    parts.append(f"<h2>Parameters</h2><table>{_parameter_rows(defaults, overrides)}</table>")
    parts.append("<h2>Figures</h2>")
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for name, label, caption in FIGURE_DIRECTIVE.findall(cell.source):
            caption = caption_text(caption, glued)
            image = out.parent / "figures" / f"{name}.png"
            img = (
                f'<img src="figures/{name}.png" alt="{html.escape(label)}">'
                if image.exists()
                else "<p>(figure not exported)</p>"
            )
            parts.append(
                f'<figure id="{label}">{img}<figcaption><b>{label}.</b> '
                f"{html.escape(caption)}</figcaption></figure>"
            )
    parts.append("<h2>Printed output</h2>")
    parts += [f"<pre>{html.escape(text)}</pre>" for text in _printed(notebook)]
    rows = "\n".join(
        f"<tr><td><code>{k}</code></td><td>{html.escape(v)}</td>" for k, v in glued.items()
    )
    parts.append(f"<h2>Glued numbers</h2><table>{rows}</table>")
    mathjax = Path(book).resolve() / "_static" / "mathjax" / "tex-chtml.js"
    script = ""
    if mathjax.exists():
        src = os.path.relpath(mathjax, out.parent.resolve())
        script = f'<script>{_MATHJAX_CONFIG}</script><script src="{src}" async></script>'
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(chapter_title(notebook))} (re-run)</title>"
        f"<style>{_STYLE}</style>{script}</head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )
    out.write_text(page)
    return out
