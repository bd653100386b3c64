"""The book helpers: figure export with provenance, the manifest, the citation table."""

import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest
import torch
from PIL import Image
from pypdf import PdfReader

import mtrl
import mtrl.book
import mtrl.book.figures
import mtrl.cache


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [1, 0, 2], label="a line")
    ax.legend()
    return fig


def test_export_writes_three_formats_with_provenance_and_is_deterministic(tmp_path, monkeypatch):
    provenance = mtrl.book.Provenance("09_example", {"seed": "7", "d": "100"}, (7, 8))
    fig = _figure()
    first = mtrl.book.export_figure(fig, "fig_example", tmp_path / "a", provenance)
    second = mtrl.book.export_figure(fig, "fig_example", tmp_path / "b", provenance)
    plt.close(fig)
    assert first["files"] == second["files"]  # same figure, same bytes: no timestamps
    assert sorted(first["files"]) == ["fig_example.pdf", "fig_example.png", "fig_example.svg"]
    record = json.loads((tmp_path / "a/fig_example.json").read_text())
    assert record["label"] == "fig-example" and record["chapter"] == "09_example"
    assert record["seed"] == "7" and record["version"] == mtrl.__version__
    assert record["seeds"] == [7, 8]
    assert record["parameters"] == {"seed": "7", "d": "100"} and record["commit"]
    # A later commit with the same figure rewrites only the record, not the files.
    monkeypatch.setattr(mtrl.book.figures, "git_commit", lambda: "0123456789ab")
    fig = _figure()
    later = mtrl.book.export_figure(fig, "fig_example", tmp_path / "c", provenance)
    plt.close(fig)
    assert later["files"] == first["files"] and later["commit"] == "0123456789ab" != first["commit"]
    stamp = f"version {mtrl.__version__}"
    assert stamp in PdfReader(tmp_path / "a/fig_example.pdf").metadata["/Subject"]
    with Image.open(tmp_path / "a/fig_example.png") as png:
        assert stamp in png.info["Description"] and "seeds 7, 8" in png.info["Description"]
    svg = (tmp_path / "a/fig_example.svg").read_text()
    assert stamp in svg and "<dc:date>" not in svg


def test_a_chapter_exports_its_figures_with_its_parameters_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("MTRL_CHAPTER", "09_example")
    monkeypatch.delenv("MTRL_FIGURES", raising=False)
    fig = _figure()
    mtrl.book.Chapter(d=100).figure("fig_example", fig)  # glued, not exported
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv("MTRL_FIGURES", str(tmp_path))
    chapter = mtrl.book.Chapter(d=100, seed=3)
    assert chapter.figure("fig_example", _figure(), seeds=range(3)) is None  # no cell output
    record = json.loads((tmp_path / "fig_example.json").read_text())
    assert record["chapter"] == "09_example" and record["parameters"] == {"d": "100", "seed": "3"}
    assert record["seeds"] == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "fig_example.json", "fig_example.pdf", "fig_example.png", "fig_example.svg",
    ]  # fmt: skip
    for path in tmp_path.iterdir():  # readable by everyone, as files that open() creates
        assert path.stat().st_mode & 0o777 == 0o666 & ~_umask(), path.name


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _book(tmp_path, caption, options=":name: fig-example\n\n"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A chapter\n\nText."),
        nbformat.v4.new_markdown_cell(f"```{{glue:figure}} fig_example\n{options}{caption}\n```"),
    ]
    nbformat.write(nb, tmp_path / "09_example.ipynb")


def test_manifest_collects_records_titles_and_removes_stale_files(tmp_path):
    _book(tmp_path, "Loss against $T$ = {glue:text}`T_txt` tasks. More text here.")
    folder = tmp_path / mtrl.book.FIGURES
    provenance = mtrl.book.Provenance("09_example", {"T": "10"})
    fig = _figure()
    mtrl.book.export_figure(fig, "fig_example", folder, provenance)
    mtrl.book.export_figure(fig, "fig_gone", folder, provenance)  # no chapter publishes it now
    plt.close(fig)
    manifest = json.loads(mtrl.book.write_manifest(tmp_path).read_text())
    assert [e["label"] for e in manifest] == ["fig-example"]
    assert manifest[0]["title"] == "Loss against $T$ = 10 tasks"
    assert manifest[0]["chapter_title"] == "A chapter"
    assert not list(folder.glob("fig_gone.*"))
    table = mtrl.book.figure_citations(tmp_path)
    assert table.startswith("(cite-fig-example)=\n**{numref}`fig-example`**")  # caption links here
    assert f"version = {{{mtrl.__version__}}}" in table
    assert "{download}`PDF <_static/figures/fig_example.pdf>`" in table


def test_manifest_titles_fill_in_what_the_chapter_glued_and_reduce_references(tmp_path):
    caption = "At n = {glue:text}`n_grid_txt`, d = {glue:text}`d_txt`, as in {numref}`fig-b`."
    _book(tmp_path, caption)
    path = tmp_path / "09_example.ipynb"
    nb = nbformat.read(path, 4)
    record = {"output_type": "display_data", "metadata": {"scrapbook": {"name": "n_grid_txt"}},
              "data": {"application/papermill.record/text/plain": "'25, 75'"}}  # fmt: skip
    nb.cells.append(nbformat.v4.new_code_cell("glue", outputs=[nbformat.from_dict(record)]))
    nbformat.write(nb, path)
    fig = _figure()
    provenance = mtrl.book.Provenance("09_example", {"d": "100"})
    mtrl.book.export_figure(fig, "fig_example", tmp_path / mtrl.book.FIGURES, provenance)
    plt.close(fig)
    (entry,) = json.loads(mtrl.book.write_manifest(tmp_path).read_text())
    assert entry["title"] == "At n = 25, 75, d = 100, as in fig-b"


