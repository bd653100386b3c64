"""The manifest of the book's figures and their citations (Reproduce page).

The figures are found in the chapters' MyST (``{glue:figure}`` directives with a ``:name:``),
and their records in the folder that :func:`mtrl.book.export_figure` wrote.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..cache import write_atomically
from .identity import identity
from .tables import chapter_notebooks, chapter_title, glued_text, read_notebook

__all__ = [
    "FIGURES",
    "FIGURE_DIRECTIVE",
    "caption_text",
    "citation_target",
    "figure_citations",
    "first_sentence",
    "write_manifest",
]

FIGURES = "_static/figures"  # where figures are exported, relative to the book folder

# A figure of a chapter: ```{glue:figure} <glue name> / :name: <label> / <caption> ```
# A blank line after the options is optional in MyST, and so it is here: a directive that this
# does not match would have its figure's files deleted as stale by write_manifest.
FIGURE_DIRECTIVE = re.compile(r"```\{glue:figure\} (\S+)\n:name: (\S+)\n\n?(.*?)\n```", re.DOTALL)
_GLUE_TEXT = re.compile(r"\{glue:text\}`([A-Za-z0-9_]+)`")
_ROLE = re.compile(r"\{([a-z:]+)\}`([^`<]*)(?:<[^>]*>)?`")
_LINKS = ("download", "ref", "doc")  # roles that link into the built book: not in plain text


def caption_text(text: str, glued: dict) -> str:
    """Return a figure's caption as plain text: glued values filled in, the book's links
    removed, other MyST roles (equations, citations, figure numbers) shown by their text."""
    text = _GLUE_TEXT.sub(lambda m: glued.get(m.group(1), m.group(0)), text)
    text = _ROLE.sub(lambda m: "" if m.group(1) in _LINKS else m.group(2).strip(), text)
    return " ".join(text.replace("·", " ").split())


def _figures(folder="."):
    """Yield (notebook path, chapter title, glue name, label, caption, glued text) for every
    figure."""
    for path in chapter_notebooks(folder):
        notebook = read_notebook(path)
        glued = glued_text(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                found = FIGURE_DIRECTIVE.findall(cell.source)
                if len(found) != cell.source.count("{glue:figure}"):
                    raise ValueError(f"{path.name}: a {{glue:figure}} directive without a "
                                     ":name: option right after it (and a caption)")  # fmt: skip
                for name, label, caption in found:
                    yield path, chapter_title(notebook), name, label, caption, glued


def first_sentence(text: str) -> str:
    """Return the first sentence of ``text``, white space folded (a caption's title, alt text)."""
    return re.split(r"(?<=[^.]\.)\s", " ".join(text.split()), maxsplit=1)[0]


def _figure_title(caption: str, parameters: dict, glued: dict | None = None) -> str:
    """Return the first sentence of ``caption`` as plain text (:func:`caption_text`), with the
    chapter's parameters and the other values its cells glued filled in."""
    values = {**(glued or {}), **{f"{k}_txt": v for k, v in parameters.items()}}
    return first_sentence(caption_text(caption, values)).rstrip(".:")


def write_manifest(folder=".") -> Path:
    """Write ``FIGURES``/manifest.json in the book ``folder``: every figure's record (see
    :func:`mtrl.book.export_figure`) with its chapter title and caption title, in book order;
    delete the files of figures that no chapter publishes any more."""
    out = Path(folder) / FIGURES
    entries = []
    for path, chapter, name, label, caption, glued in _figures(folder):
        record_path = out / f"{name}.json"
        if not record_path.exists():
            raise FileNotFoundError(
                f"figure {name} of {path.name} was not exported: no {record_path}"
            )
        record = json.loads(record_path.read_text())
        record.update(chapter=path.stem, chapter_title=chapter, label=label,
                      title=_figure_title(caption, record["parameters"], glued))  # fmt: skip
        entries.append(record)
    names = {entry["name"] for entry in entries}
    for stale in out.iterdir():  # files of figures that no chapter publishes any more
        if stale.suffix in (".pdf", ".png", ".svg", ".json") and stale.stem not in names:
            if stale.name != "manifest.json":
                stale.unlink()
    manifest = out / "manifest.json"
    text = json.dumps(entries, indent=1, sort_keys=True) + "\n"
    write_atomically(manifest, lambda tmp: Path(tmp).write_text(text))
    return manifest


def citation_target(label: str) -> str:
    """Return the target of a figure's citation on the Reproduce page (``cite-<label>``)."""
    return f"cite-{label}"


def figure_citations(folder=".") -> str:
    """Return Markdown for the Reproduce page: for every figure a paragraph with its own target
    (:func:`citation_target`, which the figure's caption links to), its files, its citation and
    its BibTeX entry."""
    book = identity()
    where = f", {book.url}" if book.url else ""
    url = f",\n  url    = {{{book.url}}}" if book.url else ""
    parts = []
    for path, chapter, name, label, *_ in _figures(folder):
        files = " · ".join(
            f"{{download}}`{ext.upper()} <{FIGURES}/{name}.{ext}>`" for ext in ("pdf", "png", "svg")
        )
        text = (
            f"{book.authors} (2026), *{book.title}*, version {book.version}, figure `{label}` "
            f"(chapter “{chapter}”){where}"
        )
        bibtex = (
            f"@misc{{mtrl_{name},\n  title  = {{{{{book.title}}}}},\n"
            f"  author = {{{{{book.authors}}}}},\n  year   = {{2026}},\n"
            f"  version = {{{book.version}}},\n  note   = {{Figure {label}, chapter {chapter}}}"
            f"{url}\n}}"
        )
        parts.append(
            f"({citation_target(label)})=\n**{{numref}}`{label}`** ({{doc}}`{path.stem}`): "
            f"{files}\n\n{text}.\n\n```bibtex\n{bibtex}\n```\n"
        )
    return "\n".join(parts)
