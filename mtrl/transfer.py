"""Transfer: how well a pretrained representation serves new tasks (Downstream chapter).

The experiment layer's entry to :func:`mtrl.downstream_accuracy`: it takes a :class:`Result`
and the seed of the downstream stream (:mod:`mtrl.seeds`), so that a chapter states every
setting of a downstream evaluation as an argument.
"""

from __future__ import annotations

import inspect
import itertools

import torch

from .downstream import (
    downstream_accuracy,
    new_task_samples,
    orthogonal_halfspaces,
    probe_features,
)
from .errors import ParameterError, check_float, check_int, check_le
from .experiments import Result
from .seeds import stream

__all__ = [
    "needed_width",
    "transfer_accuracy",
    "transfer_accuracy_by_width",
    "transfer_table",
    "width_table",
]


def transfer_accuracy(
    result: Result,
    *,
    seed: int | None = None,
    family: str = "halfspace",
    n_down: int,
    n_test: int,
    num_tasks: int,
    reg: float,
    method: str = "logistic",
    orthogonal: bool = False,
    resample_bias: bool = False,
    width: int | None = None,
) -> float:
    """Return the mean test accuracy of linear probes of ``num_tasks`` new tasks on the frozen
    first layer of ``result``.

    The new tasks, their samples and any re-sampled biases come from the ``downstream`` stream
    of ``seed`` (by default the seed of ``result``'s config). With ``orthogonal`` the tasks are
    halfspaces orthogonal to the direction of ``result``'s first pretraining task
    (:func:`mtrl.orthogonal_halfspaces`); ``width`` probes only the first ``width`` neurons (all
    of them when ``None``). ``family``, ``n_down``, ``n_test``, ``reg``, ``method`` and
    ``resample_bias`` are those of :func:`mtrl.downstream_accuracy`.
    """
    if orthogonal and family != "halfspace":
        raise ParameterError(f"orthogonal tasks are halfspaces, got family={family!r}")
    if width is not None:
        check_le("width", check_int("width", width), "m", result.W.shape[0])
    generator = stream(result.config.seed if seed is None else seed, "downstream")
    tasks = None
    if orthogonal:
        tasks = orthogonal_halfspaces(result.tasks[0, 0], num_tasks, generator=generator)
    out = downstream_accuracy(
        result.W[:width],
        result.b[:width],
        result.M,
        family=family,
        n_down=n_down,
        n_test=n_test,
        num_tasks=num_tasks,
        reg=reg,
        method=method,
        tasks=tasks,
        resample_bias=resample_bias,
        generator=generator,
    )
    return out.accuracy.mean().item()


def transfer_accuracy_by_width(
    result: Result,
    widths,
    *,
    seed: int | None = None,
    family: str = "halfspace",
    n_down: int,
    n_test: int,
    num_tasks: int,
    reg: float,
) -> list[float]:
    """Return, for each ``w`` of ``widths``, the mean test accuracy of ridge probes of new tasks
    on the first ``w`` neurons of ``result``.

    The numbers are those of ``transfer_accuracy(result, width=w, method="ridge", ...)`` for
    each ``w`` (same tasks, samples and seed), computed from one feature matrix and one Gram
    matrix: the features of a prefix of the neurons are a prefix of the columns, and the
    centred ridge problem of a prefix is the leading block of the full one. Whether a prefix
    of a wide network is itself a network of that width depends on how it was trained: it is
    for random features and, in one round, for the correlation loss (``tests/test_transfer.py``).
    """
    widths = [check_int("width", w) for w in widths]
    for w in widths:
        check_le("width", w, "m", result.W.shape[0])
    if not widths:
        raise ParameterError("widths must be a non-empty list of widths")
    n_down, n_test = check_int("n_down", n_down), check_int("n_test", n_test)
    reg = check_float("reg", reg, low_open=True)
    generator = stream(result.config.seed if seed is None else seed, "downstream")
    M, wide = result.M, max(widths)
    # The draws of mtrl.downstream_accuracy.
    X, y = new_task_samples(
        M, n_down + n_test, family=family, num_tasks=num_tasks, generator=generator
    )
    y = y.double()  # (k, n_down + n_test)
    H = probe_features(result.W[:wide], result.b[:wide], X).double()
    H_train, H_test, y_train, y_test = H[:n_down], H[n_down:], y[:, :n_down], y[:, n_down:]
    mean_h, mean_y = H_train.mean(0), y_train.mean(1)
    centred = H_train - mean_h
    gram = centred.T @ centred / n_down
    cross = centred.T @ (y_train - mean_y[:, None]).T / n_down  # (wide, k)
    out = []
    for w in widths:
        ridge = gram[:w, :w] + reg * torch.eye(w, dtype=gram.dtype, device=gram.device)
        weights = torch.linalg.solve(ridge, cross[:w]).T  # (k, w)
        scores = weights @ H_test[:, :w].T + (mean_y - weights @ mean_h[:w])[:, None]
        labels = torch.where(scores >= 0, 1.0, -1.0).to(y_test.dtype)
        out.append((labels == y_test).double().mean().item())
    return out


