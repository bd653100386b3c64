"""The figures of the Theorem chapter (``book/03_theorem.ipynb``): the population limit, the
leakage against the number of tasks, the data collapse on the book's ``rho``, coverage and
subspace distance, and several rounds.

Each function takes tidy tables of results (:func:`mtrl.tidy`, one row per run, with any
computed columns the chapter added) or results, and returns a matplotlib figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..population import heuristic_leakage, rho
from . import colors, seed_band

__all__ = ["collapse", "coverage", "leakage", "population", "rounds"]

_TASKS = "number of tasks $T$"


def population(table):
    """Plot the distance to the population limit against ``n1 = n2``, with a slope of -1/2.

    ``table`` has a row per run with columns ``n1`` and ``error`` (the relative distance
    between the simulated and the population ``W_1``); the line is the mean over seeds.
    """
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    label = "simulation (mean over seeds)"
    seed_band(ax, table, x="n1", y="error", estimator="mean", color=colors(1)[0], label=label)
    mean = table.groupby("n1").error.mean()
    n = mean.index.to_numpy()
    ax.plot(n, mean.iloc[0] * (n / n[0]) ** -0.5, "k:", label=r"slope $-1/2$")
    ax.set(xscale="log", yscale="log", xlabel=r"samples per task $n_1 = n_2$")
    ax.set_ylabel(r"$\|W_1 - W_1^{\mathrm{pop}}\|_F / \|W_1^{\mathrm{pop}}\|_F$")
    ax.legend(fontsize="small")
    return fig


def _heuristic_curve(group, T_max: int):
    """Return the integers ``T`` up to ``T_max`` (about 100, log-spaced, each once: no steps)
    and the heuristic leakage ``rho/(1+rho)`` there, for the (single) ``d, r, n1, n2`` of the
    tidy table ``group``."""
    d, r, n1, n2 = (int(group[name].iloc[0]) for name in ("d", "r", "n1", "n2"))
    T = np.unique(np.geomspace(1, T_max, 100).round().astype(int))
    return T, [heuristic_leakage(rho(d=d, r=r, T=int(t), n1=n1, n2=n2)) for t in T]


def leakage(table):
    """Plot the leakage after one round against ``T``, one colour per ambient dimension ``d``:
    the mean over seeds (points) with their range (band), and the heuristic (dashed).

    ``table`` is a tidy table (:func:`mtrl.tidy`) with a row per ``d``, ``T`` and seed.
    """
    fig, ax = plt.subplots(figsize=(6.2, 4))
    groups = table.groupby("d", sort=False)
    points = {"estimator": "mean", "linestyle": "none", "markersize": 7}  # no line: points
    for (dim, group), color in zip(groups, colors(groups.ngroups), strict=True):
        seed_band(
            ax, group, x="T", y="leakage", color=color, label=f"d = {dim}: simulation", **points
        )
        T, heuristic = _heuristic_curve(group, int(table["T"].max()))
        ax.plot(T, heuristic, "--", color=color, lw=1, label=rf"d = {dim}: $\rho/(1+\rho)$")
    ax.set(xscale="log", yscale="log", xlabel=_TASKS, ylabel=r"leakage $1 - E(W_1)$")
    ax.legend(fontsize="small", ncols=2)
    return fig


def collapse(shapes, variants):
    """Plot the simulated leakage against the book's ``rho``, with ``rho/(1+rho)``: left, one
    colour per configuration ``(d, r, n1, n2)``, with the exact ratio of expectations
    (crosses); right, one line per variant. Mean over seeds, band over their range.

    ``shapes`` and ``variants`` are tidy tables (a row per run) with columns ``rho`` and
    ``leakage``; ``shapes`` also has ``exact`` and ``variants`` a column ``variant``.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    low, high = np.log10(shapes.rho.min()) - 0.2, np.log10(shapes.rho.max()) + 0.2
    rho_fine = np.logspace(low, high, 100)
    for ax in (ax1, ax2):
        ax.plot(rho_fine, heuristic_leakage(rho_fine), "k--", lw=1, label=r"$\rho/(1+\rho)$")
        ax.set(xscale="log", yscale="log", xlabel=r"the book's heuristic $\rho$")
    shape = shapes.d.astype(str) + ", " + shapes.r.astype(str) + ", " + shapes.n1.astype(str)
    shapes = shapes.assign(config="(d, r, n1, n2) = (" + shape + ", " + shapes.n2.astype(str) + ")")
    palette = colors(shapes.config.nunique())
    band = {"estimator": "mean", "linestyle": "none", "markersize": 6, "palette": palette}
    seed_band(ax1, shapes, x="rho", y="leakage", hue="config", **band)
    exact = shapes.groupby(["config", "T"], sort=False)[["rho", "exact"]].mean()
    ax1.plot(exact.rho, exact.exact, "kx", ms=5, label="exact ratio of expectations")
    seed_band(ax2, variants, x="rho", y="leakage", hue="variant", estimator="mean",
              palette=colors(variants.variant.nunique()))  # fmt: skip
    ax1.set(ylabel=r"leakage $1 - E$", title="halfspace tasks, one round")
    ax2.set(title="base configuration, one change at a time")
    ax1.legend(fontsize="x-small")
    ax2.legend(fontsize="x-small")
    return fig


