"""The summaries of the Theorem chapter's studies, on small synthetic tables (no runs)."""

import numpy as np
import pandas as pd
import pytest

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
    assert len(glue) == 2 * 5 * 3 + 2 * 2 + 2 and glue["T_many_txt"] == "10"
    assert glue["rounds_max_population"] == 0.2 and glue["rounds_max_full_population"] == 0.35
    assert glue["rounds_max_matched_distance"] == 0.3
