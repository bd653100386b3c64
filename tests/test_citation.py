"""CITATION.cff is valid Citation File Format 1.2.0 and carries the package's version.

The schema in tests/data is the official CFF 1.2.0 JSON schema (citation-file-format/
citation-file-format, CC-BY-4.0), as shipped in the cffconvert 2.0.0 wheel.
"""

import json
import re
from pathlib import Path

import jsonschema
import yaml

import mtrl

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
