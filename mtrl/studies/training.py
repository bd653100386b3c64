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
import torch

from ..experiments import Config, Result, run_all, sweep, tidy
from ..metrics import coverage
from ..network import features
from ..population import heuristic_leakage, rho
from ..seeds import stream
from ..tasks import TaskSet
from ..transfer import transfer_accuracy
from .reports import training as report

__all__ = [
    "budget_split",
    "budget_summary",
    "by_position",
    "clean_accuracy",
    "final_table",
    "heuristic_best_share",
    "leakage_parts",
    "matched_one_round",
    "report",
    "single_task",
    "single_task_summary",
    "sweep_summary",
    "training_summary",
    "transfer_against_steps",
    "transfer_summary",
]


def leakage_parts(result: Result) -> tuple[float, float, float]:
    """Return the leakage of ``result``'s last ``W`` split along ``W_kappa = R + B``, with
    ``R = (1 - eta_w lam)^kappa W_0`` the remainder of the initialisation and ``B`` what the steps
    added: ``||R P||^2``, ``||B P||^2`` and ``2 <R P, B P>``, each over ``||W_kappa||_F^2``, with
    ``P = I - M M^T``. They add up to the leakage."""
    c = result.config
    R = (1 - c.eta_w * c.lam) ** c.rounds * result.W_0
    B = result.W - R
    outside = [X - X @ result.M @ result.M.T for X in (R, B)]
    total = result.W.square().sum()
    parts = (
        outside[0].square().sum(),
        outside[1].square().sum(),
        2 * (outside[0] * outside[1]).sum(),
    )
    return tuple((part / total).item() for part in parts)


def clean_accuracy(result: Result, *, n_test: int = 2000) -> float:
    """Return the accuracy of ``result``'s final network (first layer and heads) against the
    clean labels (no flips) of ``n_test`` fresh samples per task, drawn from the ``test`` stream
    of its seed; for ``single_task``, of its one task."""
    A = result.A
    tasks = TaskSet(result.M, result.tasks[: len(A)], result.config.family)
    g = stream(result.config.seed, "test")
    X = torch.randn(len(A), n_test, result.M.shape[0], generator=g, dtype=result.W.dtype)
    y = tasks.labels(X @ result.M)
    outputs = torch.einsum("tnm,tm->tn", features(result.W, result.b, X), A)
    return (outputs * y > 0).double().mean().item()


def final_table(results: list[Result]):
    """Return ``mtrl.tidy(results)`` with the columns ``from_init``, ``learned`` and ``cross``
    (:func:`leakage_parts`), ``clean`` (:func:`clean_accuracy`) and ``coverage_init``, the
    coverage of ``W_0`` (the baseline of an untrained layer)."""
    parts = np.array([leakage_parts(x) for x in results]).reshape(-1, 3)
    table = tidy(results).assign(from_init=parts[:, 0], learned=parts[:, 1], cross=parts[:, 2])
    table["clean"] = [clean_accuracy(x) for x in results]
    table["coverage_init"] = [coverage(x.W_0, x.M).item() for x in results]
    return table


def matched_one_round(base: Config, *, executor=None, **grid):
    """Return the tidy table of one round of the theory (``eta_a = eta_w = lam = 1``) with the
    samples of all of ``base``'s steps, ``rounds * n1`` and ``rounds * n2`` per task, at every
    point of ``grid`` (as for :func:`mtrl.sweep`, on ``executor``)."""
    k = base.rounds
    one = base.replace(rounds=1, n1=k * base.n1, n2=k * base.n2, eta_a=1.0, eta_w=1.0, lam=1.0,
                       head_steps=1, log_every=1)  # fmt: skip
    return tidy(sweep(one, executor=executor, **grid))


def training_summary(final, matched):
    """Return the medians over the seeds, by ``T``, of the trained runs (``final``, a
    :func:`final_table`) and of one round with their samples (``matched``, suffix ``_one``),
    with ``found``: the fraction of seeds whose subspace distance is below 1/2, and ``closer``:
    the fraction of seeds (the same subspace, tasks and ``W_0``) whose trained run ends at a
    smaller subspace distance than its one round."""
    columns = ["distance", "leakage", "coverage", "accuracy", "from_init", "learned", "cross",
               "coverage_init"]  # fmt: skip
    found = [t.assign(found=t.distance < 0.5).groupby("T").found.mean() for t in (final, matched)]
    pairs = final.merge(matched, on=["T", "seed"], suffixes=("", "_one"))
    closer = (pairs.distance < pairs.distance_one).groupby(pairs["T"]).mean().rename("closer")
    one = matched.groupby("T")[columns[:3]].median().join(found[1]).add_suffix("_one")
    return final.groupby("T")[columns].median().join(found[0]).join(one).join(closer)


