"""Many rounds of small steps (the Training chapter) against an autograd loop, in float64."""

import itertools
import math

import pytest
import torch
from reference import reference_training

import mtrl
import mtrl.seeds

T, d, r, m, n1, n2 = 5, 7, 2, 6, 9, 11
STEPS = dict(eta_a=0.3, eta_w=0.2, lam=0.05)


def problem(gen, T=T):
    M = mtrl.draw_subspace(d, r, generator=gen, dtype=torch.float64)
    tasks = mtrl.TaskSet(
        M, mtrl.draw_tasks("halfspace", T, r, generator=gen, dtype=torch.float64), "halfspace", 0.1
    )
    net = mtrl.init_network(d=d, m=m, T=T, tau=1.0, beta=0.3, generator=gen, dtype=torch.float64)
    return tasks, net


@pytest.mark.parametrize(
    "loss,algorithm", list(itertools.product(sorted(mtrl.LOSSES), mtrl.ALGORITHMS))
)
def test_training_equals_the_autograd_loop(loss, algorithm, gen):
    """Four rounds of two heads steps each: the same W, heads, held-out losses and accuracies
    as a per-task loop with autograd, to float64 rounding."""
    tasks, net = problem(gen)
    kw = dict(loss=loss, algorithm=algorithm, head_steps=2, **STEPS)
    out = mtrl.pretrain(net, tasks, n1=n1, n2=n2, rounds=4, generator=torch.Generator(), **kw)
    seed = mtrl.seeds.draw_seed(torch.Generator())
    start = net.replace(A=out.network.A) if algorithm == "random_heads" else net
    W, A, losses, accuracies = reference_training(start, tasks, n1=n1, n2=n2, rounds=4, seed=seed,
                                                  **kw)  # fmt: skip
    torch.testing.assert_close(out.network.W, W, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(out.network.A, A, rtol=1e-10, atol=1e-14)
    assert out.logged.tolist() == [0, 1, 2, 3, 4]
    assert math.isnan(out.loss[0]) and math.isnan(out.accuracy[0])
    torch.testing.assert_close(out.loss[1:], torch.tensor(losses, dtype=torch.float64))
    torch.testing.assert_close(out.accuracy[1:], torch.tensor(accuracies, dtype=torch.float64))
    assert out.energy[-1].item() == pytest.approx(mtrl.energy_fraction(W, tasks.M).item())


def test_head_steps_are_steps_on_the_same_batch(gen):
    """Two heads steps of size eta are not one step of size 2 eta (logistic: the gradient
    changes between them), and for the correlation loss they are (its gradient is constant)."""
    tasks, net = problem(gen)
    batch = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=3)
    step = dict(algorithm="heads_first", eta_w=0.2, lam=0.0)

    def heads(loss, eta_a, head_steps):
        kw = dict(loss=loss, eta_a=eta_a, head_steps=head_steps, **step)
        return mtrl.alternating_round(net, batch, **kw).A

    torch.testing.assert_close(heads("correlation", 0.5, 2), heads("correlation", 1.0, 1))
    assert not torch.allclose(heads("logistic", 0.5, 2), heads("logistic", 1.0, 1))


def test_the_log_keeps_every_kth_round_and_the_last(gen):
    tasks, net = problem(gen)
    kw = dict(n1=n1, n2=n2, rounds=7, loss="logistic", **STEPS)
    every = mtrl.pretrain(net, tasks, generator=torch.Generator().manual_seed(5), **kw)
    some = mtrl.pretrain(net, tasks, log_every=3, generator=torch.Generator().manual_seed(5), **kw)
    assert some.logged.tolist() == [0, 3, 6, 7]
    for name in ("energy", "coverage", "distance", "loss", "accuracy"):
        torch.testing.assert_close(getattr(some, name), getattr(every, name)[[0, 3, 6, 7]],
                                   equal_nan=True, rtol=0, atol=0)  # fmt: skip
    assert torch.equal(some.network.W, every.network.W)


