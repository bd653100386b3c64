"""Every chapter rejects malformed parameters through papermill, fast, naming the parameter,
before anything is written to the result cache."""

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"

# chapter: [(parameters, the name the error must mention), ...]
BAD = {
    "01_setup": [
        ({"d": 0}, "d"),
        ({"r": 500}, "r must be <= d"),
        ({"loss": "squared"}, "loss"),
        ({"tau": -0.1}, "tau"),
        ({"n1": 2.5}, "n1"),
        ({"seeds": 0}, "seeds"),
        ({"kernel_pairs": 0}, "kernel_pairs"),
    ],
    "02_mechanism": [
        ({"m": 0}, "m"),
        ({"T_max": 0}, "T_max"),
        ({"T_points": 1}, "T_points"),
        ({"pairs": 3}, "pairs"),
        ({"identity_tasks": -1}, "identity_tasks"),
    ],
    "03_theorem": [
        ({"d_small": 2}, "r must be <= d_small"),
        ({"loss": "hinge2"}, "loss"),
        ({"seeds": 1}, "seeds"),
        ({"n_max": 0}, "n_max"),
        ({"rounds_max": -2}, "rounds_max"),
        ({"rounds_max": 0}, "rounds_max"),
    ],
    "04_single_task": [
        ({"budget_min": 0}, "budget_min"),
        ({"budget_points": 1}, "budget_points"),
        ({"draws": 1}, "draws"),
        ({"tau": 0.0}, "tau"),
        ({"seed": -1}, "seed"),
        ({"T": 0}, "T must be"),
        ({"budget_max": 2.5}, "budget_max"),
        ({"budget_draws": 0}, "budget_draws"),
        ({"budget_draws": 50}, "budget_draws"),  # fewer samples than the T tasks that share it
        ({"seeds": 1}, "seeds"),
    ],
    "05_downstream": [
        ({"reg": -1.0}, "reg"),
        ({"target": 1.5}, "target"),
        ({"d_min": 2}, "r must be <= d_min"),
        ({"n_test": 0}, "n_test"),
        ({"down_tasks": 0}, "down_tasks"),
        ({"seeds": 1}, "seeds"),
        ({"width_max": 1}, "width_max"),
    ],
    "06_kernel_regime": [
        ({"lam_1d": 0.0}, "lam_1d"),
        ({"tasks_1d": 1}, "tasks_1d"),
        ({"tol": 2.0}, "tol"),
        ({"seeds": 1}, "seeds"),
        ({"width_2d": 0}, "width_2d"),
        ({"bridge_d": 2}, "bridge_d"),
        ({"T_points": 2}, "T_points"),
        ({"task_draws": 1}, "task_draws"),
        ({"grid_points": 9}, "grid_points"),
    ],
    "07_training": [
        ({"steps": 1}, "steps"),
        ({"eta_w": float("nan")}, "eta_w"),
        ({"eta_a": -0.5}, "eta_a"),
        ({"lam": 5000.0}, "eta_w*lam"),
        ({"n1": 0}, "n1"),
        ({"head_steps": 0}, "head_steps"),
        ({"log_every": 0}, "log_every"),
        ({"T_side": 0}, "T must be"),
        ({"d_max": 50}, "d must be <= d_max"),
        ({"n_down": 0}, "n_down"),
        ({"seeds": 1}, "seeds"),
    ],
}
CASES = [(chapter, params, name) for chapter, rows in BAD.items() for params, name in rows]


def _run(case, out_dir, cache, attempts=3):
    """Run papermill on one case in its own process; return the error output of the failing
    cell (``ename``, ``evalue``, execution count) or ``None`` if the chapter ran through.

    A run that fails without any cell's error (papermill or the kernel failed, e.g. at start)
    is retried, and reported with papermill's stderr if it keeps failing, rather than being
    mistaken for a chapter that accepted the input.
    """
    chapter, params, _ = case
    out = out_dir / f"{chapter}-{'-'.join(params)}.ipynb"
    args = [sys.executable, "-m", "papermill", str(BOOK / f"{chapter}.ipynb"), str(out)]
    args += ["--cwd", str(BOOK), "--no-progress-bar"]
    for name, value in params.items():
        args += ["-p", name, str(value)]
    env = {**os.environ, "MTRL_CACHE": str(cache)}
    for _ in range(attempts):
        out.unlink(missing_ok=True)
        run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        if out.exists():
            for cell in nbformat.read(out, 4).cells:
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        return output["ename"], output["evalue"], cell.get("execution_count")
        if run.returncode == 0:
            return None
    raise RuntimeError(f"papermill failed {attempts} times without a cell error:\n{run.stderr}")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Run every case once (two at a time), all with one fresh, initially empty cache."""
    tmp = tmp_path_factory.mktemp("bad-inputs")
    cache = tmp / "cache"
    with ThreadPoolExecutor(2) as pool:
        errors = list(pool.map(lambda c: _run(c, tmp, cache), CASES))
    return dict(zip(map(repr, CASES), errors, strict=True)), cache


def _declared_parameters(chapter):
    """The names that the ``parameters`` cell of ``chapter`` assigns, read from the notebook."""
    (cell,) = [
        c
        for c in nbformat.read(BOOK / f"{chapter}.ipynb", 4).cells
        if "parameters" in c.metadata.get("tags", [])
    ]
    nodes = ast.parse(cell.source).body
    return {n.target.id if isinstance(n, ast.AnnAssign) else n.targets[0].id for n in nodes}


def test_every_chapter_has_cases_and_each_sets_a_parameter_its_chapter_declares():
    """The table against the notebooks, not against its own length: every chapter on disk has
    cases, no case is listed twice, and each sets only names of its chapter's parameters cell,
    so that it tests that chapter's validation of a parameter (papermill only warns about a
    name the notebook does not declare, and the chapter would run with its defaults)."""
    assert set(BAD) == {p.stem for p in BOOK.glob("[0-9][0-9]_*.ipynb")}
    for chapter, rows in BAD.items():
        declared = _declared_parameters(chapter)
        assert rows and len({repr(params) for params, _ in rows}) == len(rows), chapter
        for params, _ in rows:
            assert set(params) <= declared, (chapter, sorted(set(params) - declared))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_chapter_rejects_bad_parameter(case, outcomes):
    errors, _ = outcomes
    error = errors[repr(case)]
    assert error is not None, f"{case[0]} accepted {case[1]}"
    ename, evalue, count = error
    assert ename == "ParameterError", (ename, evalue)
    assert case[2] in evalue, evalue
    # it failed in the validation cell (after the parameters and the injected ones), before
    # any computation
    assert count <= 3, (count, evalue)


def test_nothing_was_written_to_the_cache(outcomes):
    _, cache = outcomes
    assert not cache.exists() or not any(cache.iterdir())
