"""The experiments of the Theorem chapter (``book/03_theorem.ipynb``): one round of the book's
algorithm against its population limit, the leakage against the number of tasks beside the
book's heuristic, the data collapse on ``rho`` and the variants that leave it, the copy of the
initialisation by even tasks, the coverage against ``T``, and several rounds.

``base`` is the chapter's base configuration: one round of halfspace tasks without biases,
``eta_a = eta_w = lam = 1``. Each experiment returns tidy tables (:func:`mtrl.tidy`, a row per
run); each ``*_summary`` returns the means over the seeds that the chapter prints and checks,
and a dict of the numbers that its prose quotes (for :meth:`mtrl.book.Chapter.publish_all`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..experiments import Config, Result, run_all, sweep, tidy
from ..metrics import coverage
from ..population import copy_coefficient, expected_energy, heuristic_leakage, population_W1, rho
from ..tasks import label_kernel
from .reports import theorem as report

__all__ = [
    "collapse",
    "collapse_summary",
    "coverage_against_T",
    "coverage_summary",
    "even_task_copy",
    "leakage_summary",
    "one_round",
    "population_approach",
    "population_limits",
    "population_summary",
    "report",
    "rounds_log_gaps",
    "rounds_population",
    "rounds_summary",
    "several_rounds",
    "variants",
    "variants_summary",
]


def population_limits(results: list[Result]):
    """Return the population ``W_1`` (:func:`mtrl.population_W1`, ``eta_a = eta_w = 1``) for the
    ``W_0``, ``M`` and tasks of each of ``results``."""
    return [population_W1(x.W_0, x.M, x.tasks, eta_a=1.0, eta_w=1.0) for x in results]


def population_approach(population: Config, *, n, seeds):
    """Return the tidy table of one round of ``population`` with ``n1 = n2`` each value of
    ``n``, at every seed, with the column ``error``: the relative Frobenius distance between the
    simulated ``W_1`` and its population limit (:func:`population_limits`)."""
    runs = run_all(population.replace(n1=k, n2=k, seed=s) for k in n for s in seeds)
    table = tidy(runs)
    limits = zip(runs, population_limits(runs), strict=True)
    table["error"] = [((x.W - W).norm() / W.norm()).item() for x, W in limits]
    return table


def population_summary(table):
    """Return the mean ``error`` over the seeds by ``n1``; the slope of its log against
    ``log n1``, fitted over the larger half of the ``n1`` (the asymptotic regime); and the
    first ``n1`` of that half."""
    error = table.groupby("n1").error.mean()
    upper = error.iloc[len(error) // 2 :]
    slope = np.polyfit(np.log(upper.index), np.log(upper), 1)[0]
    return error, slope, upper.index[0]


def leakage_summary(table, *, T_from: int = 30):
    """Return a row per ambient dimension ``d`` of the tidy table (in its order): the mean
    leakage over the seeds at the largest ``T`` and the book's heuristic there, and the slopes
    against ``T`` (log-log, over ``T >= T_from``) of the odds ``leakage / (1 - leakage)`` (mean
    over the seeds: ``slope``) and of the heuristic's odds ``rho`` (``heuristic_slope``); and the
    glue ``slope_min``, ``slope_max``, ``heur_slope_min`` and ``heur_slope_max``."""
    table = table.assign(odds=table.leakage / (1 - table.leakage))  # leakage = rho/(1+rho) => rho
    mean = table.groupby(["d", "T"], sort=False)[["leakage", "odds"]].mean().reset_index()
    rows = {}
    for dim, g in mean.groupby("d", sort=False):
        c = table[table.d == dim].iloc[0]
        shape = dict(d=dim, r=int(c.r), n1=int(c.n1), n2=int(c.n2))
        big = g[g["T"] >= T_from]
        own = [rho(**shape, T=t) for t in big["T"]]  # odds of the heuristic
        rows[dim] = {
            "leakage": g.leakage.iloc[-1],
            "heuristic": heuristic_leakage(rho(**shape, T=int(g["T"].iloc[-1]))),
            "slope": np.polyfit(np.log(big["T"]), np.log(big.odds), 1)[0],
            "heuristic_slope": np.polyfit(np.log(big["T"]), np.log(own), 1)[0],
        }
    fits = pd.DataFrame.from_dict(rows, orient="index").rename_axis("d")
    glue = {"slope_min": fits.slope.min(), "slope_max": fits.slope.max(),
            "heur_slope_min": fits.heuristic_slope.min(),
            "heur_slope_max": fits.heuristic_slope.max()}  # fmt: skip
    return fits, glue


def one_round(configs, *, T, seeds):
    """Return the runs of every config of ``configs`` at every ``T`` and seed (in this order)
    and their tidy table with the columns ``rho`` (:func:`mtrl.rho`, with the label noise ``p``)
    and ``heuristic`` (:func:`mtrl.heuristic_leakage` of it)."""
    runs = run_all(c.replace(T=t, seed=s) for c in configs for t in T for s in seeds)
    table = tidy(runs)
    odds = [rho(d=x.d, r=x.r, T=x.T, n1=x.n1, n2=x.n2, p=x.p) for x in table.itertuples()]
    return runs, table.assign(rho=odds, heuristic=heuristic_leakage(np.array(odds)))


def collapse(base: Config, shapes, *, T, seeds):
    """Return the table of :func:`one_round` of ``base`` with each ``(d, r, n1, n2)`` of
    ``shapes``, with the column ``exact``: the leakage of the exact ratio of expectations of
    ``prop-moments`` (:func:`mtrl.expected_energy`) for the same ``W_0`` and tasks."""
    configs = [base.replace(d=a, r=b, n1=c, n2=e) for a, b, c, e in shapes]
    runs, table = one_round(configs, T=T, seeds=seeds)
    table["exact"] = [  # 1 - E||W_1 M||^2 / E||W_1||^2
        expected_energy(x.W_0, x.M, x.tasks, n1=x.config.n1, n2=x.config.n2).leakage.item()
        for x in runs
    ]
    return table


def collapse_summary(table, *, rho_max: float = 0.1):
    """Return the means over the seeds of the :func:`collapse` table by ``(d, r, n1, n2, T)``,
    with the columns ``ratio`` (simulation over heuristic), ``to_exact`` (simulation over exact)
    and ``ok`` (``rho <= rho_max``: the regime of a leading-order heuristic); and the glue:
    ``collapse_low`` and ``collapse_high`` (the range of ``ratio`` where ``ok``),
    ``collapse_min_all`` and ``collapse_max_all`` (everywhere), ``collapse_exact_low`` and
    ``collapse_exact_high`` (of ``to_exact``), and ``collapse_worst_txt``, the point
    ``d, r, n1, n2, T`` of the lowest ``ratio``."""
    points = table.groupby(["d", "r", "n1", "n2", "T"], sort=False).mean(numeric_only=True)
    ratio, to_exact = points.leakage / points.heuristic, points.leakage / points.exact
    points = points.assign(ratio=ratio, to_exact=to_exact, ok=points.rho <= rho_max)
    good = ratio[points.ok]
    glue = {"collapse_low": good.min(), "collapse_high": good.max(),
            "collapse_min_all": ratio.min(), "collapse_max_all": ratio.max(),
            "collapse_exact_low": to_exact.min(), "collapse_exact_high": to_exact.max(),
            "collapse_worst_txt": ", ".join(str(int(v)) for v in ratio.idxmin())}  # fmt: skip
    return points, glue


def variants(base: Config, *, T, seeds):
    """Return the runs and the table of :func:`one_round` of ``base`` with one change at a time
    (none, the logistic loss, biases of ``3 tau``, label noise ``p = 0.2``, majority tasks, xor
    tasks), with the columns ``key`` (``base``, ``logistic``, ``biases``, ``noise``,
    ``majority``, ``xor``) and ``variant``, its label."""
    changes = {  # key: (label, change)
        "base": (f"base: halfspace, {base.loss} loss", {}),
        "logistic": ("logistic loss", dict(loss="logistic")),
        "biases": ("biases, beta = 3 tau", dict(beta=3 * base.tau)),
        "noise": ("label noise p = 0.2", dict(p=0.2)),
        "majority": ("majority tasks", dict(family="majority")),
        "xor": ("xor tasks", dict(family="xor")),
    }
    runs, table = one_round([base.replace(**c) for _, c in changes.values()], T=T, seeds=seeds)
    each = len(T) * len(seeds)
    table["key"] = np.repeat(list(changes), each)
    table["variant"] = np.repeat([label for label, _ in changes.values()], each)
    return runs, table


def variants_summary(table):
    """Return a row per variant of the :func:`variants` table (by ``key``) at the largest ``T``:
    its ``label``, the mean ``leakage`` over the seeds, their ``low`` and ``high``, the
    ``heuristic`` (the same for every seed) and ``on_curve``, the mean leakage over the mean
    heuristic; the glue ``variant_{key}`` (the mean leakage there); and the glue of the biases
    against the base: ``bias_low`` and ``bias_high``, the range over ``T >= 100`` of the ratio of
    their mean leakages, and ``bias_slope``, the slope of the biases' mean leakage over the last
    three ``T`` (log-log)."""
    at_max = table[table["T"] == table["T"].max()].groupby("key", sort=False)
    leakage = at_max.leakage
    rows = pd.DataFrame({"label": at_max.variant.first(), "leakage": leakage.mean(),
                         "low": leakage.min(), "high": leakage.max(),
                         "heuristic": at_max.heuristic.first(),
                         "on_curve": leakage.mean() / at_max.heuristic.mean()})  # fmt: skip
    glue = {f"variant_{key}": value for key, value in rows.leakage.items()}
    by_T = table.groupby(["key", "T"], sort=False).leakage.mean()  # over seeds
    bias, plain = by_T["biases"], by_T["base"]
    excess = (bias / plain)[bias.index >= 100]
    slope = np.polyfit(np.log(bias.index[-3:]), np.log(bias.iloc[-3:]), 1)[0]
    return rows, glue, {"bias_low": excess.min(), "bias_high": excess.max(), "bias_slope": slope}


def even_task_copy(runs: list[Result], *, T: int):
    """Return, for each xor run of ``runs`` with ``T`` tasks, the median over the rows of the
    cosine between ``W_1`` and ``W_0``, and the fitted ``c = <W_1, W_0> / ||W_0||_F^2`` over the
    ``c`` of ``prop-even-task`` (:func:`mtrl.copy_coefficient` of the halfspace kernel at the
    two directions of each task, ``eta_a = eta_w = 1``): two arrays; and the glue
    ``xor_cos_min`` (the least cosine), ``xor_c_low`` and ``xor_c_high`` (the range of the
    ratio)."""
    copy = []
    for x in runs:
        if x.config.family != "xor" or x.config.T != T:
            continue
        means = label_kernel("halfspace", x.tasks[:, 0], x.tasks[:, 1])
        c = copy_coefficient(means, eta_a=1.0, eta_w=1.0)
        cosine = torch.nn.functional.cosine_similarity(x.W, x.W_0, dim=1).median().item()
        copy.append((cosine, ((x.W * x.W_0).sum() / (x.W_0**2).sum()).item() / c))
    cosines, ratios = np.array(copy).T
    glue = {"xor_cos_min": cosines.min(), "xor_c_low": ratios.min(), "xor_c_high": ratios.max()}
    return cosines, ratios, glue


def coverage_against_T(base: Config, *, T, seeds):
    """Return the tidy table of one round of ``base`` at every ``T`` and seed, with the column
    ``coverage_pop``: the coverage of its population limit (:func:`population_limits`)."""
    runs = sweep(base, T=T, seed=seeds)
    table = tidy(runs)
    limits = zip(runs, population_limits(runs), strict=True)
    table["coverage_pop"] = [coverage(W, x.M).item() for x, W in limits]
    return table


def coverage_summary(table):
    """Return the means over the seeds by ``T`` of ``coverage``, ``coverage_pop`` and
    ``distance``, and the glue ``cover_T1``, ``cover_Tmax``, ``cover_pop_Tmax``, ``dist_Tmax``
    and ``dist_T1`` (at the first and the last ``T``)."""
    mean = table.groupby("T")[["coverage", "coverage_pop", "distance"]].mean()
    glue = {"cover_T1": mean.coverage.iloc[0], "cover_Tmax": mean.coverage.iloc[-1],
            "cover_pop_Tmax": mean.coverage_pop.iloc[-1], "dist_Tmax": mean.distance.iloc[-1],
            "dist_T1": mean.distance.iloc[0]}  # fmt: skip
    return mean, glue


def several_rounds(base: Config, *, rounds: int, T, lams, seeds):
    """Return the tidy table by round (``mtrl.tidy(..., rounds=True)``) of ``rounds`` rounds of
    ``base`` at every ``T``, weight decay ``lam`` of ``lams`` and seed, and of ``rounds`` rounds
    with ``reset_heads`` at ``base``'s ``lam``, with the column ``population``
    (:func:`rounds_population`; ``nan`` where ``eta_w lam != 1``); and the tidy table of one
    round with ``rounds`` times ``base``'s ``n1`` and ``n2`` (the same samples in all) at every
    ``T`` and seed."""
    several = sweep(base.replace(rounds=rounds), T=T, lam=list(lams), seed=seeds)
    reset = sweep(base.replace(rounds=rounds, reset_heads=True), T=T, seed=seeds)
    matched = sweep(base.replace(n1=rounds * base.n1, n2=rounds * base.n2), T=T, seed=seeds)
    runs = several + reset
    population = [rounds_population(x) for x in runs if x.config.eta_w * x.config.lam == 1]
    keys = ["T", "seed", "k", "lam", "reset_heads"]
    return tidy(runs, rounds=True).merge(pd.concat(population), on=keys, how="left"), tidy(matched)


def rounds_population(result) -> pd.DataFrame:
    """Return the coverage of the population limit of ``result``'s rounds (``prop-reset-rounds``,
    ``eta_w lam = 1``) after ``k = 0, ..., rounds`` rounds: the population round
    (:func:`mtrl.population_W1`) applied to the last first layer with ``reset_heads``, and to
    the sum of all the first layers so far (the heads carried) otherwise; label noise ``p``
    multiplies ``c`` by ``(1 - 2p)^2``. Columns ``T``, ``seed``, ``k``, ``lam``, ``reset_heads``
    and ``population``."""
    c, M = result.config, result.M
    W = total = result.W_0  # the first layer after k rounds, and the sum of those so far
    eta_a = c.eta_a * (1 - 2 * c.p) ** 2  # label flips scale every head and gradient by 1 - 2p
    rows = []
    for k in range(c.rounds + 1):
        rows.append((c.T, c.seed, k, c.lam, c.reset_heads, coverage(W, M).item()))
        W = population_W1(W if c.reset_heads else total, M, result.tasks, eta_a=eta_a,
                          eta_w=c.eta_w)  # fmt: skip
        total = total + W
    return pd.DataFrame(rows, columns=["T", "seed", "k", "lam", "reset_heads", "population"])


def rounds_log_gaps(by_round, *, T: int):
    """Return the gaps ``log coverage - log population`` of the rounds at ``T``, ``eta_w lam = 1``
    (a row per ``(reset_heads, seed)``, a column per round ``k >= 1``) and the half-steps
    ``|log population_k - log population_{k-1}| / 2``: a run whose gap is below the half-step
    is closer to round ``k``'s population limit than to round ``k - 1``'s."""
    runs = by_round[(by_round["T"] == T) & (by_round.lam == 1.0)]
    wide = runs.pivot_table(index=["reset_heads", "seed"], columns="k",
                            values=["coverage", "population"])  # fmt: skip
    log_limit = np.log(wide.population)
    half_step = log_limit.diff(axis=1).abs().drop(columns=0) / 2
    return (np.log(wide.coverage) - log_limit).drop(columns=0), half_step


def rounds_summary(by_round, matched, *, T_few: int, T_many: int):
    """Return the means over the seeds of energy, coverage and distance of the
    :func:`several_rounds` tables at ``T_few`` (``where = "few"``) and ``T_many`` (``"max"``),
    a row per ``(where, key)`` with the columns ``T`` and ``label``: ``one`` (after one round,
    ``lam = 1``), ``full`` (after the last round, ``lam = 1``), ``half`` (after the last round,
    ``lam = 1/2``), ``reset`` (after the last round with ``reset_heads``) and ``matched`` (one
    round with the samples of all rounds), with ``population``, the mean coverage of the
    population limit, in the rows ``one``, ``full`` and ``reset``; and the glue
    ``rounds_{where}_{key}_{metric}`` (``population`` too, where there is one), the largest
    absolute :func:`rounds_log_gaps` ``rounds_{where}_gap_max``, that after one round
    ``rounds_{where}_gap_first`` and that of the reset runs ``rounds_{where}_gap_reset``,
    then ``T_few_txt`` and ``T_many_txt``."""
    metrics, nan = ["energy", "coverage", "distance"], float("nan")
    carried, reset = by_round[~by_round.reset_heads], by_round[by_round.reset_heads]
    mean = carried.groupby(["T", "lam", "k"])[metrics].mean()
    reset_mean = reset.groupby(["T", "k"])[[*metrics, "population"]].mean()
    carried_population = carried[carried.lam == 1.0].groupby(["T", "k"]).population.mean()
    budget, last = matched.groupby("T")[metrics].mean(), int(by_round.k.max())
    rows, glue = [], {"T_few_txt": str(T_few), "T_many_txt": str(T_many)}
    for where, t in ("few", T_few), ("max", T_many):
        gap = rounds_log_gaps(by_round, T=t)[0].abs()  # rows (reset_heads, seed), columns k
        glue |= {f"rounds_{where}_gap_max": gap.values.max(), f"rounds_{where}_gap_first":
                 gap[1].max(), f"rounds_{where}_gap_reset": gap.loc[True].values.max()}  # fmt: skip
        cases = {  # key -> (means, label, mean coverage of the population limit)
            "one": (mean.loc[t, 1.0, 1], "1 round", carried_population.loc[t, 1]),
            "full": (mean.loc[t, 1.0, last], f"{last} rounds, eta_w lam = 1",
                     carried_population.loc[t, last]),
            "half": (mean.loc[t, 0.5, last], f"{last} rounds, eta_w lam = 1/2", nan),
            "reset": (reset_mean.loc[t, last], f"{last} rounds, heads reset",
                      reset_mean.loc[t, last].population),
            "matched": (budget.loc[t], f"1 round, {last}x samples", nan),
        }  # fmt: skip
        rows += [{"where": where, "key": key, "T": t, "label": label, **row[metrics],
                  "population": population}
                 for key, (row, label, population) in cases.items()]  # fmt: skip
    rows = pd.DataFrame(rows).set_index(["where", "key"])
    glue |= {f"rounds_{where}_{key}_{metric}": value for (where, key), row in rows.iterrows()
             for metric, value in row[[*metrics, "population"]].dropna().items()}  # fmt: skip
    return rows, glue
