"""The book glue: what connects the executed chapters to the built book.

- :class:`Chapter` (:mod:`.chapter`): numbers and figures into the book, with provenance;
- :func:`export_figure` (:mod:`.figures`): figure files and their provenance records;
- :func:`write_manifest`, :func:`figure_citations` (:mod:`.manifest`): the figures' manifest
  and citations;
- :func:`run_time_table`, :func:`environment_table`, :func:`parameter_tables`,
  :func:`papermill_commands` (:mod:`.tables`): the Reproduce page's tables;
- :func:`~.rerun.run_chapter` and the ``mtrl`` command (:mod:`.rerun`, :mod:`.report`,
  :mod:`.cli`): re-runs with other parameters, rendered to HTML;
- :func:`print_pdf` (:mod:`.pdf`): the book as one PDF;
- :func:`identity` (:mod:`.identity`): title, authors and version, from ``CITATION.cff``.

Nothing here can change a computed result, so this package is outside the code hash of the
result cache (:func:`mtrl.cache.code_version`).
"""

from .chapter import Chapter
from .figures import Provenance, export_figure
from .identity import identity
from .manifest import FIGURES, figure_citations, write_manifest
from .pdf import print_pdf
from .tables import environment_table, papermill_commands, parameter_tables, run_time_table

__all__ = [
    "FIGURES",
    "Chapter",
    "Provenance",
    "environment_table",
    "export_figure",
    "figure_citations",
    "identity",
    "papermill_commands",
    "parameter_tables",
    "print_pdf",
    "run_time_table",
    "write_manifest",
]
