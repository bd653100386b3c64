"""The figures of the Kernel regime chapter ([N24]): univariate fits against the exact optimum,
the Sobolev kernel interpolant, two-dimensional surfaces, and distances against the number of
tasks, for the fits and for the bridge to the pretraining chapters."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..interpolation import connect_the_dots
from . import colors, log_ticks, seed_band

__all__ = ["bridge", "distances_against_T", "sobolev", "surfaces", "univariate"]

LEVELS = np.linspace(-0.25, 1.25, 13)  # contour levels of the 2-D outputs (labels are 0 and 1)


def univariate(x, problems: dict, fits: dict, optima: dict, line, seeds) -> plt.Figure:
    """Plot output 1 of the trained univariate networks, one panel per problem, with the
    connect-the-dots interpolant of the exact optimum's fitted values (dotted).

    ``x`` (N): the inputs; ``problems``: name -> labels ``Y`` (N, T); ``fits`` and ``optima``:
    name -> the problem's ``MultiTaskFit`` and ``PenalizedOptimum``; ``line`` (G): where the
    functions are drawn; ``seeds``: one per trained network.
    """
    fig, axes = plt.subplots(1, len(problems), figsize=(11, 3.4), sharey=True)
    for ax, (name, Y) in zip(axes, problems.items(), strict=True):
        curves = fits[name].network(line[:, None])[:, :, 0]  # (S, G)
        for curve, seed, color in zip(curves, seeds, colors(len(seeds)), strict=True):
            ax.plot(line, curve, color=color, lw=1.5, alpha=0.85, label=f"seed {seed}")
        dots = connect_the_dots(x, optima[name].Yhat, line)[:, 0]
        ax.plot(line, dots, "k:", lw=1.2, label="$f_D$ of the optimal fit")
        ax.plot(x, Y[:, 0], "o", color="black", ms=5)
        ax.set(title=f"{name}: task 1", xlabel="$x$")
    axes[0].set_ylabel("$f_1(x)$")
    axes[0].legend(fontsize="small")
    return fig


def sobolev(x, Y, grid, dots, kernel) -> plt.Figure:
    """Plot the connect-the-dots and the Sobolev kernel interpolants of the first two tasks,
    with the data interval shaded.

    ``x`` (N) and ``Y`` (N, T): the data; ``dots`` and ``kernel`` (G, T): the two interpolants at
    ``grid`` (G).
    """
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    c_dots, c_kernel = colors(2)
    for t, ax in enumerate(axes):
        ax.axvspan(float(x[0]), float(x[-1]), color="0.9", zorder=0)
        ax.plot(grid, dots[:, t], color=c_dots, lw=2, label="connect-the-dots $f_D$")
        ax.plot(
            grid, kernel[:, t], "--", color=c_kernel, lw=1.5, label="Sobolev kernel interpolant"
        )
        ax.plot(x, Y[:, t], "o", color="black", ms=5)
        ax.set(title=f"task {t + 1}", xlabel="$x$")
    axes[0].legend(fontsize="small")
    return fig


def surfaces(axis, X, y, outputs: dict, ridge: dict, seeds) -> plt.Figure:
    """Plot output 1 on the grid ``axis`` x ``axis`` as filled contours with the data on top.
    Top: the single-task fits of up to three seeds. Bottom: two fits with the most tasks and
    the weighted ridge solution for them.

    ``X`` (N, 2) and ``y`` (N): the data of task 1; ``outputs``: T -> (S, G*G) output 1 of the
    networks trained on T tasks (one per ``seeds``), ``T = 1`` included, on
    ``torch.cartesian_prod(axis, axis)``; ``ridge``: T -> (G*G,) the weighted ridge solution.
    """
    T = max(outputs)
    top = [(f"T = 1, seed {s}", F) for s, F in zip(seeds[:3], outputs[1], strict=False)]
    bottom = [(f"T = {T}, seed {s}", F) for s, F in zip(seeds[:2], outputs[T], strict=False)]
    bottom.append((f"weighted ridge, T - 1 = {T - 1} tasks", ridge[T]))
    fig, axes = plt.subplots(2, 3, figsize=(10, 6.6), sharex=True, sharey=True)
    for row, shown in zip(axes, (top, bottom), strict=True):
        for ax, (title, values) in zip(row, shown, strict=False):
            square = values.reshape(len(axis), len(axis)).T
            image = ax.contourf(axis, axis, square, levels=LEVELS, cmap="viridis", extend="both")
            ax.scatter(
                *X.T, c=y, cmap="viridis", vmin=LEVELS[0], vmax=LEVELS[-1], edgecolors="white", s=40
            )
            ax.set(title=title, aspect="equal")
        for ax in row[len(shown) :]:
            ax.set_axis_off()
    for ax in axes[1]:
        ax.set_xlabel("$x_1$")
    for ax in axes[:, 0]:
        ax.set_ylabel("$x_2$")
    fig.colorbar(image, ax=axes, shrink=0.8, label="output 1")
    return fig


def distances_against_T(rows) -> plt.Figure:
    """Plot, against the number of tasks, the spread of output 1 across initialisations, its
    distance to the weighted ridge solution and to the control with equal weights: the median
    over the draws of the random tasks as a line, a band from their minimum to their maximum,
    and each draw as a dot.

    ``rows``: a tidy table, a row per draw and number of tasks, with columns ``draw``, ``T``
    and the distances ``spread``, ``kernel`` and ``equal`` (NaN at ``T = 1``, which has no
    ridge solution and is left out of those series).
    """
    fig, ax = plt.subplots(figsize=(5.8, 4.4))
    series = (("spread", "spread across initialisations", "o", "-"),
              ("kernel", "distance to the weighted ridge solution", "s", "--"),
              ("equal", "distance to the ridge solution, equal weights", "^", ":"))  # fmt: skip
    for (y, label, marker, ls), color in zip(series, colors(3), strict=True):
        data = rows.dropna(subset=[y])
        seed_band(ax, data, x="T", y=y, color=color, marker=marker, ls=ls, label=label)
        ax.scatter(data["T"], data[y], color=color, marker=marker, s=10, alpha=0.5, lw=0)
    ax.set(yscale="log", xlabel="number of tasks $T$", ylabel="sup-distance of output 1")
    log_ticks(ax, sorted(rows["T"].unique()))
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.17))  # off the data
    return fig


def bridge(table, random_features) -> plt.Figure:
    """Plot the kernel deviation and the leakage after pretraining against the number of tasks
    (median over the seeds, band from their minimum to their maximum), with the median kernel
    deviation of random features as a dotted line (its seeds' range shaded).

    ``table``: a row per ``T`` and seed with ``deviation`` and ``leakage``;
    ``random_features``: the deviations of the random-features networks, one per seed.
    """
    fig, ax = plt.subplots(figsize=(5.8, 3.8))
    c_dev, c_leak = colors(2)
    seed_band(ax, table, x="T", y="deviation", color=c_dev, label="kernel deviation")
    seed_band(ax, table, x="T", y="leakage", color=c_leak, marker="s", ls="--",
              label="leakage $1 - E(W_1)$")  # fmt: skip
    low, high = float(random_features.min()), float(random_features.max())
    ax.axhspan(low, high, color="0.5", alpha=0.3, lw=0)
    ax.axhline(float(random_features.median()), color="0.5", lw=1, ls=":",
               label="kernel deviation, random features")  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="number of pretraining tasks $T$",
           ylabel="kernel deviation; leakage")  # fmt: skip
    ax.legend(fontsize="small")
    return fig
