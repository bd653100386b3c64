"""The Single-task chapter's figures: coverage and energy against the sample budget, and the
distribution of the coverage over independent draws."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import colors

__all__ = ["plot_budget_curves", "plot_coverage_draws"]

_COVERAGE = r"coverage $\sigma_r(W_1M)/\sigma_1(W_1M)$"
_STYLES = ["o-", "s-", "^-", "v--", ":"]


def plot_budget_curves(budgets, cover: dict, energy: dict):
    """Draw the coverage (left, log scale) and the energy fraction (right) after one round
    against the total sample budget, a line per setting.

    ``budgets`` the budgets N; ``cover`` and ``energy`` map each of five settings to its values,
    one per budget, in this order: one halfspace task, one majority task, T tasks, random heads
    (dashed), random features (dotted).
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    lines = zip(cover, _STYLES, colors(len(cover)), strict=True)
    for name, style, color in lines:
        ax1.plot(budgets, cover[name], style, color=color, ms=4, label=name)
        ax2.plot(budgets, energy[name], style, color=color, ms=4, label=name)
    ax1.set(xscale="log", yscale="log", xlabel="total sample budget $N$", ylabel=_COVERAGE)
    ax2.set(
        xscale="log",
        xlabel="total sample budget $N$",
        ylabel=r"energy fraction $E(W_1)$",
        ylim=(-0.02, 1.02),
    )
    ax2.legend(fontsize="small")
    return fig


def plot_coverage_draws(cover: dict):
    """Draw a histogram of the coverage after one round over independent draws, per setting.

    ``cover`` maps a setting's name to its coverages, one per draw (values in [0, 1]).
    """
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    bins = np.linspace(0, 1, 41)
    for (name, values), color in zip(cover.items(), colors(len(cover)), strict=True):
        ax.hist(values, bins=bins, color=color, alpha=0.6, label=name)
    ax.set(xlabel=_COVERAGE, ylabel="number of draws")
    ax.legend(fontsize="small")
    return fig
