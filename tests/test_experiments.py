"""The experiment layer: determinism, independent streams, cache, sweep and bad input."""

import dataclasses
import math
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

import mtrl
import mtrl.resources

SMALL = mtrl.Config(d=20, r=3, m=30, T=20, n1=15, n2=15)


def same(a: mtrl.Result, b: mtrl.Result) -> bool:
    return all(
        torch.equal(getattr(a, f), getattr(b, f))
        for f in ("M", "tasks", "b", "W", "energy", "coverage", "distance")
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_gives_identical_results(dtype):
    config = SMALL.replace(dtype=dtype, rounds=2)
    assert same(mtrl.run(config, cache=None), mtrl.run(config, cache=None))


def test_different_seeds_differ():
    a, b = mtrl.run(SMALL, cache=None), mtrl.run(SMALL.replace(seed=1), cache=None)
    assert not torch.equal(a.M, b.M) and not torch.equal(a.W, b.W)


def test_streams_are_independent():
    """Changing the sample sizes or T changes neither the truth nor the initialisation."""
    tasks, net = mtrl.draw_problem(SMALL)
    tasks2, net2 = mtrl.draw_problem(SMALL.replace(n1=99, n2=7, loss="hinge"))
    assert (
        torch.equal(net.W, net2.W)
        and torch.equal(tasks.M, tasks2.M)
        and torch.equal(tasks.tasks, tasks2.tasks)
    )
    tasks3, net3 = mtrl.draw_problem(SMALL.replace(T=40))
    assert torch.equal(net.W, net3.W) and torch.equal(tasks.M, tasks3.M)


def test_result_shapes_and_initial_metrics():
    res = mtrl.run(SMALL.replace(rounds=3), cache=None)
    assert res.W.shape == (30, 20) and res.energy.shape == (4,) and res.tasks.shape == (20, 1, 3)
    tasks, net = mtrl.draw_problem(SMALL)
    assert res.energy[0] == mtrl.energy_fraction(net.W, tasks.M)


@pytest.mark.parametrize(
    "algorithm", ["single_task", "random_features", "random_heads", "simultaneous"]
)
def test_ablations_run(algorithm):
    res = mtrl.run(SMALL.replace(algorithm=algorithm, lam=0.5), cache=None)
    assert res.energy.shape == (2,)
    if algorithm == "random_features":
        assert res.energy[1] == res.energy[0]


def test_cache_returns_the_stored_result(isolated_cache):
    first = mtrl.run(SMALL)
    files = list(isolated_cache.glob("*.pt"))
    assert len(files) == 1
    second = mtrl.run(SMALL)
    assert same(first, second) and second.config == SMALL
    assert list(isolated_cache.glob("*.pt")) == files


def _key(config, device="cpu"):
    """The cache key of ``mtrl.run(config)``, written out here independently of the code."""
    return {"config": dataclasses.asdict(config), "device": device}


def test_corrupt_cache_entry_is_discarded_and_recomputed(isolated_cache):
    first = mtrl.run(SMALL)
    cache = mtrl.cache.default_cache()
    (path,) = isolated_cache.glob("*.pt")
    assert cache.path(_key(SMALL)) == path and cache.get(_key(SMALL)) is not None
    path.write_bytes(path.read_bytes()[:-10])  # truncated, as by an interrupted write
    assert cache.get(_key(SMALL)) is None and not path.exists()  # a miss, and deleted
    again = mtrl.run(SMALL)
    assert same(first, again) and cache.get(_key(SMALL)) is not None


@pytest.mark.parametrize("field,value", [("n2", 16), ("seed", 1), ("loss", "hinge")])
def test_cache_misses_a_key_that_differs_in_one_field_and_hits_the_same_key(
    field, value, isolated_cache, monkeypatch
):
    computed = []
    compute = mtrl.experiments._compute
    monkeypatch.setattr(
        mtrl.experiments, "_compute", lambda c, dev: computed.append(c) or compute(c, dev)
    )
    first = mtrl.run(SMALL)
    other = SMALL.replace(**{field: value})  # the same config but for one field
    assert {f for f in vars(SMALL) if getattr(other, f) != getattr(SMALL, f)} == {field}
    assert mtrl.cache.default_cache().get(_key(other)) is None  # a miss
    changed = mtrl.run(other)
    assert computed == [SMALL, other] and len(list(isolated_cache.glob("*.pt"))) == 2
    assert same(changed, mtrl.run(other, cache=None)) and not same(changed, first)
    del computed[:]
    assert same(mtrl.run(SMALL), first) and same(mtrl.run(other), changed)
    assert computed == []  # the same keys: hits, nothing computed
    # the same for the cache itself: a key written, one field changed: a miss; the same: a hit
    cache = mtrl.ResultCache(isolated_cache / "direct")
    cache.put({"a": 1, "b": 2}, {"x": torch.arange(3)})
    assert cache.get({"a": 1, "b": 3}) is None and cache.get({"a": 1}) is None
    assert torch.equal(cache.get({"b": 2, "a": 1})["x"], torch.arange(3))


def test_cache_key_includes_the_code_version(isolated_cache, monkeypatch):
    cache = mtrl.ResultCache(isolated_cache)
    path_now = cache.path({"a": 1})
    monkeypatch.setattr(mtrl.cache, "code_version", lambda: "other code")
    assert cache.path({"a": 1}) != path_now


def test_sweep_order_and_executor():
    grid = dict(T=[10, 20], seed=[0, 1])
    serial = mtrl.sweep(SMALL, **grid)
    assert [(r.config.T, r.config.seed) for r in serial] == [(10, 0), (10, 1), (20, 0), (20, 1)]
    with ThreadPoolExecutor(2) as pool:
        parallel = mtrl.sweep(SMALL, executor=pool, cache=None, **grid)
    assert all(same(a, b) for a, b in zip(serial, parallel, strict=True))


def test_run_all_keeps_the_order_of_its_configs_and_refuses_other_objects():
    configs = [SMALL.replace(T=20, seed=1), SMALL.replace(T=10)]
    with ThreadPoolExecutor(2) as pool:
        for results in (mtrl.run_all(configs), mtrl.run_all(configs, executor=pool, cache=None)):
            assert all(same(x, mtrl.run(c)) for x, c in zip(results, configs, strict=True))
    with pytest.raises(mtrl.ParameterError, match=r"configs must hold mtrl\.Config objects"):
        mtrl.run_all([SMALL, {"T": 3}])


def test_use_executor_makes_an_executor_the_default_of_every_sweep():
    class Recording(ThreadPoolExecutor):
        submitted = 0

        def submit(self, *args, **kwargs):
            Recording.submitted += 1
            return super().submit(*args, **kwargs)

    configs = [SMALL.replace(T=20, seed=1), SMALL.replace(T=10)]
    with Recording(2) as pool:
        assert mtrl.use_executor(pool) is None
        try:
            results = mtrl.run_all(configs, cache=None)
            mtrl.sweep(SMALL, T=[3], cache=None)
        finally:
            assert mtrl.use_executor(None) is pool and mtrl.default_executor() is None
    assert Recording.submitted == 3  # both calls ran on the default, in the order of configs
    assert all(same(x, mtrl.run(c)) for x, c in zip(results, configs, strict=True))
    mtrl.run_all(configs[:1], cache=None)  # and in this process again
    assert Recording.submitted == 3
    with pytest.raises(mtrl.ParameterError, match=r"executor must be a concurrent\.futures"):
        mtrl.use_executor(2)


def test_process_pool_workers_share_the_cores_and_leave_interrupts_to_the_parent():
    with mtrl.process_pool(1) as pool:
        threads = pool.submit(torch.get_num_threads).result()
        handler = pool.submit(signal.getsignal, signal.SIGINT).result()
    assert threads == (os.cpu_count() or 1) and handler == signal.SIG_IGN


def test_sweep_in_a_process_pool_agrees_with_serial():
    grid = dict(T=[10, 20], seed=[0, 1])
    serial = mtrl.sweep(SMALL, cache=None, **grid)
    with mtrl.process_pool(2) as pool:
        pooled = mtrl.sweep(SMALL, executor=pool, cache=None, **grid)
    for a, b in zip(serial, pooled, strict=True):
        assert a.config == b.config
        torch.testing.assert_close(a.W, b.W, rtol=1e-5, atol=1e-8)


BAD = [
    (dict(r=12, d=10), r"r must be <= d, got r=12, d=10"),
    (dict(d=0), r"d must be an integer >= 1, got d=0"),
    (dict(m=-5), r"m must be an integer >= 1"),
    (dict(T=0), r"T must be an integer >= 1"),
    (dict(n1=0), r"n1 must be an integer >= 1"),
    (dict(n2=2.5), r"n2 must be an integer >= 1"),
    (dict(family="parity"), r"family must be one of"),
    (dict(loss="squared"), r"loss must be one of"),
    (dict(algorithm="sgd"), r"algorithm must be one of"),
    (dict(eta_a=-1.0), r"eta_a must be a finite number in \(0.0"),
    (dict(eta_w=math.nan), r"eta_w must be a finite number"),
    (dict(eta_a=math.inf), r"eta_a must be a finite number"),
    (dict(lam=-0.1), r"lam must be a finite number in \[0.0"),
    (dict(eta_w=2.0, lam=1.0), r"eta_w\*lam must be a finite number in \[0.0, 1.0\]"),
    (dict(p=0.5), r"p must be a finite number in \[0.0, 0.5\)"),
    (dict(p=-0.01), r"p must be"),
    (dict(tau=0.0), r"tau must be"),
    (dict(rounds=-1), r"rounds must be an integer >= 0"),
    (dict(seed=-3), r"seed must be an integer >= 0"),
    (dict(dtype="float16"), r"dtype must be one of"),
]


@pytest.mark.parametrize("change,message", BAD)
def test_bad_input_fails_fast_and_writes_nothing(change, message, isolated_cache):
    with pytest.raises(mtrl.ParameterError, match=message):
        mtrl.run(mtrl.Config(**{**vars(SMALL), **change}))
    with pytest.raises(mtrl.ParameterError, match=message):
        mtrl.sweep(SMALL, **{k: [v] for k, v in change.items()})
    assert not isolated_cache.exists() or not any(isolated_cache.iterdir())


def test_library_functions_validate_too(gen):
    with pytest.raises(mtrl.ParameterError, match="r must be <= d"):
        mtrl.draw_subspace(3, 5, generator=gen)
    with pytest.raises(mtrl.ParameterError, match="family must be one of"):
        mtrl.draw_tasks("nope", 3, 2, generator=gen)
    with pytest.raises(mtrl.ParameterError, match="unknown Config fields"):
        SMALL.replace(width=3)
    with pytest.raises(mtrl.ParameterError, match="grid values of T must be a non-empty list"):
        mtrl.sweep(SMALL, T=[])


def test_sweep_progress_bar_is_opt_in(capsys, monkeypatch):
    monkeypatch.delenv("MTRL_PROGRESS", raising=False)
    mtrl.sweep(SMALL, seed=[0, 1], cache=None)
    assert "sweep" not in capsys.readouterr().err
    monkeypatch.setenv("MTRL_PROGRESS", "1")
    mtrl.sweep(SMALL, seed=[0, 1], cache=None)
    err = capsys.readouterr().err
    assert "sweep" in err and "2/2" in err


@pytest.mark.parametrize(
    "config", [mtrl.Config(T=10**10), mtrl.Config(m=10**9, d=10**4)], ids=["T", "m and d"]
)
def test_a_run_too_large_for_the_machine_is_refused_before_any_work(config, isolated_cache):
    with pytest.raises(mtrl.ParameterError, match=r"this run needs about .* GiB .* available"):
        mtrl.run(config)
    with pytest.raises(mtrl.ParameterError, match=f"m={config.m}"):
        mtrl.sweep(mtrl.Config(), T=[10, config.T], m=[config.m], d=[config.d])
    assert not isolated_cache.exists() or not any(isolated_cache.iterdir())


def test_the_memory_estimate_grows_with_every_size_and_bounds_the_big_arrays():
    base = mtrl.Config()
    need = mtrl.resources.memory_estimate
    for field in ("d", "m", "T", "n1", "n2"):
        assert need(base.replace(**{field: 4 * getattr(base, field)})) > need(base), field
    # Rounds are logged, not kept: a long training run needs the memory of one round, about.
    assert need(base.replace(rounds=1000)) < 1.01 * need(base)
    big = mtrl.Config(d=100, m=500, T=100_000, n1=100, n2=100)
    assert need(big) >= 2 * big.T * big.m * 4  # the heads before and after the round
    assert need(base.replace(dtype="float64")) > 1.9 * need(base)
    mtrl.resources.check_memory(base, available=need(base))  # exactly enough: accepted
    with pytest.raises(mtrl.ParameterError, match="m=400"):
        mtrl.resources.check_memory(base, available=need(base) - 1)


def test_check_ints_checks_every_value_at_one_bound_and_names_the_bad_one():
    mtrl.check_ints(low=2, seeds=5, T_points=2)
    with pytest.raises(mtrl.ParameterError, match=r"T_points must be an integer >= 2.*T_points=1"):
        mtrl.check_ints(low=2, seeds=5, T_points=1)
    with pytest.raises(mtrl.ParameterError, match=r"seeds=2\.5"):
        mtrl.check_ints(seeds=2.5)
