"""The ``mtrl`` command: bad input refused before anything runs or is written, a failed run
reported in one line with its log kept, a run rendered to HTML in a directory of its own."""

import re
from pathlib import Path

import pytest

from mtrl.book.cli import main

ROOT = Path(__file__).resolve().parent.parent
BOOK = str(ROOT / "book")
SMALL = ["-p", "d", "10", "-p", "m", "20", "-p", "T", "4", "-p", "n1", "20", "-p", "n2", "20",
         "-p", "kernel_tasks", "200", "-p", "kernel_pairs", "20", "-p", "seeds", "2"]  # fmt: skip


def _mtrl(*args, runs):
    return main(
        ["--book", BOOK, *args[:1], *args[1:], *(["--runs", str(runs)] if args[0] == "run" else [])]
    )


def test_chapters_and_parameters_are_listed(capsys, tmp_path):
    assert _mtrl("chapters", runs=tmp_path) == 0
    assert "01_setup" in capsys.readouterr().out.split()
    assert _mtrl("params", "01_setup", runs=tmp_path) == 0
    assert "kernel_pairs" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "01_setupp"], "unknown chapter '01_setupp'; the chapters are: 01_setup, "),
        (["run", "01_setup", "-p", "dd", "50"], "01_setup has no parameter 'dd'; its parameters"),
        (["run", "01_setup", "-p", "d", "fifty"], "d must be of type int, got d='fifty'"),
        (["params", "99_none"], "unknown chapter '99_none'"),
    ],
)
def test_bad_input_is_refused_in_one_line_before_anything_runs(args, message, capsys, tmp_path):
    runs = tmp_path / "runs"
    assert _mtrl(*args, runs=runs) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not runs.exists()  # nothing written


def test_a_failed_run_says_why_in_one_line_and_keeps_only_its_log(capsys, tmp_path):
    runs = tmp_path / "runs"
    assert _mtrl("run", "01_setup", "-p", "r", "500", runs=runs) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("mtrl: ParameterError: r must be <= d, got r=500, d=100 (full log: ")
    (log,) = (runs / "01_setup").iterdir()
    assert log.name.endswith("-failed.log") and "ParameterError" in log.read_text()


def test_runs_are_rendered_to_html_each_in_a_directory_of_its_own(capsys, tmp_path):
    runs = tmp_path / "runs"
    assert _mtrl("run", "01_setup", *SMALL, runs=runs) == 0
    assert _mtrl("run", "01_setup", *SMALL, "-p", "seed", "1", runs=runs) == 0
    first, second = sorted((runs / "01_setup").iterdir())
    assert first != second
    for run in (first, second):
        assert {p.name for p in run.iterdir()} == {
            "01_setup.ipynb",
            "figures",
            "index.html",
            "run.log",
        }
    page = (second / "index.html").read_text()
    assert '<tr class="changed"><td><code>d</code></td><td><code>10 (default 100)</code>' in page
    assert '<img src="figures/fig_setup_kernel.png"' in page and "seed=1" in page
    assert "{glue:text}" not in page and "{download}" not in page


def test_every_parameter_of_every_chapter_is_visible_to_papermill():
    """A parameter line papermill cannot parse (e.g. an ``=`` in its comment) would be missing
    from ``mtrl params``, the Reproduce page and ``-p``."""
    import nbformat

    from mtrl.book.rerun import chapter_parameters, chapters

    for name, path in chapters(BOOK).items():
        cell = next(
            c for c in nbformat.read(path, 4).cells if "parameters" in c.metadata.get("tags", [])
        )
        declared = re.findall(r"^([A-Za-z_]\w*)\s*:\s*\w+\s*=", cell.source, re.MULTILINE)
        assert declared and list(chapter_parameters(name, BOOK)) == declared, name
