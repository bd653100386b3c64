"""The Downstream chapter's studies: the pretraining grid and the width summary (no runs)."""

import numpy as np
import pandas as pd
import pytest

import mtrl
from mtrl.studies import downstream as study


def test_pretraining_grows_T_with_d_except_at_fixed_T_and_for_one_task():
    base = mtrl.Config(d=25, loss="correlation")
    configs = study.pretraining(base, T_ref=500, d_ref=100, dims=[25, 200], seeds=[0, 1])
    assert {d for _, d, _ in configs} == {25, 100, 200}  # d_ref is always there
    T = {(name, d): c.T for (name, d, _), c in configs.items()}
    assert [T["multi-task", d] for d in (25, 100, 200)] == [125, 500, 1000]
    assert T["multi-task, fixed T", 25] == T["single task", 200] == 500
    assert T["random features", 200] == 1
    assert configs["single task", 25, 1].algorithm == "single_task"
    assert configs["single task", 25, 1].seed == 1


def test_width_summary_finds_the_first_width_at_the_target_and_the_slope_in_d():
    need = {"multi-task": lambda d: 4, "random features": lambda d: d}  # rf: a width ∝ d
    rows = [(name, d, seed, w, 0.9 if w >= need[name](d) else 0.6)
            for name in need for d in (25, 50, 100) for seed in (0, 1)
            for w in (1, 2, 4, 25, 50, 100)]  # fmt: skip
    table = pd.DataFrame(rows, columns=["representation", "d", "seed", "width", "accuracy"])
    needed, summary, medians, glue = study.width_summary(table, 0.85)
    assert (needed.grid_max == 100).all() and not needed.width.isna().any()
    assert list(medians.loc["random features"]) == [25, 50, 100]
    assert glue["rf_exponent"] == pytest.approx(1.0)
    assert glue["needed_multi_txt"] == "4, 4, 4" and glue["widths_txt"] == "1, 2, 4, 25, 50, 100"
    assert summary.loc[("multi-task", 25), "max"] == 4
    assert np.isnan(study.width_summary(table, 0.95)[0].width).all()  # not reached: NaN
