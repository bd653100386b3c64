"""The experiments of the Kernel regime chapter (``book/06_kernel_regime.ipynb``): certified
fits of multi-output shallow ReLU networks ([N24], :func:`mtrl.fit_multitask`) to univariate
data (one task, with random tasks, with an aligned task) against the exact optimum, the Sobolev
kernel interpolant against connect-the-dots, two-dimensional fits of the square task with
``T - 1`` random tasks against the weighted ridge solution (the chapter's bridge to the
pretraining chapters is :mod:`mtrl.studies.kernel_bridge`).

Each experiment returns the fits and a row of numbers per setting; each ``*_summary`` returns
the text of the table that the chapter prints and a dict of the numbers that its prose quotes,
already rounded to the digits it shows them with (for :meth:`mtrl.book.Chapter.publish_all`
without ``digits``).
"""

from __future__ import annotations

import functools
import textwrap

import pandas as pd
import torch

from ..fits import fit_multitask
from ..interpolation import (
    alignment,
    connect_the_dots,
    kernel_interpolant,
    penalized_optimum,
    representational_cost,
)
from ..kernel_regime import init_relu_networks, kernel_solution, sup_spread
from ..resources import map_on
from ..seeds import stream
from .reports import WIDTH

__all__ = [
    "DIFFER_AT", "LINE", "SQUARE_X", "SQUARE_Y", "WIDE", "X_1D", "networks",
    "sobolev_comparison", "square_grid", "square_summary", "square_task", "univariate",
    "univariate_problems", "univariate_summary"
]  # fmt: skip

D64 = torch.float64
X_1D = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], dtype=D64)  # the univariate inputs
_Y_1D = torch.tensor([1.0, 0.0, 0.2, 1.0, 3.0], dtype=D64)  # first-task labels: convex slopes
LINE = torch.linspace(-2.5, 2.5, 501, dtype=D64)  # where the univariate functions are compared
WIDE = torch.linspace(-4.0, 4.0, 801, dtype=D64)  # where the Sobolev interpolant is compared
_CORNERS = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]], dtype=D64)
SQUARE_X = torch.cat([_CORNERS, 0.5 * _CORNERS])  # the corners of two squares, in 2-D
SQUARE_Y = torch.cat([torch.zeros(4, dtype=D64), torch.ones(4, dtype=D64)])  # 1 on the inner
DIFFER_AT = 1e-2  # spread above which the few-task fits of a draw are counted as different


def networks(X, T: int, m: int, seeds):
    """Return the initial networks of width ``m`` with ``T`` outputs for the inputs ``X``
    (:func:`mtrl.init_relu_networks`), one per seed, each from its ``init`` stream."""
    return init_relu_networks(X, T, m, [stream(s, "init") for s in seeds])


def univariate_problems(tasks: int, draws) -> tuple[dict, dict]:
    """Return name -> labels ``(5, T)`` at :data:`X_1D`: the first task alone (``single
    task``), with ``tasks - 1`` tasks of ``N(0, 1)`` labels from the ``tasks`` stream of the
    first seed of ``draws`` (``multi-task``), and with the task ``2 y + x + 1`` (``aligned
    control``); and the multi-task problems of the other draws (``multi-task, draw s``)."""
    x, y1 = X_1D, _Y_1D
    multi = {s: torch.cat([y1[:, None], torch.randn(5, tasks - 1, generator=stream(s, "tasks"),
                                                     dtype=D64)], 1) for s in draws}  # fmt: skip
    problems = {"single task": y1[:, None], "multi-task": multi[draws[0]],
                "aligned control": torch.stack([y1, 2 * y1 + x + 1], 1)}  # fmt: skip
    return problems, {f"multi-task, draw {s}": multi[s] for s in draws[1:]}


def univariate(problems: dict, *, width: int, lam: float, tol: float, seeds):
    """Return, for each problem of :func:`univariate_problems`: its certified fit
    (:func:`mtrl.fit_multitask` of one network of ``width`` per seed, penalty ``lam``, to the
    relative duality gap ``tol``), its exact optimum (:func:`mtrl.penalized_optimum`), and a
    row (the worst of the seeds): ``cos`` (largest cosine of consecutive slope changes of the
    optimum's fitted values), ``steps``, ``gap``, ``excess`` (relative, over the optimum),
    ``cost`` (path norm over ``R(f_D)`` of the optimal fitted values), ``to_dots``
    (sup-distance from their connect-the-dots interpolant) and ``spread`` (between the seeds),
    both sups over :data:`LINE` within ``[x_1, x_N]`` and over the outputs; three dicts keyed
    by problem."""
    x, line = X_1D, LINE
    X1, inside = x[:, None], (line >= x[0]) & (line <= x[-1])
    fits, optima, rows = {}, {}, {}
    for name, Y in problems.items():
        net = networks(X1, Y.shape[1], width, seeds)
        fit = fits[name] = fit_multitask(X1, Y, lam, net, tol=tol)
        opt = optima[name] = penalized_optimum(x, Y, lam)
        on = fit.network(line[:, None])[:, inside]
        rows[name] = {
            "cos": alignment(x, opt.Yhat).max().item(), "steps": fit.steps,
            "gap": fit.gap.max().item(),
            "excess": ((fit.objective - opt.objective) / opt.objective).max().item(),
            "cost": (fit.network.path_norm / representational_cost(x, opt.Yhat)).max().item(),
            "to_dots": (on - connect_the_dots(x, opt.Yhat, line[inside])).abs().max().item(),
            "spread": sup_spread(on),
        }  # fmt: skip
    return fits, optima, rows


