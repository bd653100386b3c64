"""The Training chapter's studies: their runs on an executor, in the order of their tables."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import torch

import mtrl
from mtrl.studies import training as study
from mtrl.transfer import transfer_accuracy

BASE = mtrl.Config(d=10, r=2, m=12, T=3, n1=5, n2=5, loss="logistic", rounds=3, eta_a=0.5,
                   eta_w=0.5, lam=1e-3)  # fmt: skip
PROBE = dict(n_down=20, n_test=50, num_tasks=2, reg=0.1)


def test_transfer_against_steps_has_a_row_per_d_step_and_seed_in_that_order():
    with ThreadPoolExecutor(2) as pool:
        table = study.transfer_against_steps(BASE, dims=[6, 10], steps=[0, 3], seeds=[0, 1],
                                             executor=pool, **PROBE)  # fmt: skip
    keys = list(zip(table.d, table.k, table.seed, strict=True))
    assert keys == [(d, k, s) for d in (6, 10) for k in (0, 3) for s in (0, 1)]
    for d, k, s, accuracy in zip(table.d, table.k, table.seed, table.accuracy, strict=True):
        result = mtrl.run(BASE.replace(d=int(d), rounds=int(k), seed=int(s)))
        assert accuracy == transfer_accuracy(result, **PROBE)


def test_budget_split_on_an_executor_is_the_split_in_process():
    with ThreadPoolExecutor(2) as pool:
        pooled = study.budget_split(BASE, shares=[0.2, 0.6], seeds=[0, 1], executor=pool)
    serial = study.budget_split(BASE, shares=[0.2, 0.6], seeds=[0, 1])
    assert list(pooled.n1) == [2, 2, 6, 6] and (pooled.n1 + pooled.n2 == 10).all()
    assert pooled.drop(columns="heuristic").equals(serial.drop(columns="heuristic"))


def test_final_table_splits_the_leakage_and_gives_the_coverage_of_the_initialisation():
    result = mtrl.run(BASE)
    row = study.final_table([result]).iloc[0]
    P = torch.eye(10, dtype=result.W.dtype) - result.M @ result.M.T
    R = (1 - 0.5e-3) ** 3 * result.W_0  # what is left of W_0 after 3 steps of eta_w lam = 5e-4

    def leak(X):
        return ((X @ P).square().sum() / result.W.square().sum()).item()

    assert row.from_init == pytest.approx(leak(R))
    assert row.learned == pytest.approx(leak(result.W - R))
    assert row.from_init + row.learned + row.cross == pytest.approx(row.leakage, abs=1e-6)
    assert row.coverage_init == pytest.approx(mtrl.coverage(result.W_0, result.M).item())
    assert row.coverage_init != pytest.approx(row.coverage)  # the layer did move


def test_training_summary_pairs_each_seed_with_its_one_round():
    final = pd.DataFrame({"T": [3, 3, 3, 3], "seed": [0, 1, 2, 3],
                          "distance": [0.2, 0.9, 0.3, 0.6], "coverage_init": 0.8})  # fmt: skip
    final = final.assign(leakage=0.1, coverage=0.5, accuracy=0.9, from_init=0.0, learned=0.1,
                         cross=0.0)  # fmt: skip
    matched = pd.DataFrame({"T": 3, "seed": [3, 2, 1, 0], "distance": [0.7, 0.1, 0.95, 0.4],
                            "leakage": 0.0, "coverage": 0.4})  # fmt: skip
    row = study.training_summary(final, matched).loc[3]
    assert row.closer == 0.75 and row.found == 0.5 and row.found_one == 0.5  # seed 2 is not closer


def test_heuristic_best_share_is_the_argmin_of_the_heuristic():
    config = BASE.replace(d=100, r=3, T=10)
    shares = np.arange(1, 400) / 400
    leak = [mtrl.heuristic_leakage(mtrl.rho(d=100, r=3, T=10, n1=round(400 * s),
                                            n2=400 - round(400 * s))) for s in shares]  # fmt: skip
    assert study.heuristic_best_share(config, 400, points=399) == shares[int(np.argmin(leak))]


def test_clean_accuracy_scores_the_network_against_labels_without_flips():
    """On the same inputs, flipped labels (p = 0.3) agree with the network a fraction
    (1 - p) c + p (1 - c) of the time, c the clean accuracy; with T n = 16 000 samples the
    standard error is at most 0.004, and the test allows 0.02. A clean accuracy computed on
    flipped labels would be 0.5 for this identity to hold, and it is far from that."""
    result = mtrl.run(BASE.replace(p=0.3, rounds=200, T=4), cache=None)
    clean, p, n = study.clean_accuracy(result, n_test=4000), 0.3, 4000
    X = torch.randn(4, n, 10, generator=mtrl.stream(BASE.seed, "test"), dtype=result.W.dtype)
    tasks = mtrl.TaskSet(result.M, result.tasks, "halfspace", p=p)
    uniforms = torch.rand(4, n, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y = tasks.labels(X @ result.M, uniforms=uniforms)
    outputs = torch.einsum("tnm,tm->tn", mtrl.features(result.W, result.b, X), result.A)
    noisy = (outputs * y > 0).double().mean().item()
    assert clean > 0.7 and abs(noisy - ((1 - p) * clean + p * (1 - clean))) < 0.02
