"""The Single-task chapter's figures: coverage and energy against the sample budget, over seeds,
and the coverage of every one of many independent draws.

Each function takes tidy tables of results (:func:`mtrl.tidy`, one row per run, with the
columns the chapter added: ``setting``, the budget ``N``, the heuristic ``noise`` level of one
task and the ``ratio`` of the coverage to it) and returns a matplotlib figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from . import PALETTE, colors, seed_band

__all__ = ["plot_budget_curves", "plot_coverage_draws"]

_COVERAGE = r"coverage $\sigma_r(W_1M)/\sigma_1(W_1M)$"
_BUDGET = r"total sample budget $N$"
_MARKERS = ["o", "s", "^", "v", "D"]


def plot_budget_curves(table, population=()):
    """Draw the coverage (left, log scale) and the energy fraction (right) after one round
    against the total sample budget ``N``: per ``setting`` of ``table``, the median over seeds
    (line) and the seeds' range (band); for the settings with a ``noise`` level (one task), the
    median noise level as a thin dashed line of the same colour; and the median of the
    ``population`` coverages (one per seed, of the multi-task setting), if any, as a grey
    dash-dotted line.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.6), sharex=True)
    settings = list(dict.fromkeys(table.setting))
    for name, marker, color in zip(settings, _MARKERS, colors(len(settings)), strict=False):
        rows = table[table.setting == name]
        style = {"marker": marker, "color": color, "linestyle": ":" if "random" in name else "-"}
        for ax, y in (ax1, "coverage"), (ax2, "energy"):
            seed_band(ax, rows, x="N", y=y, label=name, **style)
        if rows.noise.notna().any():
            noise = rows.groupby("N").noise.median()
            ax1.plot(noise.index, noise, "--", color=color, lw=1, label=f"{name}: noise level")
    if len(population):
        median = float(np.median([float(c) for c in population]))
        ax1.axhline(median, color="0.3", lw=1, ls="-.", label=r"population limit $W_0 M \Sigma_T$")
    ax1.set(xscale="log", yscale="log", xlabel=_BUDGET, ylabel=_COVERAGE)
    ax2.set(xscale="log", xlabel=_BUDGET, ylabel=r"energy fraction $E(W_1)$", ylim=(-0.02, 1.02))
    for ax in ax1, ax2:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower center", ncols=3)
    return fig


def plot_coverage_draws(table):
    """Draw the coverage after one round of every draw, one row of points per ``setting``, on a
    log scale (left), and, for the single-task settings, the ratio of the coverage to its
    heuristic noise level (right; a dashed line at 1).

    ``table`` has a row per draw with columns ``setting``, ``coverage`` and ``ratio`` (missing
    for settings without a noise level).
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 3.6), width_ratios=(3, 2))
    points = {"y": "setting", "hue": "setting", "palette": PALETTE, "size": 3, "jitter": 0.3}
    # seaborn jitters the points with NumPy's global generator: seed it here (and restore it),
    # so that the figure's files are the same at every execution.
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    try:
        sns.stripplot(data=table, x="coverage", log_scale=True, ax=ax1, **points)
        single = table[table.ratio.notna()]
        points["palette"] = colors(table.setting.nunique())[: single.setting.nunique()]
        sns.stripplot(data=single, x="ratio", ax=ax2, **points)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    ax1.set(xlabel=_COVERAGE, ylabel="")
    ax2.set_ylim(ax1.get_ylim())  # the rows of the two panels line up
    ax2.axvline(1.0, color="0.3", ls="--", lw=1)
    ax2.set(xlabel="coverage / noise level $1/(|v|\\sqrt{n_2})$", ylabel="", yticklabels=[])
    return fig
