"""The book's own Sphinx extension: its bibliography style and the stamp at the end of each page.

- The text cites author-year (``bibtex_reference_style: author_year``); the bibliography style
  ``mtrl_author_year`` (pybtex's plain style with author-year labels) makes the bibliography's
  labels say the same ("Collins et al. 2024") instead of numbers [1], [2], ...
- Every page ends with what it shows: the book's version, when its notebook was executed
  (papermill's metadata), and the commit the HTML was built from.
- Every figure's image gets a meaningful alternative text, the first sentence of its caption,
  where it has none or only its file path (what glued figures get).
- The notebook download links download the ``.ipynb`` instead of opening its JSON
  (``_static/mtrl.js``).
- Citations get hover previews like the cross-references (sphinx-tippy previews only targets
  that exist before the bibliography is formatted): each citation link's tip is its entry.
"""

from __future__ import annotations

import html
import json
import string
from pathlib import Path

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _last_name(person) -> str:
    return Text.from_latex(" ".join(person.last_names)).render_as("text")


class AuthorYearLabels(BaseLabelStyle):
    """Label an entry by its authors' last names and its year; one author, two, or the first
    and "et al."; entries with the same label get a letter after the year."""

    def format_labels(self, sorted_entries):
        labels = []
        for entry in sorted_entries:
            names = [_last_name(p) for p in entry.persons.get("author", [])]
            if len(names) in (1, 2):
                who = " and ".join(names)
            else:
                who = f"{names[0]} et al." if names else entry.key
            labels.append(f"{who} {entry.fields.get('year', '')}".strip())
        for label in labels:
            same = [i for i, other in enumerate(labels) if other == label]
            if len(same) > 1:
                for letter, i in zip(string.ascii_lowercase, same, strict=False):
                    labels[i] = f"{label}{letter}"
        yield from labels


class Style(PlainStyle):
    default_label_style = AuthorYearLabels


def _executed(source: Path) -> str | None:
    """Return when the notebook at ``source`` was last executed (UTC, to the minute), if known."""
    try:
        end = json.loads(source.read_text())["metadata"]["papermill"]["end_time"]
    except (OSError, KeyError, TypeError, ValueError):
        return None
    return end[:16].replace("T", " ") + " UTC" if end else None


def _record_commit(app, config):
    """Put the commit into the configuration, so that a build at another commit rewrites every
    page (Sphinx rebuilds all pages when an ``html`` configuration value changes)."""
    from mtrl.book.figures import git_commit

    config.mtrl_commit = git_commit()


def _stamp(app, pagename, templatename, context, doctree):
    if doctree is None or "body" not in context:
        return
    from mtrl.book.identity import identity

    parts = [f"mtrl {identity().version}"]
    executed = _executed(Path(app.srcdir) / f"{pagename}.ipynb")
    if executed:
        parts.append(f"executed {executed}")
    parts.append(f"built from commit {app.config.mtrl_commit}")
    stamp = " · ".join(html.escape(p) for p in parts)
    context["body"] += f'<p class="mtrl-stamp" style="font-size: 0.8em; opacity: 0.7">{stamp}</p>'


def _alt_texts(app, doctree, docname):
    """Give each figure's images the first sentence of the caption as alternative text."""
    from mtrl.book.manifest import first_sentence

    for figure in doctree.findall(nodes.figure):
        caption = figure.next_node(nodes.caption)
        if caption is None:
            continue
        for image in figure.findall(nodes.image):
            alt = image.get("alt", "")
            if not alt or "/" in alt or alt.endswith((".png", ".svg", ".jpg")):
                image["alt"] = first_sentence(caption.astext())


def _citation_tips(app, env):
    """Give sphinx-tippy a tip for every citation link: the formatted bibliography entry.

    Citation links point at the entry on the bibliography's page, ``<page>.html#<id>``; the
    chapters and the bibliography are in one folder, so that relative link is the same on
    every page."""
    tips = app.config.tippy_custom_tips
    tips.clear()
    for citation in env.get_domain("cite").citations:
        page = Path(citation.bibliography_key.docname).name
        entry = citation.formatted_entry
        text = entry.text.render_as("html")
        tips[f"{page}.html#{citation.citation_id}"] = f"<p><b>[{entry.label}]</b> {text}</p>"
    return []


def _own_tips(app, config):
    config.tippy_custom_tips = {}  # this extension's own dict, filled once citations are known


def setup(app):
    register_plugin("pybtex.style.formatting", "mtrl_author_year", Style)
    app.add_config_value("mtrl_commit", "", "html")
    app.connect("config-inited", _record_commit)
    app.connect("config-inited", _own_tips)
    app.connect("env-updated", _citation_tips, priority=900)  # after sphinxcontrib-bibtex
    app.connect("html-page-context", _stamp)
    app.connect("doctree-resolved", _alt_texts)
    app.add_js_file("mtrl.js")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