def by_position(table, names: dict) -> dict:
    """Return the glue ``{column}_{name}`` of the rows of ``table`` at the positions of
    ``names`` (name -> row position), so that prose does not depend on the grid's values."""
    return {f"{column}_{name}": table.iloc[i][column] for name, i in names.items()
            for column in table.columns}  # fmt: skip


def single_task(base: Config, *, families, betas, seeds, executor=None):
    """Return the tidy table, against steps, of ``base``'s ``T`` tasks and of one task with their
    samples (``single_task``), for every family and bias scale ``beta``; a column ``setting``
    names the family and the biases, ``tasks`` the number of tasks trained on, ``key`` the
    setting in short (``ha0``: halfspace without biases, ..., ``ma1``: majority with biases).
    The runs go to ``executor`` as for :func:`mtrl.sweep`."""
    grid = dict(family=list(families), beta=list(betas), seed=list(seeds))
    runs = sweep(base, algorithm=["heads_first", "single_task"], executor=executor, **grid)
    table = tidy(runs, rounds=True)
    table["tasks"] = np.where(table.algorithm == "single_task", "one task", f"{base.T} tasks")
    biases = np.where(table.beta > 0, "β = " + table.beta.astype(str), "no biases")
    table["setting"] = table.family + ", " + biases
    table["key"] = table.family.str[:2] + (table.beta > 0).astype(int).astype(str)
    return table


def single_task_summary(table):
    """Return the median, minimum and maximum over the seeds of the coverage and the distance at
    the last step, by number of tasks and setting; and their glue, ``one_ma1_distance_min``
    (one task) or ``multi_ha0_coverage_median`` (many tasks) and so on, and
    ``multi_coverage_min`` and ``multi_distance_max``, the least coverage and the largest
    distance of the many-task runs."""
    end = table[table.k == table.rounds].groupby(["tasks", "key", "setting"], sort=False)
    spread = end[["coverage", "distance"]].agg(["median", "min", "max"])
    glue = {
        f"{'one' if tasks == 'one task' else 'multi'}_{key}_{metric}_{stat}": value
        for (tasks, key, _), row in spread.iterrows()
        for (metric, stat), value in row.items()
    }
    many = spread.drop(index="one task", level="tasks")
    glue["multi_coverage_min"] = many[("coverage", "min")].min()
    glue["multi_distance_max"] = many[("distance", "max")].max()
    return spread, glue


def budget_split(base: Config, *, shares, seeds, budget: int | None = None, executor=None):
    """Return the tidy table of ``base`` with each split ``n1 + n2 = budget`` (by default
    ``base.n1 + base.n2``) of the per-task samples, ``n1`` the given ``shares`` of the budget
    (rounded, each side at least 1), with the columns ``share = n1 / budget`` and
    ``heuristic``: the book's heuristic leakage (Theorem chapter, ``mtrl.rho``) at each split
    where it applies (one round of the correlation loss with ``eta_w lam = 1``, halfspace
    tasks, no biases), else ``nan``. The runs go to ``executor`` as for :func:`mtrl.sweep`."""
    budget = base.n1 + base.n2 if budget is None else budget
    n1_values = sorted({min(budget - 1, max(1, round(s * budget))) for s in shares})
    configs = [base.replace(n1=n1, n2=budget - n1, seed=s) for n1 in n1_values for s in seeds]
    runs = run_all(configs, executor=executor)
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


def heuristic_best_share(config: Config, budget: int, points: int = 999) -> float:
    """Return the share ``n1 / budget`` that minimises the book's heuristic leakage after one
    round of ``config`` (its ``d``, ``r``, ``T`` and ``p``) with ``n1 + n2 = budget``, on a
    grid of ``points`` shares."""
    n1s = sorted({min(budget - 1, max(1, round(budget * (i + 1) / (points + 1))))
                  for i in range(points)})  # fmt: skip
    c = config
    leak = [heuristic_leakage(rho(d=c.d, r=c.r, T=c.T, n1=n1, n2=budget - n1, p=c.p)) for n1 in n1s]
    return n1s[int(np.argmin(leak))] / budget


