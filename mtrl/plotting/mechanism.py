"""The Mechanism chapter's figures: the error of the pseudo-contrastive identity, the similarity
of representations against the label agreement, and the ablations of heads-first pretraining."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from . import colors

__all__ = ["plot_ablations", "plot_identity_errors", "plot_similarity"]

FLOOR = 1e-17  # errors below it are drawn at it, on the log scale
# algorithm -> (marker, line style), in the order of the legend
STYLES = {
    "heads_first": ("o", "-"),
    "random_heads": ("s", "-"),
    "random_features": ("", "--"),
    "simultaneous": ("", ":"),
}


def plot_identity_errors(eta_a, errors: dict[str, list[float]]):
    """Draw the relative error of the pseudo-contrastive identity against the heads step size,
    a line per loss, with a line of slope 1 through the first logistic error.

    ``eta_a`` the step sizes (k,); ``errors`` maps each of ``logistic``, ``hinge`` and
    ``correlation`` to its k errors (:func:`mtrl.pseudo_contrastive_error`).
    """
    eta_a = np.asarray(eta_a)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for loss, color in zip(["logistic", "hinge", "correlation"], colors(3), strict=True):
        ax.loglog(eta_a, np.maximum(errors[loss], FLOOR), "o-", color=color, label=loss)
    ax.loglog(eta_a, errors["logistic"][0] * eta_a / eta_a[0], "k:", lw=1, label="slope 1")
    ax.set(
        xlabel=r"heads step size $\eta_a$ (scale of the heads)",
        ylabel=r"$\|G - \nabla L_{\mathrm{PC}}\|_F / \|G\|_F$",
        ylim=(1e-18, 10),
    )
    ax.legend(fontsize="small")
    return fig


def plot_similarity(k, before, after, *, T: int, bins: int = 20):
    """Scatter the similarity of the representations of input pairs against their label
    agreement, at initialisation and after one round, with the means over ``bins`` bins of K.

    ``k`` (N,) the label agreement ``K(M^T x, M^T x')`` of the pairs; ``before``, ``after`` (N,)
    their cosine similarities (:func:`mtrl.representation_similarity`) for ``W_0`` and for
    ``W_1`` after one round on ``T`` tasks.
    """
    edges = np.linspace(-1, 1, bins + 1)
    centers = (edges[1:] + edges[:-1]) / 2
    which = np.digitize(np.asarray(k), edges[1:-1])  # the bin of each pair
    labels = ["initialisation $W_0$", f"after one round, T = {T}"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for s, label, color in zip((before, after), labels, colors(2), strict=True):
        s = np.asarray(s)
        ax.scatter(k, s, s=2, alpha=0.15, color=color)
        means = [s[which == i].mean() if (which == i).any() else np.nan for i in range(bins)]
        ax.plot(centers, means, "o-", color=color, label=label)
    ax.set(
        xlabel=r"label agreement $K(M^\top x, M^\top x')$",
        ylabel=r"cosine similarity of $h(x)$ and $h(x')$",
        ylim=(-0.02, 1.02),
    )
    ax.legend(fontsize="small", loc="upper left")
    return fig


def plot_ablations(table):
    """Draw the energy fraction (left) and coverage (right) after one round against the number
    of tasks, a line per algorithm of ``STYLES``: the mean over seeds and a band of one
    standard deviation.

    ``table`` is :func:`mtrl.tidy` of the results (columns ``algorithm``, ``T``, ``energy``,
    ``coverage``, a row per seed and point).
    """
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharex=True)
    for (name, (marker, ls)), color in zip(STYLES.items(), colors(len(STYLES)), strict=True):
        rows = table[table["algorithm"] == name]
        for ax, y in zip(axes, ("energy", "coverage"), strict=True):
            style = {"marker": marker, "linestyle": ls, "markersize": 4, "color": color}
            sns.lineplot(rows, x="T", y=y, errorbar="sd", label=name, legend=False, ax=ax, **style)
    axes[0].set(xscale="log", xlabel="number of tasks $T$", ylabel="energy fraction $E(W_1)$")
    axes[1].set(xscale="log", xlabel="number of tasks $T$", ylabel=r"coverage $\sigma_r/\sigma_1$")
    axes[0].legend(fontsize="small")
    return fig
