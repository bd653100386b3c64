"""The Downstream chapter's figures: a probe's accuracy on new tasks against ``d``, against the
number of probe samples and against the width."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from . import colors, log_ticks

__all__ = ["accuracy_against_d", "accuracy_against_n", "width_needed"]

ACCURACY = "downstream test accuracy"
D_STYLES = ("o-", "o--", "s-", "s--", "^-", "v:")  # the six curves of the sweep over d


def _chance(ax, xlabel: str) -> None:
    """Draw the chance level and label the axes of an accuracy plot."""
    ax.axhline(0.5, color="gray", lw=0.8)
    ax.set(xlabel=xlabel, ylabel=ACCURACY, ylim=(0.45, 1.0))


def accuracy_against_d(d_grid, curves: dict):
    """Plot the accuracy of each curve against the ambient dimension; returns the figure.

    ``curves`` maps the six curves' names to their accuracy at each ``d`` of ``d_grid``.
    """
    fig, ax = plt.subplots(figsize=(7, 4.2))
    lines = zip(curves.items(), D_STYLES, colors(len(curves)), strict=True)
    for (name, values), style, color in lines:
        ax.plot(d_grid, values, style, color=color, ms=4, label=name)
    _chance(ax, "ambient dimension $d$")
    log_ticks(ax, d_grid)
    ax.legend(fontsize="small", ncols=2, loc="lower left")
    return fig


def accuracy_against_n(n_grid, curves: dict):
    """Plot the accuracy of each curve against the probe's training set size; returns the
    figure. ``curves`` maps a name to the accuracy at each size of ``n_grid``."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (name, values), color in zip(curves.items(), colors(len(curves)), strict=True):
        ax.plot(n_grid, values, "o-", color=color, ms=4, label=name)
    _chance(ax, r"probe training samples $n_{\mathrm{down}}$")
    ax.set_xscale("log")
    ax.legend(fontsize="small")
    return fig


def width_needed(d_width, needed: dict, widths, accuracy_at: dict, *, target: float):
    """Plot the width needed for accuracy ``target`` against ``d`` (left) and the accuracy
    against the width (right); returns the figure.

    ``needed`` maps a representation to its needed width at each ``d`` of ``d_width`` (NaN: not
    reached); ``accuracy_at`` maps ``"multi-task"`` and ``"random features"`` to a dict from
    ``d`` to the accuracy at each of ``widths``.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for (name, values), color, style in zip(needed.items(), colors(2), ["o-", "s-"], strict=True):
        ax1.plot(d_width, values, style, color=color, label=name)
    reached = {w for values in needed.values() for w in values if not math.isnan(w)}
    log_ticks(ax1, d_width)
    log_ticks(ax1, sorted(reached), axis="y")
    ax1.set(xlabel="ambient dimension $d$", ylabel=f"width needed for accuracy {target}")
    ax1.legend(fontsize="small")
    for dim, color in zip(d_width, colors(len(d_width)), strict=True):
        rf, multi = accuracy_at["random features"][dim], accuracy_at["multi-task"][dim]
        ax2.plot(widths, rf, "s-", color=color, ms=3, label=f"random features, d = {dim}")
        ax2.plot(widths, multi, "o--", color=color, ms=3)
    ax2.axhline(target, color="gray", lw=0.8)
    ax2.set(xscale="log", xlabel="width $m$", ylabel="downstream test accuracy (ridge probe)")
    ax2.legend(fontsize="x-small", title="dashed: multi-task", title_fontsize="x-small")
    return fig
