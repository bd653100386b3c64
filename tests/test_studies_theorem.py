"""The summaries of the Theorem chapter's studies, on small synthetic tables and one small run."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

import mtrl
from mtrl.studies import theorem as study


def test_population_summary_fits_the_larger_half_of_the_grid():
    n = [100, 400, 1600, 6400]
    error = [5.0, 1.0, 0.5, 0.25]  # slope -1/2 over the larger half only
    table = pd.DataFrame({"n1": np.repeat(n, 2), "error": np.repeat(error, 2)})
    mean, slope, first = study.population_summary(table)
    assert list(mean) == error and first == 1600
    assert slope == pytest.approx(-0.5)


def test_rounds_summary_names_each_case_and_coincident_T():
    metrics = dict(energy=0.5, coverage=0.4, distance=0.3)
    by_round = pd.DataFrame(
        [{"T": 10, "lam": lam, "reset_heads": reset, "k": k, "seed": s, **metrics,
          "population": 0.2 if lam == 1.0 and reset else 0.35 if lam == 1.0 else float("nan")}
         for lam, reset in ((1.0, False), (0.5, False), (1.0, True)) for k in range(4)
         for s in (0, 1)]
    )  # fmt: skip
    matched = pd.DataFrame([{"T": 10, "seed": s, **metrics} for s in (0, 1)])
    rows, glue = study.rounds_summary(by_round, matched, T_few=10, T_many=10)
    assert list(rows.index) == [(w, k) for w in ("few", "max")
                                for k in ("one", "full", "half", "reset", "matched")]  # fmt: skip
    assert rows.loc[("few", "full"), "label"] == "3 rounds, eta_w lam = 1"
    assert rows.loc[("max", "reset"), "label"] == "3 rounds, heads reset"
    assert len(glue) == 2 * 5 * 3 + 2 * 3 + 2 * 3 + 2 and glue["T_many_txt"] == "10"
    assert glue["rounds_max_reset_population"] == 0.2 and glue["rounds_max_full_population"] == 0.35
    assert glue["rounds_few_gap_reset"] == pytest.approx(math.log(2))  # coverage 0.4, limit 0.2
    assert glue["rounds_few_gap_max"] == glue["rounds_few_gap_reset"]
    assert glue["rounds_few_gap_first"] == pytest.approx(math.log(0.4 / 0.2))
    assert glue["rounds_max_matched_distance"] == 0.3
    assert glue["rounds_few_one_population"] == 0.35  # the one-round limit, to compare


def test_rounds_population_scales_the_carried_rounds_by_the_label_noise():
    """With flips p, every head and every gradient carry 1 - 2p, so c becomes c (1 - 2p)^2 in
    the carried form of prop-reset-rounds (the reset form only changes scale)."""
    config = mtrl.Config(d=8, r=2, m=6, T=3, n1=20, n2=20, loss="correlation", rounds=4, p=0.2,
                         eta_a=2.0, eta_w=3.0, lam=1 / 3, seed=1)  # fmt: skip
    result = mtrl.run(config, cache=None)
    theta, M = result.tasks[:, 0, :], result.M
    sigma = theta.T @ theta / len(theta)

    def carried(c):
        power = torch.linalg.matrix_power(torch.eye(2, dtype=sigma.dtype) + c * sigma, 3)
        return mtrl.coverage(result.W_0 @ M @ sigma @ power @ M.T, M).item()

    c = 2.0 * 3.0 / (2 * math.pi)
    table = study.rounds_population(result)
    assert list(table.k) == [0, 1, 2, 3, 4]
    assert table.population.iloc[-1] == pytest.approx(carried(c * 0.6**2), rel=1e-4)
    assert abs(carried(c * 0.6**2) - carried(c)) > 1e-3  # the factor matters here


def test_rounds_log_gaps_measure_each_run_against_its_round_and_the_step_between_rounds():
    by_round = pd.DataFrame(
        [{"T": 5, "lam": 1.0, "reset_heads": True, "seed": 0, "k": k,
          "population": 0.5**k, "coverage": 1.1 * 0.5**k} for k in range(4)]
        + [{"T": 7, "lam": 1.0, "reset_heads": True, "seed": 0, "k": k,
            "population": 1.0, "coverage": 2.0} for k in range(4)]
    )  # fmt: skip
    gap, half_step = study.rounds_log_gaps(by_round, T=5)
    assert list(gap.columns) == [1, 2, 3] and list(gap.index) == [(True, 0)]
    np.testing.assert_allclose(gap.values, math.log(1.1))
    np.testing.assert_allclose(half_step.values, math.log(2) / 2)  # closer to k than to k - 1
