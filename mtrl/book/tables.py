"""The Reproduce page's generated tables: run times, parameters and commands of every chapter."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "chapter_notebooks",
    "chapter_title",
    "environment_table",
    "glued_text",
    "papermill_commands",
    "parameter_tables",
    "read_notebook",
    "run_time_table",
]


def chapter_notebooks(folder=".") -> list[Path]:
    """Return the chapter notebooks of the book in ``folder``, in order (``NN_name.ipynb``)."""
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def read_notebook(path):
    import nbformat

    return nbformat.read(path, as_version=4)


def glued_text(notebook) -> dict[str, str]:
    """Return the values that ``notebook``'s executed cells glued, as text: name -> value."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get("application/papermill.record/text/plain")
            if name and text is not None:
                values[name] = text.strip("'\"")
    return values


def chapter_title(notebook) -> str:
    """Return the chapter title: the first line of the first Markdown cell of ``notebook``."""
    first = next(c.source for c in notebook.cells if c.cell_type == "markdown")
    return first.splitlines()[0].lstrip("# ").strip()


def run_time_table(folder=".") -> str:
    """Return a Markdown table of each chapter's last execution (papermill's metadata)."""
    rows, total = [], 0.0
    for path in chapter_notebooks(folder):
        notebook = read_notebook(path)
        meta = notebook.metadata.get("papermill", {})
        duration = meta.get("duration")
        total += duration or 0.0
        when = (meta.get("end_time") or "never")[:19].replace("T", " ")
        shown = f"{duration:.1f}" if duration is not None else "not executed"
        rows.append(f"| {path.stem} | {chapter_title(notebook)} | {shown} | {when} UTC |")
    head = "| notebook | chapter | wall time (s) | executed |\n|---|---|---:|---|\n"
    return head + "\n".join(rows) + f"\n| **all chapters** | | **{total:.1f}** | |\n"


_PACKAGES = (
    "torch", "numpy", "pandas", "matplotlib", "seaborn", "jupyter-book", "sphinx",
    "sphinx-book-theme", "pydata-sphinx-theme", "myst-nb", "papermill", "nbval",
)  # fmt: skip


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def environment_table() -> str:
    """Return a Markdown table of the machine and the software this process runs with: CPU,
    cores and torch threads, memory, operating system, Python and the key packages."""
    import os
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import torch

    rows = [
        ("CPU", _cpu_model()),
        ("cores / torch threads", f"{os.cpu_count()} / {torch.get_num_threads()}"),
        ("memory", f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"),
        ("accelerator", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"),
        ("system", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("Python", platform.python_version()),
    ]
    for name in _PACKAGES:
        try:
            rows.append((name, version(name)))
        except PackageNotFoundError:
            rows.append((name, "not installed"))
    body = "\n".join(f"| {k} | {v} |" for k, v in rows)
    return "| | |\n|---|---|\n" + body + "\n"


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
        parts.append(f"**{chapter_title(read_notebook(path))}** (`{path.name}`)\n\n{table}\n")
    return "\n".join(parts)


def papermill_commands(folder=".") -> str:
    """Return the commands that re-run each chapter into ``_build/runs`` (a Markdown code block)."""
    lines = [
        f".venv/bin/papermill book/{path.name} _build/runs/{path.name} --cwd book -k python3"
        for path in chapter_notebooks(folder)
    ]
    return "```bash\n" + "\n".join(lines) + "\n```\n"
