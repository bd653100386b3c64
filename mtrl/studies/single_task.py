"""The experiments of the Single-task chapter (``book/04_single_task.ipynb``): one task against
many at the same total sample budget, after one round."""

from __future__ import annotations

from ..experiments import Config, run_all, tidy
from ..population import linear_coefficient
from ..seeds import stream

__all__ = ["budget_runs", "draw_runs", "settings", "tabulate"]


def settings(base: Config, T: int) -> dict:
    """Return the chapter's settings, name -> (config, number of tasks sharing the budget): one
    halfspace task, one majority task, ``T`` halfspace tasks, random fixed heads on them, and
    random features (``W = W_0``)."""
    return {
        "one halfspace task": (base, 1),
        "one majority task": (base.replace(family="majority"), 1),
        f"{T} halfspace tasks": (base.replace(T=T), T),
        f"random heads, {T} tasks": (base.replace(T=T, algorithm="random_heads"), T),
        "random features": (base.replace(T=T, algorithm="random_features"), T),
    }


def budget_runs(settings: dict, budgets, seeds) -> dict:
    """Return name -> the runs of each setting at every total budget ``N`` and seed, the ``k``
    tasks of a setting sharing ``N``: ``n1 = n2 = N // k``."""
    configs = {name: [c.replace(n1=N // k, n2=N // k, seed=s) for N in budgets for s in seeds]
               for name, (c, k) in settings.items()}  # fmt: skip
    runs = iter(run_all(c for group in configs.values() for c in group))  # on one executor
    return {name: [next(runs) for _ in group] for name, group in configs.items()}


def draw_runs(settings: dict, budget: int, seeds) -> dict:
    """Return name -> the runs of each setting at the total ``budget``, one per seed (a draw)."""
    return budget_runs(settings, [budget], seeds)


def tabulate(runs: dict, *, seed: int):
    """Return one tidy table of ``{setting: results}`` with the columns ``N = T n1``,
    ``setting``, ``noise`` (eq-single-noise, ``1 / (||v|| sqrt(n2))``, for one task only, with
    ``v = E[f(z) z]`` of each task by Monte Carlo, 20 000 points of the ``tasks`` stream of
    ``seed``) and ``ratio = coverage / noise``."""
    xs = [x for name in runs for x in runs[name]]
    table = tidy(xs).eval("N = T * n1")
    mc = dict(samples=20000, generator=stream(seed, "tasks"))
    v = [linear_coefficient(x.config.family, x.tasks[0], **mc).norm().item() for x in xs]
    table["setting"] = [name for name in runs for _ in runs[name]]
    table["noise"] = (table.n2**-0.5 / v).where(table["T"] == 1)
    return table.eval("ratio = coverage / noise")
