"""Putting numbers into the book's prose: the one place that talks to myst-nb's ``glue``.

Keeping every ``glue`` call behind these two functions keeps the chapters short and makes a
later move to another book engine a local change.
"""

from __future__ import annotations

import numbers

__all__ = ["publish", "publish_figure", "publish_parameters"]


def publish(name: str, value, digits: int | None = None) -> None:
    """Glue ``value`` under ``name`` for ``{glue:text}`` in the prose, rounded to ``digits``.

    Numpy and torch scalars are converted to plain Python numbers first, so that the stored
    record is a plain literal that the book can format.
    """
    from myst_nb import glue

    if hasattr(value, "item"):
        value = value.item()
    if digits is not None and isinstance(value, numbers.Real):
        value = round(float(value), digits)
    glue(name, value, display=False)


def publish_figure(name: str, fig) -> None:
    """Glue a matplotlib figure under ``name`` for a ``{glue:figure}`` directive, and close it."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)


def publish_parameters(**parameters) -> None:
    """Glue every parameter as the string ``<name>_txt``, for captions that state parameters."""
    for name, value in parameters.items():
        publish(f"{name}_txt", str(value))
