"""The figures of the Training chapter (``book/07_training.ipynb``): the metrics of the first
layer against the training step for several numbers of tasks, the final subspace distance
against ``T``, the loss and accuracy (a sanity row), one task against many, the split of a
budget and the width, label noise and biases, and transfer against steps.

Each function takes tidy tables (:func:`mtrl.tidy`, ``rounds=True`` for curves against the
step ``k``; or the tables of :mod:`mtrl.studies.training`) and returns a matplotlib figure.
Curves show the median over seeds and a band from their minimum to their maximum.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from . import colors, log_ticks, seed_band

__all__ = ["budget", "curves", "final_distance", "noise_and_biases", "sanity", "single_task",
           "transfer"]  # fmt: skip

_STEP = "training step $k$"
_LABELS = {
    "distance": "subspace distance",
    "energy": r"energy fraction $E(W_k)$",
    "coverage": r"coverage $\sigma_r/\sigma_1$",
    "leakage": r"leakage $1 - E(W_k)$",
    "loss": "held-out loss",
    "accuracy": "held-out accuracy",
}


def _against_steps(table, metrics, hue, *, width=4.0, palette=None, **kwargs):
    """One panel per metric against the step ``k`` (log axis, from the first logged step)."""
    data = table[table.k > 0]
    palette = palette or colors(data[hue].nunique())
    fig, axes = plt.subplots(1, len(metrics), figsize=(width * len(metrics), 3.6), sharex=True)
    for ax, metric in zip(axes, metrics, strict=True):
        seed_band(ax, data, x="k", y=metric, hue=hue, palette=palette, marker=None,
                  legend=ax is axes[0], **kwargs)  # fmt: skip
        ax.set(xscale="log", xlabel=_STEP, ylabel=_LABELS[metric])
    return fig, axes


def curves(table):
    """Subspace distance (log), energy fraction and coverage against the step, one colour per
    number of tasks ``T``. ``table``: ``mtrl.tidy(results, rounds=True)``."""
    data = table.assign(tasks="T = " + table["T"].astype(str))
    fig, axes = _against_steps(data, ["distance", "energy", "coverage"], "tasks")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize="small")
    return fig


def final_distance(trained, matched):
    """The subspace distance and the leakage after the last step against ``T`` (log-log), and
    those of one round with the samples of all the steps. ``trained``, ``matched``: tidy
    tables, a row per ``T`` and seed."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8), sharex=True)
    c1, c2 = colors(2)
    last = int(trained.rounds.iloc[0])
    for ax, metric in zip(axes, ["distance", "leakage"], strict=True):
        seed_band(ax, trained, x="T", y=metric, color=c1, label=f"{last} small steps")
        seed_band(ax, matched, x="T", y=metric, color=c2, marker="s", linestyle="--",
                  label=f"one round with {last}x the samples")  # fmt: skip
        ax.set(yscale="log", xlabel="number of tasks $T$", ylabel=_LABELS[metric])
        log_ticks(ax, sorted(trained["T"].unique()))
    axes[0].legend(fontsize="small")
    return fig


def sanity(table):
    """The held-out loss and accuracy of the training steps against the step, one colour per
    ``T``. ``table``: ``mtrl.tidy(results, rounds=True)``."""
    data = table.assign(tasks="T = " + table["T"].astype(str))
    fig, axes = _against_steps(data, ["loss", "accuracy"], "tasks", width=4.8)
    axes[0].set_yscale("log")
    axes[0].legend(fontsize="small")
    return fig


def single_task(table):
    """Coverage and subspace distance against the step: each setting (family and biases) one
    colour, its ``T`` tasks solid and one task with their samples dashed. ``table``: from
    :func:`mtrl.studies.training.single_task`."""
    dashes = {t: "" if t.endswith("tasks") else (4, 2) for t in table.tasks.unique()}
    fig, axes = _against_steps(table, ["coverage", "distance"], "setting", width=5.0,
                               style="tasks", dashes=dashes)  # fmt: skip
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].get_legend().remove()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize="small")
    return fig


def budget(one_round, trained, widths):
    """Left: the leakage after one round against the share ``n1 / (n1 + n2)`` of a fixed
    per-task budget, with the book's heuristic; middle: the same for the trained layer, with
    its subspace distance; right: coverage and leakage of the trained layer against the width
    ``m``. Tables from :func:`mtrl.studies.training.budget_split` and ``mtrl.tidy``."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    c1, c2, c3 = colors(3)
    ax = axes[0]
    seed_band(ax, one_round, x="share", y="leakage", color=c1, label="simulation")
    heuristic = one_round.groupby("share").heuristic.first()
    ax.plot(heuristic.index, heuristic, "k--", lw=1, label=r"heuristic $\rho/(1+\rho)$")
    budget_one = int(one_round.n1.iloc[0] + one_round.n2.iloc[0])
    ax.set(yscale="log", xlabel=r"share $n_1/(n_1 + n_2)$", ylabel=r"leakage $1 - E(W_1)$",
           title=f"one round, $n_1 + n_2$ = {budget_one}")  # fmt: skip
    ax.legend(fontsize="small")
    ax = axes[1]
    seed_band(ax, trained, x="share", y="leakage", color=c1, label="leakage")
    seed_band(ax, trained, x="share", y="distance", color=c3, marker="s", label="distance")
    budget_step = int(trained.n1.iloc[0] + trained.n2.iloc[0])
    ax.set(yscale="log", xlabel=r"share $n_1/(n_1 + n_2)$", ylabel="after the last step",
           title=f"trained, $n_1 + n_2$ = {budget_step} per step")  # fmt: skip
    ax.legend(fontsize="small")
    ax = axes[2]
    seed_band(ax, widths, x="m", y="coverage", color=c2, label="coverage")
    seed_band(ax, widths, x="m", y="leakage", color=c1, label="leakage")
    ax.set(xlabel="width $m$", ylabel="after the last step", title="trained, against the width")
    log_ticks(ax, sorted(widths.m.unique()))
    ax.legend(fontsize="small")
    return fig


def noise_and_biases(noise, biases):
    """Leakage, subspace distance and coverage after the last step against the label-noise
    rate ``p`` (left) and the bias scale ``beta`` (right). Tidy tables, a row per point and
    seed."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    for ax, table, x, label in ((axes[0], noise, "p", "label-noise rate $p$"),
                                (axes[1], biases, "beta", r"bias scale $\beta$")):  # fmt: skip
        for metric, color in zip(["leakage", "distance", "coverage"], colors(3), strict=True):
            seed_band(ax, table, x=x, y=metric, color=color, label=metric)
        ax.set(xlabel=label, ylabel="after the last step", ylim=(0, 1))
    axes[0].legend(fontsize="small")
    return fig


def transfer(table):
    """The accuracy of linear probes of new tasks on the first layer after ``k`` steps, against
    ``k`` (``k = 0``: the initialisation, shown at the left edge), one colour per ambient
    dimension ``d``. ``table``: from :func:`mtrl.studies.training.transfer_against_steps`."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    data = table.assign(dimension="d = " + table.d.astype(str))
    seed_band(ax, data, x="k", y="accuracy", hue="dimension", palette=colors(data.d.nunique()))
    ax.set_xscale("symlog", linthresh=max(1, int(data.k[data.k > 0].min())))
    steps = sorted(data.k.unique())
    ax.set_xticks(steps, [str(k) for k in steps])
    ax.set_xlim(0, 1.2 * steps[-1])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set(xlabel=f"{_STEP} (0: the initialisation)", ylabel="probe accuracy on new tasks")
    ax.legend(fontsize="small")
    return fig
