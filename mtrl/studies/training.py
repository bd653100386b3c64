"""The experiments of the Training chapter (``book/07_training.ipynb``): many rounds of small
steps (alternating minibatch SGD with fresh samples at every step) on the book's model.

``base`` is the chapter's training schedule, a :class:`mtrl.Config` with ``rounds`` steps of
``n1`` heads samples and ``n2`` representation samples per task. Each experiment returns tidy
tables; each ``*_summary`` returns the medians over the seeds that the chapter prints and checks,
and a dict of the numbers that its prose quotes (for :meth:`mtrl.book.Chapter.publish_all`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiments import Config, Result, run, sweep, tidy
from ..population import heuristic_leakage, rho
from ..transfer import transfer_accuracy

__all__ = [
    "budget_split",
    "budget_summary",
    "final_table",
    "initial_leakage",
    "matched_one_round",
    "single_task",
    "single_task_summary",
    "sweep_summary",
    "training_summary",
    "transfer_against_steps",
    "transfer_summary",
]


def initial_leakage(result: Result) -> float:
    """Return the leakage that the initialisation left after ``result``'s steps accounts for:
    ``||(1 - eta_w lam)^K W_0 (I - M M^T)||_F^2 / ||W_K||_F^2``."""
    c = result.config
    left = (1 - c.eta_w * c.lam) ** c.rounds * result.W_0
    outside = left - left @ result.M @ result.M.T
    return (outside.square().sum() / result.W.square().sum()).item()


def final_table(results: list[Result]):
    """Return ``mtrl.tidy(results)`` with the column ``from_init`` (:func:`initial_leakage`)."""
    return tidy(results).assign(from_init=[initial_leakage(x) for x in results])


def matched_one_round(base: Config, **grid):
    """Return the tidy table of one round of the theory (``eta_a = eta_w = lam = 1``) with the
    samples of all of ``base``'s steps, ``rounds * n1`` and ``rounds * n2`` per task, at every
    point of ``grid`` (as for :func:`mtrl.sweep`)."""
    k = base.rounds
    one = base.replace(rounds=1, n1=k * base.n1, n2=k * base.n2, eta_a=1.0, eta_w=1.0, lam=1.0,
                       head_steps=1, log_every=1)  # fmt: skip
    return tidy(sweep(one, **grid))


def training_summary(final, matched):
    """Return the medians over the seeds, by ``T``, of the trained runs (``final``: distance,
    leakage, coverage, accuracy, from_init) and of one round with their samples (``matched``:
    distance, leakage and coverage, with the suffix ``_one``)."""
    columns = ["distance", "leakage", "coverage", "accuracy", "from_init"]
    one = matched.groupby("T")[columns[:3]].median().add_suffix("_one")
    return final.groupby("T")[columns].median().join(one)


def single_task(base: Config, *, families, betas, seeds):
    """Return the tidy table, against steps, of ``base``'s ``T`` tasks and of one task with their
    samples (``single_task``), for every family and bias scale ``beta``; a column ``setting``
    names the family and the biases, ``tasks`` the number of tasks trained on, ``key`` the
    setting in short (``ha0``: halfspace without biases, ..., ``ma1``: majority with biases)."""
    grid = dict(family=list(families), beta=list(betas), seed=list(seeds))
    table = tidy(sweep(base, algorithm=["heads_first", "single_task"], **grid), rounds=True)
    table["tasks"] = np.where(table.algorithm == "single_task", "one task", f"{base.T} tasks")
    biases = np.where(table.beta > 0, "biases, β = " + table.beta.astype(str), "no biases")
    table["setting"] = table.family + ", " + biases
    table["key"] = table.family.str[:2] + (table.beta > 0).astype(int).astype(str)
    return table


def single_task_summary(table):
    """Return the median, minimum and maximum over the seeds of the coverage and the distance at
    the last step, by number of tasks and setting; and their glue, ``one_ma1_distance_min``
    (one task) or ``multi_ha0_coverage_median`` (many tasks) and so on, and
    ``multi_coverage_min``, the least coverage of the many-task runs."""
    end = table[table.k == table.rounds].groupby(["tasks", "key", "setting"], sort=False)
    spread = end[["coverage", "distance"]].agg(["median", "min", "max"])
    glue = {
        f"{'one' if tasks == 'one task' else 'multi'}_{key}_{metric}_{stat}": value
        for (tasks, key, _), row in spread.iterrows()
        for (metric, stat), value in row.items()
    }
    many = spread.drop(index="one task", level="tasks")
    glue["multi_coverage_min"] = many[("coverage", "min")].min()
    return spread, glue


def budget_split(base: Config, *, shares, seeds, budget: int | None = None):
    """Return the tidy table of ``base`` with each split ``n1 + n2 = budget`` (by default
    ``base.n1 + base.n2``) of the per-task samples, ``n1`` the given ``shares`` of the budget
    (rounded, each side at least 1), with the columns ``share = n1 / budget`` and
    ``heuristic``: the book's heuristic leakage (Theorem chapter, ``mtrl.rho``) at each split
    where it applies (one round of the correlation loss with ``eta_w lam = 1``, halfspace
    tasks, no biases), else ``nan``."""
    budget = base.n1 + base.n2 if budget is None else budget
    n1_values = sorted({min(budget - 1, max(1, round(s * budget))) for s in shares})
    runs = [run(base.replace(n1=n1, n2=budget - n1, seed=s)) for n1 in n1_values for s in seeds]
    table = tidy(runs)
    table["share"] = table.n1 / budget
    c = base
    theory = (c.rounds, c.loss, c.eta_w * c.lam, c.family, c.beta) == (
        1,
        "correlation",
        1.0,
        "halfspace",
        0.0,
    )
    table["heuristic"] = [
        heuristic_leakage(rho(d=c.d, r=c.r, T=c.T, n1=int(n1), n2=int(budget - n1), p=c.p))
        if theory else np.nan
        for n1 in table.n1
    ]  # fmt: skip
    return table


def budget_summary(split_one, split, widths, *, r: int):
    """Return the medians over the seeds by share of one round (``split_one``) and of training
    (``split``), and by width (``widths``, from ``2 r`` neurons on: enough for ``r``
    directions); and the glue: the range of simulation over heuristic, the best shares, and the
    ranges against the width."""
    by_share = [t.groupby("share")[["leakage", "heuristic", "distance"]].median()
                for t in (split_one, split)]  # fmt: skip
    by_width = widths.groupby("m")[["coverage", "leakage", "from_init", "distance"]].median()
    big = by_width[by_width.index >= 2 * r]
    ratio = by_share[0].leakage / by_share[0].heuristic
    glue = {
        "split_ratio_low": ratio.min(), "split_ratio_high": ratio.max(),
        "best_one": by_share[0].leakage.idxmin(), "best_heuristic": by_share[0].heuristic.idxmin(),
        "best_trained": by_share[1].leakage.idxmin(),
        "best_trained_distance": by_share[1].distance.idxmin(),
        "width_first": big.index[0], "width_cov_min": big.coverage.min(),
        "width_cov_max": big.coverage.max(), "width_dist_min": big.distance.min(),
        "width_dist_max": big.distance.max(), "width_leak_first": big.leakage.iloc[0],
        "width_leak_last": big.leakage.iloc[-1], "width_init_last": big.from_init.iloc[-1],
    }  # fmt: skip
    return by_share, big, glue


def sweep_summary(table, by: str, prefix: str):
    """Return the medians over the seeds of a tidy table by the swept field ``by`` (leakage,
    distance, coverage, held-out accuracy and ``clean``: the accuracy on the clean labels,
    ``(accuracy - p) / (1 - 2p)``), and their glue ``{prefix}{i}_{column}`` for the ``i``-th
    value swept."""
    table = table.assign(clean=(table.accuracy - table.p) / (1 - 2 * table.p))
    columns = ["leakage", "distance", "coverage", "accuracy", "clean"]
    medians = table.groupby(by)[columns].median()
    rows = enumerate(medians.iterrows())
    glue = {f"{prefix}{i}_{c}": value for i, (_, row) in rows for c, value in row.items()}
    return medians, glue


def transfer_against_steps(base: Config, *, dims, steps, seeds, **probe):
    """Return a table of the mean accuracy of linear probes of new tasks (:func:`mtrl.transfer.
    transfer_accuracy` with the ``probe`` settings) on the first layer after each number of
    ``steps`` of ``base``, at each ambient dimension of ``dims`` and seed. The run of ``k``
    steps is the first ``k`` steps of every longer run (the data of a step do not depend on
    the steps after it), so each point is the same training stopped earlier."""
    rows = []
    for d in dims:
        for k in steps:
            for s in seeds:
                result = run(base.replace(d=d, rounds=k, seed=s))
                rows.append({"d": d, "k": k, "seed": s, **probe,
                             "accuracy": transfer_accuracy(result, **probe)})  # fmt: skip
    return pd.DataFrame(rows)


def transfer_summary(table):
    """Return the median accuracy over the seeds by step (rows) and ``d`` (columns), its spread
    across ``d`` at each step, and the glue: ``acc_first_i`` and ``acc_last_i`` (the ``i``-th
    ``d`` at the first and the last step), ``spread_first`` and ``spread_last``."""
    acc = table.groupby(["k", "d"]).accuracy.median().unstack("d")
    spread = acc.max(axis=1) - acc.min(axis=1)
    glue = {f"acc_{when}_{i}": acc.iloc[row, i]
            for when, row in (("first", 0), ("last", -1)) for i in range(acc.shape[1])}  # fmt: skip
    glue.update(spread_first=spread.iloc[0], spread_last=spread.iloc[-1])
    return acc, spread, glue