def budget_summary(split_one, split, widths, *, heuristic_best: float):
    """Return the medians over the seeds by share of one round (``split_one``) and of training
    (``split``), and by width (``widths``); and the glue: the range of simulation over
    heuristic, the best shares on the grid (simulation; the heuristic's own on a fine grid,
    ``heuristic_best``), how much more the simulation leaks at the grid's share nearest to the
    heuristic's best than at its own best, the least and largest share whose one-round leakage
    is within 5% of the least (``split_flat_low``, ``split_flat_high``), the one round's share of
    least distance (``best_one_distance``), the trained run's best shares, and the ranges
    against the width (from its second point on; its first apart)."""
    by_share = [t.groupby("share")[["leakage", "heuristic", "distance"]].median()
                for t in (split_one, split)]  # fmt: skip
    by_width = widths.groupby("m")[["coverage", "leakage", "from_init", "distance"]].median()
    big = by_width.iloc[1:]
    ratio = by_share[0].leakage / by_share[0].heuristic
    near = min(by_share[0].index, key=lambda share: abs(share - heuristic_best))
    leak = by_share[0].leakage
    flat = leak.index[leak <= 1.05 * leak.min()]
    glue = {
        "split_near": near,
        "split_near_excess": by_share[0].leakage[near] / by_share[0].leakage.min() - 1,
        "split_ratio_low": ratio.min(), "split_ratio_high": ratio.max(),
        "split_flat_low": flat.min(), "split_flat_high": flat.max(),
        "best_one": by_share[0].leakage.idxmin(), "best_heuristic": heuristic_best,
        "best_one_distance": by_share[0].distance.idxmin(),
        "best_trained": by_share[1].leakage.idxmin(),
        "best_trained_distance": by_share[1].distance.idxmin(),
        "width_first": by_width.index[0], "width_second": big.index[0],
        "width_cov_first": by_width.coverage.iloc[0], "width_cov_min": big.coverage.min(),
        "width_cov_max": big.coverage.max(), "width_dist_min": big.distance.min(),
        "width_dist_max": big.distance.max(), "width_leak_first": big.leakage.iloc[0],
        "width_leak_last": big.leakage.iloc[-1], "width_init_last": big.from_init.iloc[-1],
    }  # fmt: skip
    return by_share, by_width, glue


def sweep_summary(table, by: str, prefix: str):
    """Return the medians over the seeds of a :func:`final_table` by the swept field ``by``
    (leakage, distance, coverage, held-out accuracy on the noisy labels and ``clean`` accuracy),
    and their glue ``{prefix}{i}_{column}`` for the ``i``-th value swept."""
    columns = ["leakage", "distance", "coverage", "accuracy", "clean"]
    medians = table.groupby(by)[columns].median()
    rows = enumerate(medians.iterrows())
    glue = {f"{prefix}{i}_{c}": value for i, (_, row) in rows for c, value in row.items()}
    return medians, glue


def transfer_against_steps(base: Config, *, dims, steps, seeds, executor=None, **probe):
    """Return a table of the mean accuracy of linear probes of new tasks (:func:`mtrl.transfer.
    transfer_accuracy` with the ``probe`` settings) on the first layer after each number of
    ``steps`` of ``base``, at each ambient dimension of ``dims`` and seed. The run of ``k``
    steps is the first ``k`` steps of every longer run (the data of a step do not depend on
    the steps after it), so each point is the same training stopped earlier. The runs go to
    ``executor`` as for :func:`mtrl.sweep`; the probes are fitted in this process."""
    runs = sweep(base, d=list(dims), rounds=list(steps), seed=list(seeds), executor=executor)
    rows = [{"d": x.config.d, "k": x.config.rounds, "seed": x.config.seed, **probe,
             "accuracy": transfer_accuracy(x, **probe)} for x in runs]  # fmt: skip
    return pd.DataFrame(rows)


def transfer_summary(table):
    """Return the median accuracy over the seeds by step (rows) and ``d`` (columns), the ratio
    at each step of the error rate at the largest ``d`` to that at the smallest, and the glue:
    ``acc_first_i`` and ``acc_last_i`` (the ``i``-th ``d`` at the first and the last step),
    ``error_ratio_first`` and ``error_ratio_last``."""
    acc = table.groupby(["k", "d"]).accuracy.median().unstack("d")
    error_ratio = (1 - acc.iloc[:, -1]) / (1 - acc.iloc[:, 0])  # largest d over smallest
    glue = {f"acc_{when}_{i}": acc.iloc[row, i]
            for when, row in (("first", 0), ("last", -1)) for i in range(acc.shape[1])}  # fmt: skip
    glue.update(error_ratio_first=error_ratio.iloc[0], error_ratio_last=error_ratio.iloc[-1])
    return acc, error_ratio, glue
