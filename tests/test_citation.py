"""CITATION.cff is valid Citation File Format 1.2.0 and carries the package's version.

The schema in tests/data is the official CFF 1.2.0 JSON schema (citation-file-format/
citation-file-format, CC-BY-4.0), as shipped in the cffconvert 2.0.0 wheel.
"""

import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml

import mtrl
import mtrl.book

ROOT = Path(__file__).resolve().parent.parent


def _citation():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_citation_file_is_valid_cff():
    schema = json.loads((ROOT / "tests/data/citation-file-format-1.2.0.schema.json").read_text())
    data = _citation()
    data["date-released"] = str(data["date-released"])  # YAML reads the date as a date
    jsonschema.validate(data, schema)


def test_one_version_for_the_package_the_citation_and_the_book():
    assert _citation()["version"] == mtrl.__version__
    intro = (ROOT / "book/intro.md").read_text()
    assert re.findall(r"version\s*=\s*\{([^}]*)\}", intro) == [mtrl.__version__]


def test_title_and_authors_are_those_of_the_citation_everywhere():
    citation = _citation()
    book = mtrl.book.identity()
    assert (book.title, book.authors, book.version) == (
        citation["title"], citation["authors"][0]["name"], citation["version"],
    )  # fmt: skip
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["title"] == citation["title"] and config["author"] == book.authors
    intro = (ROOT / "book/intro.md").read_text()
    (title,) = re.findall(r"title\s*=\s*\{(.*)\},\n", intro)
    assert title.replace("{", "").replace("}", "") == citation["title"]


def test_no_citation_names_a_location_the_project_does_not_have():
    assert mtrl.book.identity().url is None
    for path in ("CITATION.cff", "_config.yml", "book/intro.md"):
        assert "github.com" not in (ROOT / path).read_text(), path


def test_the_bibliography_renders_author_year_labels_without_raw_latex_or_double_links():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import mtrl_sphinx
    finally:
        sys.path.pop(0)
    from pybtex.database import parse_file

    entries = parse_file(ROOT / "book" / "references.bib").entries
    formatted = {e.key: e for e in mtrl_sphinx.Style().format_entries(entries.values())}
    assert formatted["collins2024provable"].label == "Collins et al. 2024"
    assert formatted["bjorck1973numerical"].label == "Björck and Golub 1973"
    for key, entry in formatted.items():
        html = entry.text.render_as("html")
        assert "\\" not in html and "emph" not in html, key  # no LaTeX left
        assert html.count("arxiv.org") <= 1, key  # one arXiv link, not two