def univariate_summary(rows: dict):
    """Return the text of the table of :func:`univariate`'s ``rows``, with its legend, and the
    glue, each to 3 significant digits: ``spread_*`` and ``to_dots_*`` of the single task and
    the aligned control, and the largest over the multi-task draws (``*_multi``; every name that
    starts with ``multi-task``); ``gap_1d`` and ``excess_1d`` (the largest), and
    ``cos_multi_low`` and ``cos_multi_high`` (the range over the multi-task draws)."""
    row = "{:>21s} {cos:6.3f} {steps:5d} {gap:7.1e} {excess:7.0e} {cost:8.6f}"
    row += " {to_dots:7.1e} {spread:7.1e}"
    text = "\n".join([
        "                         cos steps     gap    P-P*     cost  to f_D  spread",
        *(row.format(name, **r) for name, r in rows.items()),
        *textwrap.wrap(
            "cos: largest cosine of consecutive slope changes of the optimal fitted values; gap: "
            "certified relative duality gap; P-P*: relative excess over the exact optimum; cost: "
            "path norm / R(f_D) of the optimal fitted values; to f_D, spread: sup over [x_1, x_N] "
            "and over the outputs; all: the worst of the seeds", WIDTH),
    ])  # fmt: skip
    multi = [r for name, r in rows.items() if name.startswith("multi-task")]
    groups = {"single": [rows["single task"]], "multi": multi, "aligned": [rows["aligned control"]]}
    glue = {f"{q}_{key}": max(r[q] for r in group) for key, group in groups.items()
            for q in ("spread", "to_dots")}  # fmt: skip
    glue.update(gap_1d=max(r["gap"] for r in rows.values()),
                excess_1d=max(r["excess"] for r in rows.values()),
                cos_multi_low=min(r["cos"] for r in multi),
                cos_multi_high=max(r["cos"] for r in multi))  # fmt: skip
    return text, {name: _significant(value) for name, value in glue.items()}


def _significant(value: float, digits: int = 3) -> float:
    """Return ``value`` rounded to ``digits`` significant digits (the glue of small numbers)."""
    return float(f"{value:.{digits - 1}e}")


def sobolev_comparison(Y, grid=WIDE):
    """Return the connect-the-dots interpolant and the Sobolev kernel interpolant
    (:func:`mtrl.kernel_interpolant`) of the labels ``Y`` at :data:`X_1D`, at ``grid`` (G, T);
    their largest difference on ``[x_1, x_N]`` and outside it; and the largest difference,
    outside ``[x_1, x_N]``, between the kernel interpolant and the labels at the nearer end
    (prop-kr-sobolev: it is constant there)."""
    x = X_1D
    inside = (grid >= x[0]) & (grid <= x[-1])
    kernel, dots = kernel_interpolant(x, Y, grid), connect_the_dots(x, Y, grid)
    err_in = (kernel - dots)[inside].abs().max().item()
    err_out = (kernel - dots)[~inside].abs().max().item()
    ends = torch.where(grid[:, None] < x[0], Y[0], Y[-1])[~inside]
    return dots, kernel, err_in, err_out, (kernel[~inside] - ends).abs().max().item()


def square_grid(points: int):
    """Return the grid of ``points`` values on ``[-1.5, 1.5]`` per axis, and the plane
    ``torch.cartesian_prod(axis, axis)`` (``points**2`` rows) where the 2-D functions are
    compared."""
    axis = torch.linspace(-1.5, 1.5, points, dtype=D64)
    return axis, torch.cartesian_prod(axis, axis)


