"""Putting numbers and figures into the book: the one place that talks to myst-nb's ``glue``.

Keeping every ``glue`` call behind these functions keeps the chapters short and makes a later
move to another book engine a local change. When ``$MTRL_FIGURES`` names a folder (``make
execute`` sets it to ``book/_static/figures``), every published figure is also exported there
as PDF, PNG and SVG with its provenance (version, chapter, parameters) in the files'
metadata, and in a JSON record that also names the git commit; :func:`write_manifest` collects
the records.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import re
import subprocess
import tempfile
from pathlib import Path

from .cache import write_atomically

__all__ = [
    "FIGURES",
    "chapter_notebooks",
    "export_figure",
    "figure_citations",
    "papermill_commands",
    "parameter_tables",
    "print_pdf",
    "publish",
    "publish_figure",
    "publish_parameters",
    "run_time_table",
    "write_manifest",
]

FIGURES = "_static/figures"  # where figures are exported, relative to the book folder
_AUTHORS = "The mtrl authors"
_TITLE = "mtrl: multi-task representation learning with two-layer ReLU networks, a living paper"
_URL = "https://github.com/mtrl-book/mtrl"
_parameters: dict[str, str] = {}  # the chapter's parameters, as published


def publish(name: str, value, digits: int | None = None) -> None:
    """Glue ``value`` under ``name`` for ``{glue:text}`` in the prose, rounded to ``digits``.

    Numpy and torch scalars are converted to plain Python numbers first, so that the stored
    record is a plain literal that the book can format.
    """
    from myst_nb import glue

    if hasattr(value, "item"):
        value = value.item()
    if digits is not None and isinstance(value, numbers.Real):
        value = round(float(value), digits)
    glue(name, value, display=False)


def publish_figure(name: str, fig) -> None:
    """Glue a matplotlib figure under ``name`` for a ``{glue:figure}`` directive, export it
    when ``$MTRL_FIGURES`` is set (see :func:`export_figure`), and close it."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(name, fig, display=False)
    if os.environ.get("MTRL_FIGURES"):
        export_figure(fig, name, os.environ["MTRL_FIGURES"])
    plt.close(fig)


def publish_parameters(**parameters) -> None:
    """Glue every parameter as the string ``<name>_txt``, for captions that state parameters;
    the exported figures of the chapter record them."""
    _parameters.clear()
    for name, value in parameters.items():
        _parameters[name] = str(value)
        publish(f"{name}_txt", str(value))


def _git_commit() -> str:
    """Return the short commit of the repository, ``-dirty`` if ``mtrl/`` has changes."""
    root = Path(__file__).resolve().parent.parent
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


