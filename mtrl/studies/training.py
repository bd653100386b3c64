"""The experiments of the Training chapter (``book/07_training.ipynb``): many rounds of small
steps (alternating minibatch SGD with fresh samples at every step) on the book's model.

``base`` is the chapter's training schedule, a :class:`mtrl.Config` with ``rounds`` steps of
``n1`` heads samples and ``n2`` representation samples per task.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiments import Config, run, sweep, tidy
from ..population import heuristic_leakage, rho
from ..transfer import transfer_accuracy

__all__ = [
    "budget_split",
    "initial_leakage",
    "matched_one_round",
    "single_task",
    "transfer_against_steps",
]


def matched_one_round(base: Config, **grid):
    """Return the tidy table of one round of the theory (``eta_a = eta_w = lam = 1``) with the
    samples of all of ``base``'s steps, ``rounds * n1`` and ``rounds * n2`` per task, at every
    point of ``grid`` (as for :func:`mtrl.sweep`)."""
    k = base.rounds
    one = base.replace(rounds=1, n1=k * base.n1, n2=k * base.n2, eta_a=1.0, eta_w=1.0, lam=1.0,
                       head_steps=1, log_every=1)  # fmt: skip
    return tidy(sweep(one, **grid))


def single_task(base: Config, *, families, betas, seeds):
    """Return the tidy table, against steps, of ``base``'s ``T`` tasks and of one task with their
    samples (``single_task``), for every family and bias scale ``beta``; a column ``setting``
    names the family and the biases, ``tasks`` the number of tasks trained on."""
    grid = dict(family=list(families), beta=list(betas), seed=list(seeds))
    table = tidy(sweep(base, algorithm=["heads_first", "single_task"], **grid), rounds=True)
    table["tasks"] = np.where(table.algorithm == "single_task", "one task", f"{base.T} tasks")
    biases = np.where(table.beta > 0, "biases, β = " + table.beta.astype(str), "no biases")
    table["setting"] = table.family + ", " + biases
    return table


def budget_split(base: Config, *, n1_values, seeds, budget: int | None = None):
    """Return the tidy table of ``base`` with each split ``n1 + n2 = budget`` (by default
    ``base.n1 + base.n2``) of the per-task samples, with the columns ``share = n1 / budget`` and
    ``heuristic``: the book's heuristic leakage (Theorem chapter, ``mtrl.rho``) at each split
    where it applies (one round of the correlation loss with ``eta_w lam = 1``, halfspace
    tasks, no biases), else ``nan``."""
    budget = base.n1 + base.n2 if budget is None else budget
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
        if theory
        else np.nan
        for n1 in table.n1
    ]
    return table


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


def initial_leakage(result) -> float:
    """Return the leakage that the initialisation left after ``result``'s steps accounts for:
    ``||(1 - eta_w lam)^K W_0 (I - M M^T)||_F^2 / ||W_K||_F^2``."""
    c = result.config
    left = (1 - c.eta_w * c.lam) ** c.rounds * result.W_0
    outside = left - left @ result.M @ result.M.T
    return (outside.square().sum() / result.W.square().sum()).item()
