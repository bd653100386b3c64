"""The Training chapter's studies: their runs on an executor, in the order of their tables."""

from concurrent.futures import ThreadPoolExecutor

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