def export_figure(fig, name: str, folder) -> dict:
    """Save ``fig`` as ``name``.pdf, .png (150 dpi) and .svg in ``folder``, and ``name``.json.

    Every file carries its provenance in its metadata: package version, chapter
    (``$MTRL_CHAPTER``), label and the chapter's published parameters (:func:`publish_parameters`
    must have been called). Neither a timestamp nor the git commit, so that a figure that did
    not change keeps its bytes when the book is re-executed at a later commit. The JSON record
    holds the same and the git commit of the execution and the SHA-256 of each file. Returns the
    record.
    """
    import matplotlib

    from . import __version__

    label = name.replace("_", "-")
    if not _parameters:
        raise RuntimeError(
            f"figure {label}: call publish_parameters(...) before the chapter's first figure, "
            "so that the exported files record the parameters they were computed with"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chapter = os.environ.get("MTRL_CHAPTER", "")
    description = (
        f"{_TITLE}, version {__version__}; chapter {chapter}, figure {label}; "
        + ", ".join(f"{k}={v}" for k, v in _parameters.items())
    )
    creator = f"mtrl {__version__}"
    metadata = {
        "pdf": {"Title": label, "Author": _AUTHORS, "Subject": description, "Creator": creator,
                "CreationDate": None, "ModDate": None},
        "png": {"Title": label, "Author": _AUTHORS, "Description": description,
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
        "chapter": chapter,
        "parameters": dict(_parameters),
        "seed": _parameters.get("seed"),
        "version": __version__,
        "commit": _git_commit(),
        "files": files,
    }
    text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    write_atomically(folder / f"{name}.json", lambda tmp: Path(tmp).write_text(text))
    return record


def chapter_notebooks(folder=".") -> list:
    """Return the chapter notebooks of the book in ``folder``, in order (``NN_name.ipynb``)."""
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def _read(path):
    import nbformat

    return nbformat.read(path, as_version=4)


def _title(notebook) -> str:
    """Return the chapter title: the first line of the first Markdown cell of ``notebook``."""
    first = next(c.source for c in notebook.cells if c.cell_type == "markdown")
    return first.splitlines()[0].lstrip("# ").strip()


def run_time_table(folder=".") -> str:
    """Return a Markdown table of each chapter's last execution (papermill's metadata)."""
    rows, total = [], 0.0
    for path in chapter_notebooks(folder):
        notebook = _read(path)
        meta = notebook.metadata.get("papermill", {})
        duration = meta.get("duration")
        total += duration or 0.0
        when = (meta.get("end_time") or "never")[:19].replace("T", " ")
        shown = f"{duration:.1f}" if duration is not None else "not executed"
        rows.append(f"| {path.stem} | {_title(notebook)} | {shown} | {when} UTC |")
    head = "| notebook | chapter | wall time (s) | executed |\n|---|---|---:|---|\n"
    return head + "\n".join(rows) + f"\n| **all chapters** | | **{total:.1f}** | |\n"


def parameter_tables(folder=".") -> str:
    """Return Markdown tables of every chapter's parameters (read by papermill's inspector)."""
    import papermill

    parts = []
    for path in chapter_notebooks(folder):
        parameters = papermill.inspect_notebook(str(path))
        rows = [
            f"| `{name}` | {p['inferred_type_name']} | `{p['default']}` | {p['help']} |"
            for name, p in parameters.items()
        ]
        table = "| parameter | type | default | meaning |\n|---|---|---|---|\n" + "\n".join(rows)
        parts.append(f"**{_title(_read(path))}** (`{path.name}`)\n\n{table}\n")
    return "\n".join(parts)


def papermill_commands(folder=".") -> str:
    """Return the commands that re-run each chapter into ``_build/runs`` (a Markdown code block)."""
    lines = [
        f".venv/bin/papermill book/{path.name} _build/runs/{path.name} --cwd book -k python3"
        for path in chapter_notebooks(folder)
    ]
    return "```bash\n" + "\n".join(lines) + "\n```\n"


_FIGURE = re.compile(r"```\{glue:figure\} (\S+)\n:name: (\S+)\n\n(.*?)\n```", re.DOTALL)
_ROLE = re.compile(r"\{glue:text\}`([A-Za-z0-9_]+?)_txt`")


def _figures(folder="."):
    """Yield (notebook path, chapter title, glue name, label, caption) for every figure."""
    for path in chapter_notebooks(folder):
        notebook = _read(path)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                for name, label, caption in _FIGURE.findall(cell.source):
                    yield path, _title(notebook), name, label, caption


def _figure_title(caption: str, parameters: dict) -> str:
    """Return the first sentence of ``caption``, with glued parameters filled in."""
    text = _ROLE.sub(lambda m: parameters.get(m.group(1), m.group(0)), " ".join(caption.split()))
    return re.split(r"(?<=[^.]\.)\s", text, maxsplit=1)[0].rstrip(".:")


def write_manifest(folder=".") -> Path:
    """Write ``FIGURES``/manifest.json in the book ``folder``: every figure's record (see
    :func:`export_figure`) with its chapter title and caption title, in book order; delete the
    files of figures that no chapter publishes any more."""
    out = Path(folder) / FIGURES
    entries = []
    for path, chapter, name, label, caption in _figures(folder):
        record_path = out / f"{name}.json"
        if not record_path.exists():
            raise FileNotFoundError(
                f"figure {name} of {path.name} was not exported: no {record_path}"
            )
        record = json.loads(record_path.read_text())
        record.update(chapter=path.stem, chapter_title=chapter, label=label,
                      title=_figure_title(caption, record["parameters"]))  # fmt: skip
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


def figure_citations(folder=".") -> str:
    """Return Markdown for the Reproduce page: every figure with its files and a citation, then
    the BibTeX entries."""
    from . import __version__

    rows, bibtex = [], []
    for path, chapter, name, label, _ in _figures(folder):
        files = " · ".join(
            f"{{download}}`{ext.upper()} <{FIGURES}/{name}.{ext}>`" for ext in ("pdf", "png", "svg")
        )
        text = (
            f"{_AUTHORS} (2026), *{_TITLE}*, version {__version__}, figure `{label}` "
            f"(chapter “{chapter}”), {_URL}"
        )
        rows.append(f"| {{numref}}`{label}` | {{doc}}`{path.stem}` | {files} | {text} |")
        bibtex.append(
            f"@misc{{mtrl_{name},\n  title  = {{{{{_TITLE}}}}},\n  author = {{{{{_AUTHORS}}}}},\n"
            f"  year   = {{2026}},\n  version = {{{__version__}}},\n"
            f"  note   = {{Figure {label}, chapter {chapter}}},\n  url    = {{{_URL}}}\n}}"
        )
    head = "| figure | chapter | files | citation |\n|---|---|---|---|\n"
    return head + "\n".join(rows) + "\n\n```bibtex\n" + "\n\n".join(bibtex) + "\n```\n"


def print_pdf(html_root="_build/html", out="_build/mtrl.pdf", toc="_toc.yml") -> Path:
    """Print every page of the built book with headless Chromium, in the order of ``toc``, and
    join them into one PDF at ``out`` (math rendered by the vendored MathJax, offline)."""
    import shutil

    import yaml
    from pypdf import PdfWriter

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise FileNotFoundError("print_pdf needs Chromium (Debian: apt-get install chromium)")
    spec = yaml.safe_load(Path(toc).read_text())
    pages = [spec["root"], *(chapter["file"] for chapter in spec.get("chapters", []))]
    out = Path(out)
    writer = PdfWriter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, page in enumerate(pages):
            html = (Path(html_root) / f"{page}.html").resolve()
            pdf = Path(tmp) / f"{i:02d}.pdf"
            subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", f"--user-data-dir={tmp}/profile",
                 "--virtual-time-budget=15000", "--no-pdf-header-footer",
                 f"--print-to-pdf={pdf}", html.as_uri()],
                check=True, capture_output=True, timeout=300,
            )  # fmt: skip
            writer.append(str(pdf))
        writer.add_metadata({"/Title": _TITLE, "/Author": _AUTHORS})
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as f:
            writer.write(f)
    return out