@pytest.mark.parametrize("options", [":name: fig-example\n", ":label: x\n:name: fig-example\n\n"])
def test_manifest_reads_a_caption_without_a_blank_line_and_refuses_one_it_cannot_read(
    tmp_path, options
):
    """A caption right after the options is read (its figure's files were once deleted as
    stale when it was not); a directive it cannot read stops the manifest."""
    _book(tmp_path, "A caption.", options)
    folder = tmp_path / mtrl.book.FIGURES
    fig = _figure()
    mtrl.book.export_figure(fig, "fig_example", folder, mtrl.book.Provenance("09_example", {}))
    plt.close(fig)
    if options.startswith(":name:"):
        assert [e["name"] for e in json.loads(mtrl.book.write_manifest(tmp_path).read_text())]
    else:
        with pytest.raises(ValueError, match="glue:figure"):
            mtrl.book.write_manifest(tmp_path)
    assert list(folder.glob("fig_example.*"))


def test_manifest_refuses_a_figure_that_was_not_exported(tmp_path):
    _book(tmp_path, "A caption.")
    (tmp_path / mtrl.book.FIGURES).mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="fig_example"):
        mtrl.book.write_manifest(tmp_path)


def test_committed_figure_records_name_a_clean_commit_and_the_current_code():
    """The stored figures come from a commit that has their code, and from the current code
    (as nbval checks for the text outputs): re-execute the book after changing mtrl/."""
    folder = Path(__file__).resolve().parent.parent / "book" / mtrl.book.FIGURES
    records = [p for p in folder.glob("*.json") if p.name != "manifest.json"]
    assert records
    for path in records:
        record = json.loads(path.read_text())
        assert record["commit"] not in ("", "unknown") and "dirty" not in record["commit"], path
        assert record["code"] == mtrl.cache.code_version(), path.name
        assert oct(path.stat().st_mode & 0o044) == oct(0o044), path.name  # world-readable


def test_a_chapter_of_a_namespace_takes_its_declared_parameters_then_the_derived_values():
    namespace = {"__annotations__": {"d": int, "loss": str}, "d": 50, "loss": "hinge", "g": 1}
    chapter = mtrl.book.Chapter.of(namespace, d=7, grid="1, 2")
    assert chapter.parameters == {"d": "7", "loss": "hinge", "grid": "1, 2"}  # not g
    assert list(mtrl.book.Chapter.of({}).parameters) == []


def _glued_names(path: Path) -> set[str]:
    cells = nbformat.read(path, 4).cells
    return {
        o.metadata["scrapbook"]["name"]
        for c in cells if c.cell_type == "code" for o in c.outputs
        if "scrapbook" in o.get("metadata", {})
    }  # fmt: skip


def test_every_glue_reference_of_the_book_names_a_value_that_its_notebook_glues():
    """The strict build fails on a stale glue reference; this finds it without a build."""
    import re

    book = Path(__file__).parents[1] / "book"
    pattern = re.compile(r"\{glue(?::[a-z]+)?\}`(?:([0-9a-z_]+\.ipynb)::)?([A-Za-z0-9_]+)")
    glued = {p.name: _glued_names(p) for p in book.glob("*.ipynb")}
    texts = [(p.name, p.read_text()) for p in book.glob("*.md")]
    for p in book.glob("*.ipynb"):
        cells = nbformat.read(p, 4).cells
        texts += [(p.name, c.source) for c in cells if c.cell_type == "markdown"]
    missing = {
        (doc, notebook or doc, name)
        for doc, text in texts for notebook, name in pattern.findall(text)
        if name not in glued.get(notebook or doc, set())
    }  # fmt: skip
    assert len(texts) > 50 and not missing, sorted(missing)


def test_printed_lines_fit_the_column_of_the_book():
    """What the chapters print stays within mtrl.studies.reports.WIDTH characters a line, the
    width that the book's column shows without a horizontal scroll."""
    from mtrl.studies.reports import WIDTH

    book = Path(__file__).parents[1] / "book"
    lines = [
        (p.name, line)
        for p in sorted(book.glob("0*.ipynb"))
        for c in nbformat.read(p, 4).cells if c.cell_type == "code"
        for out in c.get("outputs", []) if out.get("output_type") == "stream"
        for line in out["text"].splitlines()
    ]  # fmt: skip
    wide = [(name, len(line), line) for name, line in lines if len(line.rstrip()) > WIDTH]
    assert len(lines) > 100 and not wide, wide


def test_glued_numbers_are_rounded_and_integers_stay_integers(monkeypatch):
    import myst_nb

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.update({name: value}))
    chapter = mtrl.book.Chapter()
    chapter.publish_all({"x": 0.123456, "n": 4, "big": torch.tensor(10), "s": "1, 2"}, 3)
    assert glued == {"x": 0.123, "n": 4, "big": 10, "s": "1, 2"}
    assert type(glued["n"]) is int and type(glued["big"]) is int