def square_task(T_grid, plane, *, width: int, lam: float, tol: float, seeds, draws,
                executor=None):  # fmt: skip
    """Return the certified fits of the square task (:data:`SQUARE_X`, :data:`SQUARE_Y`) with
    ``T - 1`` random tasks, for each ``T`` of ``T_grid`` and each draw of the random tasks (a
    seed of ``draws``: Bernoulli(1/2) labels, the first ``T - 1`` of ``max(T_grid) - 1`` from its
    ``tasks`` stream), one network of ``width`` per seed of ``seeds`` (the same for every draw),
    and the weighted ridge solution (:func:`mtrl.kernel_solution`) over a network fitted to the
    random tasks alone from the seed ``max(seeds) + 1``. The draws are fitted together, one fit
    per ``T`` (labels per network), and ``T = 1`` once; with an ``executor`` (as for
    :func:`mtrl.sweep`; :func:`mtrl.process_pool` pays, as these small steps are bound by their
    overhead) the fits run there. Returns the fits by ``T`` (draw ``j``, seed ``i`` at
    ``j * len(seeds) + i``); output 1 at ``plane`` (S, P) and the ridge solution there (P), of
    the first draw, by ``T``; and a table, a row per draw and ``T``, of the worst of the seeds
    (``gap`` also of the ridge solution's network): ``draw``, ``T``, ``steps`` (of the fit),
    ``gap``, ``moves`` (neurons moved), ``active``, ``fit`` (largest ``|f_1(x_i) - y_i|``),
    ``spread`` (of output 1 between the seeds), ``kernel`` (sup-distance from the ridge
    solution; NaN at ``T = 1``) and ``equal`` (from the control: the ridge solution over the
    same neurons with equal weights, ``weighted=False``; NaN at ``T = 1``)."""
    X2, y_square, S, D = SQUARE_X, SQUARE_Y, len(seeds), len(draws)
    coins = torch.full((8, max(T_grid) - 1), 0.5, dtype=D64)
    drawn = torch.stack([torch.bernoulli(coins, generator=stream(j, "tasks")) for j in draws])
    problems = {}  # (T, main or helper) -> labels and initial networks
    for T in T_grid:
        tasks = drawn[:, :, : T - 1]  # (D, 8, T - 1)
        if T == 1:  # no random task: one fit serves every draw
            problems[T, "main"] = y_square[:, None], networks(X2, 1, width, seeds)
            continue
        Y = torch.cat([y_square.expand(D, -1)[..., None], tasks], 2).repeat_interleave(S, 0)
        problems[T, "main"] = Y, networks(X2, T, width, list(seeds) * D)
        problems[T, "helper"] = tasks, networks(X2, T - 1, width, [max(seeds) + 1] * D)
    solved = _fit_all(X2, problems, lam=lam, tol=tol, executor=executor)
    fits, surfaces, ridge, rows = {}, {}, {}, []
    for T in T_grid:
        fit = fits[T] = solved[T, "main"]
        F = fit.network(plane)[:, :, 0].reshape(-1, S, len(plane))  # (D, S, P); (1, S, P) at T = 1
        miss = (fit.network(X2)[:, :, 0] - y_square).abs().amax(1).reshape(-1, S)
        gap, moves = fit.gap.reshape(-1, S), fit.insertions.reshape(-1, S)
        active = fit.network.active.sum(1).reshape(-1, S)
        surfaces[T] = F[0]
        if T > 1:
            helper = solved[T, "helper"]
            R = kernel_solution(X2, y_square, helper.network, lam)(plane)[:, :, 0]  # (D, P)
            E = kernel_solution(X2, y_square, helper.network, lam, weighted=False)(plane)[..., 0]
            ridge[T] = R[0]
        for j, draw in enumerate(draws):
            k = j if T > 1 else 0
            row = {
                "draw": draw, "T": T, "steps": fit.steps, "gap": gap[k].max().item(),
                "moves": int(moves[k].max()), "active": int(active[k].max()),
                "fit": miss[k].max().item(), "spread": sup_spread(F[k]), "kernel": torch.nan,
                "equal": torch.nan,
            }  # fmt: skip
            if T > 1:
                row["kernel"] = (F[j] - R[j]).abs().max().item()
                row["equal"] = (F[j] - E[j]).abs().max().item()
                row["gap"] = max(row["gap"], helper.gap[j].item())
            rows.append(row)
    return fits, surfaces, ridge, pd.DataFrame(rows)


def _fit_all(X, problems: dict, *, lam: float, tol: float, executor=None) -> dict:
    """Return :func:`mtrl.fit_multitask` of each ``(Y, network)`` of ``problems``, by key, on
    ``executor`` as :func:`mtrl.resources.map_on` runs them."""
    fit = functools.partial(_fit_problem, X, lam, tol)
    return dict(zip(problems, map_on(fit, problems.values(), executor=executor), strict=True))


def _fit_problem(X, lam: float, tol: float, problem):
    Y, net = problem
    return fit_multitask(X, Y, lam, net, tol=tol)