_DEFAULTS = {  # transfer_accuracy's defaults (seed: the result's), which a memo key fills in
    name: p.default
    for name, p in inspect.signature(transfer_accuracy).parameters.items()
    if p.default is not inspect.Parameter.empty and name != "seed"
}


def transfer_table(pretrained, seeds, curves: dict, points, *, memo: dict | None = None, **probe):
    """Return a tidy table (pandas) of transfer accuracies: a row per curve, point and seed
    (of ``seeds``).

    ``curves`` maps a curve's name to ``(representation, options)``; ``points`` lists pairs
    ``(d, n_down)``; ``pretrained(representation, d, seed)`` returns a :class:`Result`, whose
    accuracy is ``transfer_accuracy(result, n_down=n_down, **probe, **options)`` (downstream
    seed: the result's own). Columns: ``curve``, ``d``, ``n_down``, ``seed``, ``accuracy``.
    With a ``memo`` dict, an evaluation that it already holds (the same representation, point,
    seed and settings, defaults filled in) is taken from it instead of being computed again.
    """
    import pandas as pd

    memo = {} if memo is None else memo
    rows = []
    for curve, (name, options) in curves.items():
        settings = tuple(sorted({**_DEFAULTS, **probe, **options}.items()))
        for (d, n), s in itertools.product(points, seeds):
            key = (name, d, s, n, settings)
            if key not in memo:
                result = pretrained(name, d, s)
                memo[key] = transfer_accuracy(result, n_down=n, **probe, **options)
            rows.append({"curve": curve, "d": d, "n_down": n, "seed": s, "accuracy": memo[key]})
    return pd.DataFrame(rows)


def width_table(results: dict, widths, **probe):
    """Return a tidy table (pandas) of ridge-probe accuracies against the width: a row per
    ``(representation, d, seed)`` key of ``results`` (a :class:`Result` each) and per width of
    ``widths`` up to that result's ``m`` (:func:`transfer_accuracy_by_width`, with ``probe``).
    Columns: ``representation``, ``d``, ``seed``, ``width``, ``accuracy``."""
    import pandas as pd

    rows = []
    for (name, d, s), result in results.items():
        grid = [w for w in widths if w <= result.W.shape[0]]
        accuracy = transfer_accuracy_by_width(result, grid, **probe)
        rows += [(name, d, s, w, a) for w, a in zip(grid, accuracy, strict=True)]
    return pd.DataFrame(rows, columns=["representation", "d", "seed", "width", "accuracy"])


def needed_width(table, target: float):
    """Return the smallest width at which each ``(representation, d, seed)`` of a
    :func:`width_table` reaches accuracy ``target`` (NaN where no width of the table does), and
    the largest width of its grid: a table with columns ``representation``, ``d``, ``seed``,
    ``width``, ``grid_max``."""
    keys = ["representation", "d", "seed"]
    groups = table.assign(hit=table.width.where(table.accuracy >= target)).groupby(keys)
    out = groups.agg(width=("hit", "min"), grid_max=("width", "max")).reset_index()
    return out
