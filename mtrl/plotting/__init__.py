"""The book's figures: its theme, and the plots that the chapters draw, as functions of results.

Each chapter's plots are in a module of their own (``mtrl.plotting.theorem`` and so on); each
takes results (or a tidy table of them, :func:`mtrl.tidy`) and returns a matplotlib figure, so
a figure cell is one or two calls. Nothing here can change a computed result: this package is
outside the code hash of the result cache.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

__all__ = ["BAND", "PALETTE", "colors", "log_ticks", "seed_band", "use_theme"]

PALETTE = "colorblind"
BAND = ("pi", 100)  # seaborn errorbar: the band spans the seeds' minimum to maximum


def use_theme() -> None:
    """Set the book's seaborn theme: white grid, colour-blind-safe palette, readable sizes."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 200,
            "axes.titlesize": "medium",
            "figure.constrained_layout.use": True,
            "svg.hashsalt": "mtrl",  # stable SVG ids
        }
    )


def colors(n: int) -> list:
    """Return the first ``n`` colours of the book's colour-blind-safe palette."""
    return sns.color_palette(PALETTE, n)


def seed_band(ax, data, *, x: str, y: str, hue: str | None = None, estimator="median", **kwargs):
    """Draw ``y`` against ``x`` of a tidy table ``data`` (one row per seed and point): the
    ``estimator`` over seeds as a line with markers, and a band from the seeds' minimum to their
    maximum (``BAND``); one line per value of ``hue``. Returns ``ax``."""
    options = {"marker": "o", "markersize": 4, "palette": PALETTE if hue else None}
    options.update(kwargs)
    return sns.lineplot(
        data=data, x=x, y=y, hue=hue, estimator=estimator, errorbar=BAND, ax=ax, **options
    )


def log_ticks(ax, values, axis: str = "x") -> None:
    """Put a log scale on ``axis`` with ticks at exactly ``values``, labelled as integers."""
    values = list(values)
    getattr(ax, f"set_{axis}scale")("log")
    getattr(ax, f"set_{axis}ticks")(values, [str(v) for v in values])
    getattr(ax, f"{axis}axis").set_minor_locator(plt.NullLocator())
