"""The layers of mtrl point one way, and the result cache's code hash covers exactly the code
that can change a result."""

import ast
from pathlib import Path

import pytest

import mtrl
import mtrl.cache

PACKAGE = Path(mtrl.__file__).parent
CORE = {
    "tasks", "network", "losses", "batches", "pretrain", "contrastive", "metrics", "population",
    "downstream", "interpolation", "kernel_regime", "errors", "numerics", "seeds", "training_log",
}  # fmt: skip
EXPERIMENT = {"experiments", "resources", "fits", "transfer", "cache"}
BOOK = {"plotting", "book"}
ALLOWED = {  # layer -> the layers that its modules may import from
    "core": {"core"},
    "experiment": {"core", "experiment"},
    "studies": {"core", "experiment", "studies"},
    "plotting": {"core", "experiment", "plotting"},
    "book": {"core", "experiment", "book"},
}


def _layer(top: str) -> str:
    if top in CORE:
        return "core"
    if top in EXPERIMENT:
        return "experiment"
    if top in BOOK or top == "studies":
        return top
    raise AssertionError(f"mtrl.{top} belongs to no layer: add it to tests/test_layers.py")


def _mtrl_imports(source: str, package: tuple[str, ...] = ()) -> set[str]:
    """Return the first-level mtrl modules that ``source`` imports, at any depth; ``package`` is
    the subpackage path of the module (``()`` for a top-level module of mtrl)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            target = [*package[: len(package) - node.level + 1], *(node.module or "").split(".")]
            target = [part for part in target if part]
            found.update([target[0]] if target else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mtrl."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("mtrl."))
    return found


def _imports_of(path: Path) -> set[str]:
    return _mtrl_imports(path.read_text(), path.relative_to(PACKAGE).parts[:-1])


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.stem != "__init__")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_from_its_own_layer_and_those_below(path):
    own = _layer(path.relative_to(PACKAGE).parts[0].removesuffix(".py"))
    for top in _imports_of(path):
        assert _layer(top) in ALLOWED[own], f"{path.name} ({own}) imports mtrl.{top}"


def test_the_import_check_sees_imports_at_any_depth_and_level():
    source = "from .cache import x\ndef f():\n    from ..book import y\n    import mtrl.plotting\n"
    assert _mtrl_imports(source, ("kernel_regime",)) == {"kernel_regime", "book", "plotting"}
    assert _mtrl_imports("from . import metrics\n") == {"metrics"}
    assert _mtrl_imports("from .model import z\n", ("kernel_regime",)) == {"kernel_regime"}


def test_every_subpackage_module_is_in_a_layer():
    for path in _modules():
        _layer(path.relative_to(PACKAGE).parts[0].removesuffix(".py"))


def test_the_code_hash_covers_results_code_only(tmp_path, monkeypatch):
    """Editing a plotting, book or studies file keeps the cache; editing pretrain invalidates
    it."""
    sources = {p.relative_to(PACKAGE).as_posix() for p in mtrl.cache.hashed_sources()}
    assert "pretrain.py" in sources and "kernel_regime/solver.py" in sources
    assert not any(s.startswith(("plotting/", "book/", "studies/")) for s in sources)

    copy = tmp_path / "mtrl"
    for path in PACKAGE.rglob("*.py"):
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    monkeypatch.setattr(mtrl.cache, "_PACKAGE", copy)

    def version():
        mtrl.cache.code_version.cache_clear()
        return mtrl.cache.code_version()

    before = version()
    for edited in ("plotting/__init__.py", "book/chapter.py", "studies/training.py"):
        (copy / edited).write_text((copy / edited).read_text() + "\n# a colour changed\n")
        assert version() == before, edited
    (copy / "pretrain.py").write_text((copy / "pretrain.py").read_text() + "\n# a change\n")
    assert version() != before
    mtrl.cache.code_version.cache_clear()


def test_modules_and_chapters_stay_small():
    """Every file of mtrl has at most about 300 lines, and the chapters hold fewer than 600
    non-blank code lines between them (parameters, calls, plots and checks; #15)."""
    import nbformat

    long = {p.name: n for p in _modules() if (n := len(p.read_text().splitlines())) > 310}
    assert not long, long
    chapters = sorted((PACKAGE.parent / "book").glob("0*.ipynb"))
    cells = [c for p in chapters for c in nbformat.read(p, 4).cells if c.cell_type == "code"]
    lines = sum(1 for c in cells for line in c.source.splitlines() if line.strip())
    assert len(chapters) >= 7 and lines < 600, lines
