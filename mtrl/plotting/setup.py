"""The Setup chapter's figures: tasks on the latent plane, the label-agreement kernels, and the
first look at one round with one task against many."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..experiments import Result, tidy
from ..tasks import KernelEstimate, TaskSet
from . import colors

__all__ = ["plot_first_look", "plot_kernels", "plot_latent_labels", "plot_tasks"]


def plot_latent_labels(ax, z: torch.Tensor, y: torch.Tensor, directions: torch.Tensor) -> None:
    """Scatter latent points ``z`` (N, 2) coloured by labels ``y`` (N), with the task's directions.

    ``directions`` is (k, 2): the unit vectors that define the task, drawn as arrows.
    """
    for label, color in zip((1.0, -1.0), colors(2), strict=True):
        mask = (y == label).numpy()
        ax.scatter(*z[mask].T.numpy(), s=4, color=color, label=f"y = {label:+.0f}", alpha=0.7)
    for v in directions.numpy():
        ax.annotate(
            "",
            xy=2.2 * v,
            xytext=(0, 0),
            arrowprops={"arrowstyle": "->", "lw": 1.5, "color": "black"},
        )
    lim = float(np.abs(z.numpy()).max())
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])


def plot_tasks(z: torch.Tensor, tasks: dict[str, torch.Tensor]):
    """Draw the labels of tasks on the latent plane: a row per family, a panel per task.

    ``z`` (N, 2) latent points; ``tasks`` maps a family to its k tasks (k, directions, 2), as
    :func:`mtrl.draw_tasks` returns them for r = 2; every family has the same k.
    """
    rows, k = len(tasks), len(next(iter(tasks.values())))
    fig, axes = plt.subplots(rows, k, figsize=(2.5 * k, 2.5 * rows), squeeze=False)
    for row, (family, thetas) in zip(axes, tasks.items(), strict=True):
        y = TaskSet(torch.eye(2), thetas, family).labels(z.expand(k, -1, -1))  # (k, N)
        for ax, theta, labels in zip(row, thetas, y, strict=True):
            plot_latent_labels(ax, z, labels, theta)
        row[0].set_ylabel(family)
    axes[0, 0].legend(loc="lower left", fontsize="small", markerscale=3)
    return fig


def plot_kernels(z, z2, exact: dict[str, torch.Tensor], estimate: dict[str, KernelEstimate]):
    """Draw each family's closed-form ``K(z, z')`` (lines) against its Monte Carlo estimate
    (points, two standard errors) as functions of the angle between ``z`` and ``z'``.

    ``z``, ``z2`` (N, r) the pairs; ``exact`` maps a family to its closed form (N); ``estimate``
    maps it to its :class:`mtrl.KernelEstimate`.
    """
    angle = torch.arccos(torch.nn.functional.cosine_similarity(z, z2).clamp(-1, 1))
    order = angle.argsort()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (family, kernel), color in zip(exact.items(), colors(len(exact)), strict=True):
        mc = estimate[family]
        ax.plot(angle[order], kernel[order], color=color, label=f"{family}: closed form")
        label = f"{family}: Monte Carlo ± 2 s.e."
        style = {"fmt": "o", "ms": 2.5, "lw": 0.6, "color": color, "alpha": 0.6, "label": label}
        ax.errorbar(angle, mc.mean, yerr=2 * mc.stderr, **style)
    ax.set(
        xlabel=r"angle $\varphi$ between $z$ and $z'$",
        ylabel=r"$K(z, z')$",
        xticks=[0, np.pi / 2, np.pi],
        xticklabels=["0", r"$\pi/2$", r"$\pi$"],
    )
    ax.legend(fontsize="small", ncols=2, loc="lower left")
    return fig


def plot_first_look(results: list[Result]):
    """Draw one round with each number of tasks: left, the final energy fraction (dots) and
    coverage (crosses) of every seed against ``r/d``; right, the normalised singular values of
    ``W_1 M`` of the first result of each ``T``.

    ``results`` (of :func:`mtrl.sweep`) share ``d`` and ``r`` and differ in ``T`` and the seed.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.5, 3.6), width_ratios=[1, 1.3])
    _plot_final_metrics(ax1, tidy(results))
    _plot_singular_values(ax2, {res.config.T: res for res in reversed(results)})
    return fig


def _plot_final_metrics(ax, table) -> None:
    """Scatter the final energy fraction and coverage of every row of ``table``, a column per T."""
    groups = table.groupby("T")
    for (t, rows), color in zip(groups, colors(groups.ngroups), strict=True):
        x = np.full(len(rows), f"T = {t}")
        ax.scatter(x, rows["energy"], color=color, s=25, zorder=3)
        ax.scatter(x, rows["coverage"], color=color, marker="x", s=25, zorder=3)
    ax.axhline((table["r"] / table["d"]).iloc[0], color="gray", ls="--", lw=1, label=r"$r/d$")
    ax.scatter([], [], color="k", s=25, label="energy fraction")
    ax.scatter([], [], color="k", marker="x", s=25, label="coverage")
    ax.set(ylim=(-0.03, 1.03), ylabel="after one round")
    ax.legend(fontsize="small", loc="center right")


def _plot_singular_values(ax, first: dict[int, Result]) -> None:
    """Draw the normalised singular values of ``W M`` of one result per T (``first``: T -> it)."""
    r = next(iter(first.values())).config.r
    for t, color in zip(sorted(first), colors(len(first)), strict=True):
        s = torch.linalg.svdvals(first[t].W @ first[t].M)  # (r,)
        ax.plot(range(1, r + 1), s / s[0], "o-", color=color, label=f"T = {t}")
    ax.set(
        xlabel="index $i$",
        ylabel=r"$\sigma_i(W_1 M) / \sigma_1(W_1 M)$",
        ylim=(-0.03, 1.05),
        xticks=range(1, r + 1),
    )
    ax.legend(fontsize="small")
