"""Re-running a chapter with other parameters: checked first, run apart, rendered to HTML.

:func:`run_chapter` refuses an unknown chapter, an unknown parameter or a value of the wrong
type before anything runs or is written; it executes the chapter with papermill in a temporary
directory and only then moves it into a directory of its own,
``_build/runs/<chapter>/<UTC time>/``, never overwriting another run. A run that fails leaves
only its log, ``_build/runs/<chapter>/<UTC time>-failed.log``, and raises :class:`RunError`
with the one line that says why (e.g. ``ParameterError: r must be <= d, got r=500, d=100``).
Each run holds the executed notebook, its figures and ``index.html`` (:mod:`.report`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from .report import write_report
from .tables import chapter_notebooks

__all__ = [
    "RunError",
    "RunFailed",
    "chapter_parameters",
    "chapters",
    "parse_overrides",
    "run_chapter",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes in the kernel's tracebacks
_TYPES = {"int": int, "float": float}  # other types stay text; bool is parsed apart


class RunError(RuntimeError):
    """A re-run was refused before it started; the message says why in one line."""


class RunFailed(RunError):
    """A re-run started and failed; the message says why in one line and names the log."""


def chapters(book="book") -> dict[str, Path]:
    """Return the chapters of the book in ``book``: notebook stem -> path, in order."""
    return {path.stem: path for path in chapter_notebooks(book)}


def _chapter(name: str, book) -> Path:
    known = chapters(book)
    if name not in known:
        raise RunError(f"unknown chapter {name!r}; the chapters are: {', '.join(known)}")
    return known[name]


def chapter_parameters(name: str, book="book") -> dict[str, dict]:
    """Return the parameters of chapter ``name`` as papermill reads them: name -> ``{default,
    inferred_type_name, help}``."""
    import papermill

    return papermill.inspect_notebook(str(_chapter(name, book)))


def _convert(name: str, text: str, kind: str):
    if kind == "bool":
        if text not in ("True", "False"):
            raise RunError(f"{name} must be True or False, got {name}={text!r}")
        return text == "True"
    try:
        return _TYPES.get(kind, str)(text)
    except ValueError:
        raise RunError(f"{name} must be of type {kind}, got {name}={text!r}") from None


def parse_overrides(name: str, pairs, book="book") -> dict:
    """Return ``pairs`` (parameter name, value as text) as typed parameters of chapter ``name``,
    or raise :class:`RunError` naming an unknown parameter and listing the chapter's."""
    return _typed(name, pairs, chapter_parameters(name, book))


def _typed(name: str, pairs, known: dict) -> dict:
    out = {}
    for key, text in pairs:
        if key not in known:
            raise RunError(
                f"{name} has no parameter {key!r}; its parameters are: {', '.join(known)}"
            )
        out[key] = _convert(key, text, known[key]["inferred_type_name"])
    return out


def _new_directory(parent: Path, stem: str) -> Path:
    """Create and return ``parent/stem``, or ``stem-2``, ``stem-3``... if it exists."""
    parent.mkdir(parents=True, exist_ok=True)
    for k in range(1, 1000):
        path = parent / (stem if k == 1 else f"{stem}-{k}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RunError(f"too many runs named {stem} in {parent}")


def _free_name(parent: Path, stem: str, suffix: str) -> Path:
    """Return ``parent/stem+suffix``, or ``stem-2+suffix``... if it exists (never overwrite)."""
    k, path = 1, parent / f"{stem}{suffix}"
    while path.exists():
        k += 1
        path = parent / f"{stem}-{k}{suffix}"
    return path


def run_chapter(name: str, pairs=(), *, book="book", runs="_build/runs") -> Path:
    """Run chapter ``name`` with the overrides ``pairs`` (see the module docstring) and return
    the directory of the run."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = _chapter(name, book)
    known = papermill.inspect_notebook(str(notebook))
    overrides = _typed(name, pairs, known)
    defaults = {k: v["default"] for k, v in known.items()}
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    parent = Path(runs) / name
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=parent))
    log = work / "run.log"
    env = {"MTRL_FIGURES": str((work / "figures").resolve()), "MTRL_CHAPTER": name}
    saved = {k: os.environ.get(k) for k in env}
    try:
        os.environ.update(env)
        with open(log, "w") as out:
            papermill.execute_notebook(
                str(notebook), str(work / f"{name}.ipynb"), parameters=overrides,
                cwd=str(Path(book)), kernel_name="python3", progress_bar=False,
                stdout_file=out, stderr_file=out,
            )  # fmt: skip
        write_report(work / f"{name}.ipynb", work / "index.html", defaults, overrides, book)
    except BaseException as error:
        failed = _free_name(parent, f"{stamp}-failed", ".log")
        with open(log, "a") as out:  # the cells' output is there already; add why it stopped
            lines = getattr(error, "traceback", None) or traceback.format_exception(error)
            out.write(_ANSI.sub("", "\n".join(line.rstrip("\n") for line in lines)) + "\n")
        shutil.move(log, failed)
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(error, PapermillExecutionError):
            raise RunFailed(f"{error.ename}: {error.evalue} (full log: {failed})") from None
        raise
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    final = _new_directory(parent, stamp)  # reserved empty; the rename replaces it at once
    work.rename(final)
    return final
