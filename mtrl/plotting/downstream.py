"""The Downstream chapter's figures: a probe's accuracy on new tasks against ``d``, against the
number of probe samples and against the width, each with a band over pretraining seeds."""

from __future__ import annotations

import matplotlib.pyplot as plt

from . import colors, log_ticks, seed_band

__all__ = ["accuracy_against_d", "accuracy_against_n", "width_needed"]

ACCURACY = "downstream test accuracy"
_KINDS = ("multi-task (T ∝ d)", "multi-task (fixed T)", "random features", "single task")


def _style(name: str) -> dict:
    """Return the line style of a curve from its name, the same in every figure: the colour and
    marker name the representation, the line the new tasks (dashed: majority, dotted:
    orthogonal to the single task), whose bands are hatched."""
    kind = next((i for i, k in enumerate(_KINDS) if name.startswith(k)), len(_KINDS))
    line = "--" if "majority" in name else ":" if "orthogonal" in name else "-"
    color = colors(len(_KINDS) + 1)[kind]
    style = {"color": color, "marker": "oDs^v"[kind], "ls": line}
    if line != "-":  # hatched bands, so that they do not read as those of the solid curves
        style["err_kws"] = {"facecolor": "none", "edgecolor": color, "hatch": "////", "lw": 0}
    return style


def _curves(ax, table, x: str) -> None:
    """Draw one seed band of ``accuracy`` against ``x`` per ``curve`` of ``table``, in the
    order of the curves' first rows, with the chance level."""
    for name in dict.fromkeys(table.curve):
        rows = table[table.curve == name]
        seed_band(ax, rows, x=x, y="accuracy", label=name, **_style(name))
    ax.axhline(0.5, color="gray", lw=0.8)
    ax.set(ylabel=ACCURACY, ylim=(0.45, 1.0))


def accuracy_against_d(table):
    """Plot the accuracy of each curve against the ambient dimension; returns the figure.

    ``table`` is tidy: a row per ``curve``, ``d`` and ``seed``, with the ``accuracy``; each
    curve is the median over seeds with a band from their minimum to their maximum.
    """
    fig, ax = plt.subplots(figsize=(7, 5.6))
    _curves(ax, table, "d")
    log_ticks(ax, sorted(set(table.d)))
    ax.set(xlabel="ambient dimension $d$")
    ax.legend(fontsize="small", ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return fig


def accuracy_against_n(table):
    """Plot the accuracy of each curve against the probe's training set size ``n_down`` (a
    tidy table as for :func:`accuracy_against_d`); returns the figure."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    _curves(ax, table, "n_down")
    ax.set(xscale="log", xlabel=r"probe training samples $n_{\mathrm{down}}$")
    ax.legend(fontsize="small")
    return fig


def width_needed(needed, table, *, target: float):
    """Plot the width needed for accuracy ``target`` against ``d`` (left) and the accuracy
    against the width (right), each a median over seeds with a min-max band; returns the figure.

    ``needed`` has a row per ``representation``, ``d`` and ``seed`` with the ``width`` needed;
    ``table`` a row per ``representation``, ``d``, ``seed`` and ``width`` with the ``accuracy``.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    names = list(dict.fromkeys(needed.representation))
    for name, color, marker in zip(names, colors(len(names)), "os", strict=False):
        rows = needed[needed.representation == name]
        seed_band(ax1, rows, x="d", y="width", label=name, color=color, marker=marker)
    log_ticks(ax1, sorted(set(needed.d)))
    ax1.set(yscale="log", xlabel="ambient dimension $d$")
    ax1.set(ylabel=f"width needed for accuracy {target}")
    ax1.legend(fontsize="small")
    dims = sorted(set(table.d))
    for dim, color in zip(dims, colors(len(dims)), strict=True):
        for name, line in zip(names, ("--", "-"), strict=False):
            rows = table[(table.d == dim) & (table.representation == name)]
            label = f"{name}, d = {dim}" if line == "-" else None
            seed_band(
                ax2, rows, x="width", y="accuracy", color=color, ls=line, markersize=3, label=label
            )
    ax2.axhline(target, color="gray", lw=0.8)
    ax2.set(xscale="log", xlabel="width $m$", ylabel="downstream test accuracy (ridge probe)")
    ax2.legend(fontsize="x-small", title=f"dashed: {names[0]}", title_fontsize="x-small")
    return fig
