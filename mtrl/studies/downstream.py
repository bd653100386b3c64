"""The experiments of the Downstream chapter (``book/05_downstream.ipynb``): linear probes of new
tasks on a frozen first layer (multi-task pretraining, random features, one task) against the
ambient dimension, the number of probe samples and the width, and with re-sampled biases.

Every representation comes from one round with the correlation loss (the chapter's ``base``
config). :func:`pretraining` gives the config of each ``(representation, d, seed)``;
:class:`Representations` runs them and evaluates the probes; each experiment returns a tidy
table; each ``*_summary`` returns the medians (or means) over the seeds that the chapter prints
and checks, and a dict of the numbers that its prose quotes (for
:meth:`mtrl.book.Chapter.publish_all`).
"""

from __future__ import annotations

import numpy as np

from ..experiments import Config, Result, run_all
from ..population import heuristic_leakage, rho
from ..transfer import needed_width, transfer_table, width_table as ridge_width_table
from .reports import WIDTH

__all__ = [
    "BIAS_CURVES",
    "D_CURVES",
    "D_KEYS",
    "Representations",
    "against_d",
    "against_n",
    "bias_summary",
    "bias_text",
    "biases",
    "d_summary",
    "n_summary",
    "pretraining",
    "width_summary",
    "width_table",
]

D_CURVES = {  # curve -> representation, downstream options
    "multi-task (T ∝ d), halfspace": ("multi-task", {}),
    "multi-task (fixed T), halfspace": ("multi-task, fixed T", {}),
    "multi-task (T ∝ d), majority": ("multi-task", {"family": "majority"}),
    "random features, halfspace": ("random features", {}),
    "random features, majority": ("random features", {"family": "majority"}),
    "single task, new halfspace": ("single task", {}),
    "single task, orthogonal halfspace": ("single task", {"orthogonal": True}),
}
# the short name of each curve of D_CURVES, in the names of its glue
D_KEYS = dict(zip(D_CURVES, "multi fixed multi_maj rf rf_maj single ortho".split(), strict=True))

BIAS_CURVES = {  # (representation, new tasks, biases) -> representation, downstream options
    (name, family, b): (name, {"family": family, "resample_bias": b == "re-sampled"})
    for name in ("multi-task", "random features")
    for family in ("halfspace", "majority", "xor")
    for b in ("kept", "re-sampled")
}


