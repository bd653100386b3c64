"""The glue of one executing chapter: numbers and figures into the book, with provenance.

A chapter creates one :class:`Chapter` with its parameters (:meth:`Chapter.of` reads them from
the notebook's namespace), right after validating them; the object publishes each parameter
for the captions and holds the provenance that every figure it publishes records. Keeping
every ``glue`` call behind it keeps the chapters short and makes a later move to another book
engine a local change.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence

from .figures import Provenance, export_figure

__all__ = ["Chapter", "glue_value"]


def glue_value(name: str, value, digits: int | None = None) -> None:
    """Glue ``value`` under ``name`` for ``{glue:text}`` in the prose, rounded to ``digits``
    (an integer stays an integer).

    Numpy and torch scalars are converted to plain Python numbers first, so that the stored
    record is a plain literal that the book can format.
    """
    from myst_nb import glue

    if hasattr(value, "item"):
        value = value.item()
    if digits is not None and isinstance(value, numbers.Real) and not isinstance(value, int):
        value = round(float(value), digits)
    glue(name, value, display=False)


class Chapter:
    """The book glue of the chapter that is executing, with its ``parameters``.

    Every parameter is glued as the string ``<name>_txt``, for captions that state parameters.
    The chapter's name comes from ``$MTRL_CHAPTER`` and the folder that its figures are exported
    to from ``$MTRL_FIGURES`` (``make execute`` and ``make run`` set both; without a folder,
    figures are only glued).
    """

    def __init__(self, **parameters):
        self.name = os.environ.get("MTRL_CHAPTER", "")
        self.figures = os.environ.get("MTRL_FIGURES") or None
        self.parameters = {name: str(value) for name, value in parameters.items()}
        for name, text in self.parameters.items():
            glue_value(f"{name}_txt", text)

    @classmethod
    def of(cls, namespace: dict, **derived) -> Chapter:
        """Return the chapter whose parameters are those its parameters cell declares with a
        type (``d: int = 100``), read from the notebook's ``namespace`` (``globals()``, where
        papermill's injected values have replaced the defaults), followed by the ``derived``
        values that captions state (a derived value of a parameter's name replaces it)."""
        declared = namespace.get("__annotations__", {})
        return cls(**{**{name: namespace[name] for name in declared}, **derived})

    def __repr__(self) -> str:
        count = len(self.parameters)
        return f"Chapter({self.name!r}, figures={self.figures!r}, {count} parameters)"

    def publish(self, name: str, value, digits: int | None = None) -> None:
        """Glue ``value`` under ``name`` (see :func:`glue_value`)."""
        glue_value(name, value, digits)

    def publish_all(self, values: dict, digits: int | None = None) -> None:
        """Glue each value of ``values`` under its key (see :func:`glue_value`)."""
        for name, value in values.items():
            glue_value(name, value, digits)

    def figure(self, name: str, fig, *, seeds: Sequence[int] = ()) -> None:
        """Glue a matplotlib figure under ``name`` for a ``{glue:figure}`` directive, export it
        with its provenance (the chapter's parameters and the ``seeds`` it used) when there is a
        figures folder, and close it. Returns nothing, so that a cell ending with it shows no
        output (the record is in the folder)."""
        import matplotlib.pyplot as plt
        from myst_nb import glue

        glue(name, fig, display=False)
        if self.figures:
            provenance = Provenance(self.name, self.parameters, tuple(int(s) for s in seeds))
            export_figure(fig, name, self.figures, provenance)
        plt.close(fig)
