"""The bridge of the Kernel regime chapter (``book/06_kernel_regime.ipynb``) to the pretraining
chapters: the learned kernel's deviation from a kernel of ``M^T x`` (:func:`mtrl.kernel_deviation`)
after one round of pretraining on more and more tasks, against random features."""

from __future__ import annotations

import pandas as pd
import torch

from ..downstream import kernel_deviation
from ..experiments import Config, run, sweep
from ..seeds import stream

__all__ = ["runs", "summary"]


def runs(base: Config, *, T, points: int, seeds):
    """Return a tidy table of the kernel deviation (:func:`mtrl.kernel_deviation`, on
    ``points`` inputs and their fresh orthogonal parts from the ``downstream`` stream of each
    seed) and the leakage after pretraining ``base`` on each number of tasks of ``T``, a row per
    ``T`` and seed of ``seeds`` (columns ``T``, ``seed``, ``deviation``, ``leakage``), and the
    kernel deviations of the random-features networks of the same seeds (``T = 1``), a Series by
    seed."""
    rows, rf = [], {}
    for s in seeds:
        noise = stream(s, "downstream")
        X_in, X_other = torch.randn(2, points, base.d, generator=noise)
        for res in sweep(base.replace(seed=s), T=list(T)):
            deviation = kernel_deviation(res.W, res.b, res.M, X_in, X_other)
            rows.append((res.config.T, s, deviation, res.leakage[-1].item()))
        net = run(base.replace(T=1, seed=s, algorithm="random_features"))
        rf[s] = kernel_deviation(net.W, net.b, net.M, X_in, X_other)
    table = pd.DataFrame(rows, columns=["T", "seed", "deviation", "leakage"])
    return table, pd.Series(rf, name="deviation").rename_axis("seed")


def summary(table, rf):
    """Return the medians over the seeds of :func:`runs`'s ``table`` by ``T`` (``deviation``
    with the seeds' ``low`` and ``high``, and ``leakage``), the text of that table, and the glue:
    ``bridge_rf`` (3 digits; median), ``bridge_T1`` (3) and ``bridge_Tmax`` (4), the median
    deviations after the fewest and the most tasks, ``bridge_Tmax_high`` (4; the largest over
    the seeds there), and ``bridge_grid_txt``."""
    by_T = table.groupby("T").agg(
        deviation=("deviation", "median"), low=("deviation", "min"),
        high=("deviation", "max"), leakage=("leakage", "median"),
    )  # fmt: skip
    lines = [f"median over seeds {', '.join(map(str, rf.index))} (range over the seeds)",
             f"random features: kernel deviation {rf.median():.3f} ({rf.min():.3f} to "
             f"{rf.max():.3f})"]  # fmt: skip
    for t, x in by_T.iterrows():
        lines.append(f"T = {t:5d}: kernel deviation {x.deviation:.4f} ({x.low:.4f} to "
                     f"{x.high:.4f}), leakage {x.leakage:.4f}")  # fmt: skip
    glue = {
        "bridge_rf": round(rf.median(), 3), "bridge_T1": round(by_T.deviation.iloc[0], 3),
        "bridge_Tmax": round(by_T.deviation.iloc[-1], 4),
        "bridge_Tmax_high": round(by_T.high.iloc[-1], 4),
        "bridge_grid_txt": ", ".join(map(str, by_T.index)),
    }  # fmt: skip
    return by_T, "\n".join(lines), glue