def pretraining(base: Config, *, T_ref: int, d_ref: int, dims, seeds) -> dict:
    """Return ``(representation, d, seed) -> Config``: the pretraining of each representation
    (``multi-task``, ``multi-task, fixed T``, ``random features``, ``single task``) at every
    ``d`` of ``dims`` and ``d_ref`` and every seed: ``base`` with that ``d`` and seed and
    ``T = max(1, T_ref d // d_ref)``, except ``T = T_ref`` at fixed ``T`` and for the single
    task (one task with the budget of ``T_ref`` tasks) and ``T = 1`` for random features. Every
    config is validated here, before any run."""
    kinds = {  # representation -> its pretraining, as changes of base (T = T_ref d / d_ref)
        "multi-task": {}, "multi-task, fixed T": {"T": T_ref},
        "random features": {"T": 1, "algorithm": "random_features"},
        "single task": {"T": T_ref, "algorithm": "single_task"},  # one task, the budget of T_ref
    }  # fmt: skip
    T_of = {d: max(1, T_ref * d // d_ref) for d in {*dims, d_ref}}  # T proportional to d
    return {
        (name, d, s): base.replace(d=d, seed=s, T=T_of[d]).replace(**changes)
        for name, changes in kinds.items() for d in T_of for s in seeds
    }  # fmt: skip


class Representations:
    """The chapter's pretrained first layers and the accuracies of their probes.

    ``configs`` maps ``(representation, d, seed)`` to the config of its pretraining
    (:func:`pretraining`); all are run (:func:`mtrl.run_all`, so on the default executor if one
    is set) when the first is needed, and kept. ``probe``
    holds the settings of every logistic probe (``n_test``, ``num_tasks``, ``reg`` of
    :func:`mtrl.transfer.transfer_accuracy`); an evaluation already made is not made again.
    """

    def __init__(self, configs: dict, seeds, **probe):
        self.configs, self.seeds, self.probe = configs, list(seeds), probe
        self.memo: dict = {}
        self._results: dict = {}

    def result(self, name: str, d: int, seed: int) -> Result:
        """Return the :class:`mtrl.Result` of the pretraining of ``(name, d, seed)``."""
        if not self._results:
            self._results = _run_each(self.configs)
        return self._results[name, d, seed]

    def table(self, curves: dict, points):
        """Return :func:`mtrl.transfer.transfer_table` of ``curves`` (name -> representation,
        options) at ``points`` (pairs ``(d, n_down)``) over the seeds: a row per curve, point
        and seed, with the ``accuracy``."""
        return transfer_table(self.result, self.seeds, curves, points, memo=self.memo, **self.probe)

    def leakage(self, name: str, d: int) -> float:
        """Return the median over the seeds of the leakage ``1 - E(W_1)`` of ``(name, d)``."""
        return np.median([self.result(name, d, s).leakage[-1].item() for s in self.seeds])


def against_d(reps: Representations, *, dims, n_down: int):
    """Return the transfer table of every curve of :data:`D_CURVES` at every ``d`` of ``dims``,
    with ``n_down`` probe samples (columns ``curve``, ``d``, ``n_down``, ``seed``,
    ``accuracy``)."""
    return reps.table(D_CURVES, [(d, n_down) for d in dims])


def d_summary(table, reps: Representations):
    """Return the median accuracy over the seeds of :func:`against_d`'s ``table`` (a row per
    curve, in the order of :data:`D_CURVES`, a column per ``d``), its spread over ``d`` (max
    minus min) per curve, and the glue: ``acc_{key}_first``, ``acc_{key}_last`` and
    ``spread_{key}`` of each curve (``key``: ``multi``, ``fixed``, ``multi_maj``, ``rf``,
    ``rf_maj``, ``single``, ``ortho``; the spread of the medians rounded to 3 digits, as the
    prose shows them), then ``leak_multi_{first,last}`` and ``leak_fixed_{first,last}``: the
    median leakage of multi-task pretraining with ``T ∝ d`` and at fixed ``T``, at the first and
    the last ``d``, ``heur_*`` the book's heuristic (:func:`mtrl.heuristic_leakage`) there, and
    ``leak_off_max``, the largest ``|leakage / heuristic - 1|`` of the four."""
    by_point = table.groupby(["curve", "d"], sort=False).accuracy
    curves = by_point.median().unstack().loc[list(D_CURVES)]  # curve x d: median over seeds
    spread = curves.max(axis=1) - curves.min(axis=1)
    glue = {}
    for name, key in D_KEYS.items():
        glue[f"acc_{key}_first"] = curves.loc[name].iloc[0]
        glue[f"acc_{key}_last"] = curves.loc[name].iloc[-1]
        glue[f"spread_{key}"] = np.ptp(curves.loc[name].round(3))
    off = []  # |leakage / heuristic - 1| at each of the four points
    for key, name in ("multi", "multi-task"), ("fixed", "multi-task, fixed T"):
        for end, d in ("first", curves.columns[0]), ("last", curves.columns[-1]):
            c = reps.configs[name, d, reps.seeds[0]]
            leak = glue[f"leak_{key}_{end}"] = reps.leakage(name, d)
            heur = glue[f"heur_{key}_{end}"] = heuristic_leakage(
                rho(d=c.d, r=c.r, T=c.T, n1=c.n1, n2=c.n2, p=c.p)
            )
            off.append(abs(leak / heur - 1))
    glue["leak_off_max"] = max(off)
    return curves, spread, glue


def against_n(reps: Representations, *, d: int, n_grid):
    """Return the transfer table, at ``d``, of the halfspace curves of :data:`D_CURVES` other
    than the fixed-``T`` one (multi-task, random features, the single task's two) at every
    probe training set size of ``n_grid``."""
    curves = {k: v for k, v in D_CURVES.items() if "majority" not in k and "fixed" not in k}
    return reps.table(curves, [(d, n) for n in n_grid])


def n_summary(table):
    """Return the median accuracy over the seeds of :func:`against_n`'s ``table`` (a row per
    curve, a column per ``n_down``) and the glue: ``n_grid_txt`` (the sizes, as text),
    ``n_multi_first`` (multi-task, smallest size), ``n_rf_first`` and ``n_rf_last`` (random
    features, smallest and largest size)."""
    medians = table.groupby(["curve", "n_down"], sort=False).accuracy.median().unstack()
    glue = {
        "n_grid_txt": ", ".join(map(str, dict.fromkeys(table.n_down))),
        "n_multi_first": medians.loc["multi-task (T ∝ d), halfspace"].iloc[0],
        "n_rf_first": medians.loc["random features, halfspace"].iloc[0],
        "n_rf_last": medians.loc["random features, halfspace"].iloc[-1],
    }
    return medians, glue


def width_table(reps: Representations, widths, *, dims, n_down: int, reg: float):
    """Return the tidy table of ridge-probe accuracies against the width
    (:func:`mtrl.transfer.width_table` with ``n_down`` probe samples, regularisation ``reg``
    and the other probe settings of ``reps``; columns ``representation``, ``d``, ``seed``,
    ``width``, ``accuracy``) of one network per representation, ``d`` of ``dims`` and seed of
    ``reps``, whose first ``w`` neurons stand for the network of width ``w`` (prop-prefix):
    multi-task pretraining (``T ∝ d``, up to its width ``m``) and random features of the
    largest width of ``widths``."""
    changes = {"multi-task": {}, "random features": {"m": max(widths)}}
    configs = {  # one network per representation, d and seed; its first w neurons for each width
        (name, d, s): reps.configs[name, d, s].replace(**change)
        for name, change in changes.items() for d in dims for s in reps.seeds
    }  # fmt: skip
    wide = _run_each(configs)
    return ridge_width_table(wide, widths, **{**reps.probe, "n_down": n_down, "reg": reg})


def _run_each(configs: dict) -> dict:
    """Return key -> :func:`mtrl.run_all` result of each config of ``configs`` (key -> config),
    running each distinct config once (at ``d_ref`` the fixed-``T`` run is the ``T ∝ d`` one)."""
    unique = list(dict.fromkeys(configs.values()))
    done = dict(zip(unique, run_all(unique), strict=True))
    return {key: done[config] for key, config in configs.items()}


def width_summary(table, target: float):
    """Return, from :func:`width_table`'s ``table``: the width needed for accuracy ``target`` by
    representation, ``d`` and seed (:func:`mtrl.transfer.needed_width`, NaN where no width of
    the grid reaches it); its median, minimum and maximum over the seeds by representation and
    ``d``; the medians as a table (representation x ``d``); and the glue: ``rf_exponent`` (the
    slope of the log of the random features' median against ``log d``), ``needed_multi_txt``
    and ``needed_rf_txt`` (the medians, as text) and ``widths_txt`` (the grid, as text)."""
    needed = needed_width(table, target)
    by_point = needed.groupby(["representation", "d"], sort=False).width
    summary = by_point.agg(["median", "min", "max"])
    medians = summary["median"].unstack()  # representation x d
    slope = np.polyfit(np.log(medians.columns), np.log(medians.loc["random features"]), 1)[0]
    glue = {"rf_exponent": slope}
    for key, name in ("multi", "multi-task"), ("rf", "random features"):
        glue[f"needed_{key}_txt"] = ", ".join(f"{w:.0f}" for w in medians.loc[name])
    glue["widths_txt"] = ", ".join(map(str, sorted(set(table.width))))
    return needed, summary, medians, glue


def biases(reps: Representations, *, d: int, n_down: int):
    """Return the transfer table of every curve of :data:`BIAS_CURVES` at ``d`` with ``n_down``
    probe samples, with the curve's parts as the columns ``representation``, ``new tasks`` and
    ``b`` (``kept`` or ``re-sampled``)."""
    table = reps.table(BIAS_CURVES, [(d, n_down)])
    table[["representation", "new tasks", "b"]] = table.curve.tolist()
    return table


def bias_summary(table):
    """Return the mean, minimum and maximum accuracy over the seeds of :func:`biases`'s
    ``table`` by representation and new tasks (columns: the statistic, then ``b``, and
    ``change``: re-sampled minus kept, seed by seed), and the glue
    ``bias_{multi,rf}_{family}_{kept,resampled}`` (the means), ``..._up`` and ``..._down`` (the
    seeds whose accuracy rises, falls) and ``..._dmin``, ``..._dmax`` (the range of changes)."""
    keys = ["representation", "new tasks", "b"]
    stats = table.groupby(keys, sort=False).accuracy
    paired = table.pivot_table(index=[*keys[:2], "seed"], columns="b", values="accuracy")
    change = (paired["re-sampled"] - paired["kept"]).groupby(level=keys[:2], sort=False)
    glue = {}
    for (name, family), (kept, resampled) in stats.mean().unstack().iterrows():
        key = f"bias_{'multi' if name == 'multi-task' else 'rf'}_{family}"
        glue[f"{key}_kept"], glue[f"{key}_resampled"] = kept, resampled
        d = change.get_group((name, family))
        glue |= {f"{key}_up": int((d > 0).sum()), f"{key}_down": int((d < 0).sum()),
                 f"{key}_dmin": d.min(), f"{key}_dmax": d.max()}  # fmt: skip
    summary = stats.agg(["mean", "min", "max"]).unstack()
    summary[("change", "min")], summary[("change", "max")] = change.min(), change.max()
    return summary, glue


def bias_text(summary) -> str:
    """Return :func:`bias_summary`'s table as the chapter prints it: the means with the range of
    the changes, then the minima and maxima over the seeds, each within the book's column."""
    blocks = (summary[["mean", "change"]], summary[["min", "max"]])
    return "\n".join(b.to_string(float_format="{:.3f}".format, line_width=WIDTH) for b in blocks)