def coverage(table):
    """Plot the coverage after one round and that of its population limit (left) and the
    subspace distance (right) against ``T``: mean over seeds and their range.

    ``table`` is a tidy table with a row per ``T`` and seed and a column ``coverage_pop``.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.8), sharex=True)
    c1, c2 = colors(2)
    seed_band(ax1, table, x="T", y="coverage", estimator="mean", color=c1, label="simulation")
    population = {"marker": "s", "linestyle": "--", "label": r"population: $W_0 M \Sigma_T$"}
    seed_band(ax1, table, x="T", y="coverage_pop", estimator="mean", color=c2, **population)
    ax1.set(xscale="log", xlabel=_TASKS, ylabel=r"coverage $\sigma_r/\sigma_1$", ylim=(-0.02, 1.02))
    ax1.legend(fontsize="small")
    seed_band(ax2, table, x="T", y="distance", estimator="mean", color=c1)
    ax2.set(xscale="log", yscale="log", xlabel=_TASKS)
    ax2.set_ylabel("subspace distance")
    return fig


def rounds(by_round, matched):
    """Plot energy fraction, coverage and subspace distance after each round ``k`` (mean over
    seeds, band over their range), one line per ``T`` and ``eta_w lam`` and per ``T`` with the
    heads reset every round (with, dotted, the coverage of the population limit of the runs
    with ``eta_w lam = 1``, the column ``population``); and, at the
    last round, one round with as many samples in all (stars, same colour for the same ``T``).

    ``by_round`` is ``mtrl.tidy(results, rounds=True)``; ``matched`` a tidy table of the
    one-round runs, a row per ``T`` and seed.
    """
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharex=True)
    data = by_round.assign(decay=by_round.eta_w * by_round.lam)
    data = data.assign(
        run=[
            rf"$T$ = {t}, $\eta_w\lambda$ = {v:g}" + (", heads reset" if reset else "")
            for t, v, reset in zip(data["T"], data.decay, data.reset_heads, strict=True)
        ]
    )
    runs = list(dict.fromkeys(data.run))
    palette = dict(zip(runs, colors(len(runs)), strict=True))
    last, mean = int(data.k.max()), matched.groupby("T").mean(numeric_only=True)
    labels = {"energy": r"energy fraction $E(W_k)$", "coverage": r"coverage $\sigma_r/\sigma_1$",
              "distance": "subspace distance"}  # fmt: skip
    for ax, (metric, label) in zip(axes, labels.items(), strict=True):
        seed_band(ax, data, x="k", y=metric, hue="run", estimator="mean", palette=palette,
                  legend=metric == "energy")  # fmt: skip
        for t, row in mean.iterrows():
            color = palette[next(run for run in runs if run.startswith(f"$T$ = {t},"))]
            star = {"marker": "*", "ms": 12, "mec": "k", "ls": "none"}
            ax.plot([last], [row[metric]], color=color, **star,
                    label=f"$T$ = {t}: 1 round, {last}x samples")  # fmt: skip
        if metric == "coverage":  # the population limits where eta_w lam = 1 (dotted)
            limit = data.dropna(subset=["population"]).groupby(["run", "k"]).population.mean()
            for run, line in limit.groupby(level="run"):
                ax.plot(line.index.get_level_values("k"), line.values, color=palette[run], ls=":",
                        label=f"{run}: population limit")  # fmt: skip
        ax.set(xlabel="round $k$", ylabel=label)
    handles, names = axes[0].get_legend_handles_labels()
    for handle, name in zip(*axes[1].get_legend_handles_labels(), strict=True):
        if "population" in name:  # drawn in the coverage panel only
            handles, names = [*handles, handle], [*names, name]
    axes[0].get_legend().remove()  # below the panels, where it hides no curve
    fig.legend(handles, names, loc="outside lower center", ncol=3, fontsize="x-small")
    axes[2].set_yscale("log")
    return fig