def test_a_shorter_run_is_a_prefix_of_a_longer_one():
    """The data of round k do not depend on how many rounds follow, so the W after k steps of
    a long run is that of a k-step run (the Training chapter probes prefixes for transfer)."""
    base = mtrl.Config(d=12, r=2, m=10, T=20, n1=6, n2=6, rounds=9, eta_a=0.5, eta_w=0.5, lam=0.01)
    long = mtrl.run(base, cache=None)
    short = mtrl.run(base.replace(rounds=4), cache=None)
    assert torch.equal(long.energy[:5], short.energy) and torch.equal(
        long.loss[1:5], short.loss[1:]
    )
    assert not torch.equal(long.W, short.W)


def test_training_is_deterministic_and_cached(isolated_cache):
    config = mtrl.Config(d=12, r=2, m=10, T=20, n1=6, n2=6, rounds=30, log_every=10,
                         eta_a=0.5, eta_w=0.5, lam=0.01, head_steps=3)  # fmt: skip
    a, b = mtrl.run(config, cache=None), mtrl.run(config, cache=None)
    assert torch.equal(a.W, b.W) and torch.equal(a.accuracy[1:], b.accuracy[1:])
    first = mtrl.run(config)
    assert len(list(isolated_cache.rglob("*.pt"))) == 1
    second = mtrl.run(config)
    assert torch.equal(first.W, a.W) and torch.equal(second.loss[1:], a.loss[1:])
    assert second.logged.tolist() == [0, 10, 20, 30]
    row = mtrl.tidy([first], rounds=True)
    assert row.k.tolist() == [0, 10, 20, 30] and row.accuracy.iloc[-1] == a.accuracy[-1].item()


@pytest.mark.parametrize(
    "change,message",
    [
        (dict(eta_w=math.nan), "eta_w must be a finite number"),
        (dict(eta_a=math.inf), "eta_a must be a finite number"),
        (dict(lam=-0.1), "lam must be a finite number"),
        (dict(n1=0), "n1 must be an integer >= 1"),
        (dict(n2=-5), "n2 must be an integer >= 1"),
        (dict(head_steps=0), "head_steps must be an integer >= 1"),
        (dict(log_every=0), "log_every must be an integer >= 1"),
        (dict(rounds=1.5), "rounds must be an integer >= 0"),
    ],
)
def test_bad_schedules_fail_before_any_work(change, message):
    with pytest.raises(mtrl.ParameterError, match=message):
        mtrl.Config(**change)


def test_bad_schedules_fail_in_the_core_too(gen):
    tasks, net = problem(gen)
    with pytest.raises(mtrl.ParameterError, match="head_steps must be an integer >= 1"):
        mtrl.pretrain(net, tasks, n1=n1, n2=n2, head_steps=0, generator=gen)
    with pytest.raises(mtrl.ParameterError, match="n2 must be an integer >= 1"):
        mtrl.pretrain(net, tasks, n1=n1, n2=0, generator=gen)


def test_divergence_mid_training_names_the_round_and_caches_nothing(isolated_cache):
    """With the correlation loss and no weight decay, large steps make W grow geometrically
    until it overflows float32 many rounds in: the error names that round and the steps."""
    config = mtrl.Config(d=10, r=2, m=8, T=4, n1=5, n2=5, loss="correlation", eta_a=10.0,
                         eta_w=10.0, lam=0.0, rounds=300)  # fmt: skip
    with pytest.raises(mtrl.ParameterError, match=r"diverged in round (\d\d+):.*reduce eta_w"):
        mtrl.run(config)
    assert not isolated_cache.exists() or not any(isolated_cache.rglob("*.pt"))
    assert mtrl.run(config.replace(rounds=10)).W.isfinite().all()  # the rounds before it are fine


def test_every_round_draws_fresh_and_independent_batches(gen):
    """The reference loop shares the data with the code it checks, so the data are checked
    apart: the two batches of a round differ, and so do the batches of two rounds."""
    tasks, _ = problem(gen)
    first, second = (mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=4, data_round=k)
                     for k in (0, 1))  # fmt: skip
    assert not torch.allclose(first.X1[:, : min(n1, n2)], first.X2[:, : min(n1, n2)])
    assert not torch.allclose(first.X2, second.X2) and not torch.allclose(first.X1, second.X1)


