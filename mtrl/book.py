"""Putting numbers into the book's prose: the one place that talks to myst-nb's ``glue``.

Keeping every ``glue`` call behind these two functions keeps the chapters short and makes a
later move to another book engine a local change.
"""

from __future__ import annotations

import numbers

__all__ = [
    "chapter_notebooks",
    "papermill_commands",
    "parameter_tables",
    "publish",
    "publish_figure",
    "publish_parameters",
    "run_time_table",
]


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
    """Glue a matplotlib figure under ``name`` for a ``{glue:figure}`` directive, and close it."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)


def publish_parameters(**parameters) -> None:
    """Glue every parameter as the string ``<name>_txt``, for captions that state parameters."""
    for name, value in parameters.items():
        publish(f"{name}_txt", str(value))


def chapter_notebooks(folder=".") -> list:
    """Return the chapter notebooks of the book in ``folder``, in order (``NN_name.ipynb``)."""
    from pathlib import Path

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