def square_summary(rows):
    """Return the text of the tables of :func:`square_task`'s ``rows`` (the first draw, row by
    row; every ``T`` over the draws), with their legend, and the glue, small numbers to 3
    significant digits: ``gap_2d`` (the largest), ``spread_2d_single`` (``T = 1``),
    ``spread_2d_few_low`` and ``_high`` (the range over the draws at ``T_few``, the second
    ``T``), ``few_differ`` (the draws whose spread there exceeds ``differ_at`` = 0.01),
    ``spread_2d_many`` (the largest from ``T_many`` on: the first ``T >= 10`` after ``T_few``,
    else the last; ``T_many_txt`` lists them), ``kernel_first`` and ``kernel_last`` (medians over
    the draws at ``T_few`` and the last ``T``), ``kernel_first_high``, ``kernel_last_low`` and
    ``_high`` (ranges), ``equal_last_low`` and ``_high`` (the control's range at the last ``T``),
    ``ratio_last_high`` (the largest ratio of ``kernel`` to ``equal`` there), ``kernel_falls``
    (the draws whose distance falls at every ``T``), ``T_few``, ``T_many`` and ``T_grid_txt``."""
    first = rows[rows.draw == rows.draw.iloc[0]]
    row = "{T:4d} {steps:5d} {gap:7.1e} {moves:5d} {active:6d} {fit:7.1e} {spread:7.1e}"
    row += " {kernel:7.1e} {equal:7.1e}"
    by_T = rows.groupby("T")[["spread", "kernel", "equal"]].agg(["median", "min", "max"])
    columns = ["spread", "kernel", "equal"]
    T_grid = list(by_T.index)
    few, last = rows[rows["T"] == T_grid[1]], rows[rows["T"] == T_grid[-1]]
    ratio = (last.kernel / last.equal).set_axis(last.draw)  # by draw, at the largest T
    text = "\n".join([
        f"the first draw of the random tasks (seed {rows.draw.iloc[0]})",
        "   T steps     gap moves active     fit  spread  kernel   equal",
        *(row.format(**r) for r in first.to_dict("records")),
        *textwrap.wrap(f"over the draws (seeds {', '.join(map(str, rows.draw.unique()))}): "
                       "median, min and max at each T", WIDTH),
        "   T  spread     min     max  kernel     min     max   equal     min     max",
        *(f"{T:4d} " + " ".join(f"{v:7.1e}" for q in columns if T > 1 or q == "spread"
                                for v in x[q]) for T, x in by_T.iterrows()),
        *textwrap.wrap(f"kernel / equal at T = {T_grid[-1]}, by draw: "
                       + ", ".join(f"{v:.3g} ({draw})" for draw, v in ratio.items()), WIDTH),
        *textwrap.wrap(
            "fit: largest |f_1(x_i) - y_i|; spread: largest sup-distance between the seeds' "
            "output 1 on the grid over [-1.5, 1.5]^2; kernel: sup-distance from the weighted ridge "
            "solution; equal: from the ridge solution over the same neurons with equal weights; "
            "moves, active: the worst of the seeds; steps: of the fit of every draw at that T; "
            "gap: the worst of the seeds and of the network of the random tasks of the ridge "
            "solution", WIDTH),
    ])  # fmt: skip
    T_many = next((T for T in T_grid[2:] if T >= 10), T_grid[-1])
    kernel = rows[rows["T"] > 1].pivot(index="T", columns="draw", values="kernel")
    glue = {name: _significant(value) for name, value in {
        "gap_2d": rows.gap.max(), "spread_2d_single": first.spread.iloc[0],
        "spread_2d_few_low": few.spread.min(), "spread_2d_few_high": few.spread.max(),
        "spread_2d_many": rows[rows["T"] >= T_many].spread.max(),
        "kernel_first": few.kernel.median(), "kernel_first_high": few.kernel.max(),
        "kernel_last": last.kernel.median(), "kernel_last_low": last.kernel.min(),
        "kernel_last_high": last.kernel.max(), "equal_last_low": last.equal.min(),
        "equal_last_high": last.equal.max(), "ratio_last_high": ratio.max(),
    }.items()}  # fmt: skip
    many = [T for T in T_grid if T >= T_many]
    glue.update(
        few_differ=int((few.spread > DIFFER_AT).sum()), differ_at=DIFFER_AT, T_few=T_grid[1],
        T_many=T_many, kernel_falls=int((kernel.diff().iloc[1:] < 0).all().sum()),
        T_grid_txt=", ".join(map(str, T_grid)), T_many_txt=_listed(many),
    )  # fmt: skip
    return text, glue


def _listed(values) -> str:
    """Return ``"a, b and c"`` for ``values`` ``[a, b, c]``."""
    words = [str(v) for v in values]
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else words[0]