def test_streamed_training_with_head_steps_equals_the_autograd_loop(gen):
    """More tasks than a chunk (40 tasks, chunks of 16) and two heads steps per round."""
    tasks, net = problem(gen, T=40)
    kw = dict(loss="logistic", algorithm="heads_first", head_steps=2, **STEPS)
    out = mtrl.pretrain(net, tasks, n1=n1, n2=n2, rounds=3, chunk_tasks=16,
                        generator=torch.Generator(), **kw)  # fmt: skip
    seed = mtrl.seeds.draw_seed(torch.Generator())
    W, A, losses, _ = reference_training(net, tasks, n1=n1, n2=n2, rounds=3, seed=seed, **kw)
    torch.testing.assert_close(out.network.W, W, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(out.network.A, A, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(out.loss[1:], torch.tensor(losses, dtype=torch.float64))


def test_single_task_is_one_task_with_the_samples_of_all():
    """The experiment layer's single_task is pretrain on the first task with T n1, T n2."""
    config = mtrl.Config(d=12, r=2, m=10, T=8, n1=5, n2=6, rounds=3, eta_a=0.5, eta_w=0.5,
                         lam=0.01, algorithm="single_task", dtype="float64")  # fmt: skip
    tasks, net = mtrl.draw_problem(config)
    steps = dict(rounds=3, eta_a=0.5, eta_w=0.5, lam=0.01, generator=mtrl.stream(0, "data"))
    direct = mtrl.pretrain(net.replace(A=net.A[:1]), tasks.subset(0, 1), n1=40, n2=48, **steps)
    torch.testing.assert_close(mtrl.run(config, cache=None).W, direct.network.W)


def test_the_logistic_weights_of_huge_margins_are_zero_not_subnormal():
    """Margins between about 87 and 89 (float32) give subnormal sigmoid weights (beyond, zero):
    they are set to zero (subnormal operands slow the GEMMs), and the others are unchanged."""
    derivative = mtrl.get_loss("logistic").derivative
    u = torch.tensor([0.0, 10.0, 80.0, 88.0, 200.0])
    expected = -torch.sigmoid(-u)
    out = derivative(u)
    assert torch.equal(out[:3], expected[:3]) and torch.equal(out[3:], torch.zeros(2))
    assert expected[3] != 0  # what the flush removes: a subnormal weight


def test_reset_heads_makes_every_round_one_round_from_the_initial_heads(gen):
    """With reset_heads, round k is alternating_round on round k's batches from (W_{k-1}, A_0),
    with nonzero initial heads A_0 (so that "initial" is not "zero") and more tasks than a chunk;
    without it, round 2 starts from round 1's heads and ends elsewhere."""
    tasks, net = problem(gen, T=40)
    net = net.replace(A=torch.randn(net.A.shape, generator=gen, dtype=net.A.dtype))
    kw = dict(loss="logistic", algorithm="heads_first", **STEPS)
    out = mtrl.pretrain(net, tasks, n1=n1, n2=n2, rounds=2, reset_heads=True, chunk_tasks=16,
                        generator=torch.Generator(), **kw)  # fmt: skip
    seed, step = mtrl.seeds.draw_seed(torch.Generator()), net
    for k in range(2):
        batches = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=seed, data_round=k)
        step = mtrl.alternating_round(step.replace(A=net.A), batches, **kw)
    torch.testing.assert_close(out.network.W, step.W, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(out.network.A, step.A, rtol=1e-12, atol=1e-15)
    carried = mtrl.pretrain(net, tasks, n1=n1, n2=n2, rounds=2, generator=torch.Generator(), **kw)
    assert not torch.allclose(carried.network.W, out.network.W)
    with pytest.raises(mtrl.ParameterError, match="reset_heads must be True or False"):
        mtrl.Config(reset_heads=1)
