"""The batched, streamed round against a naive per-task loop with autograd (float64)."""

import itertools

import pytest
import torch
from reference import reference_round

import mtrl
import mtrl.seeds

T, d, r, m, n1, n2 = 5, 7, 2, 6, 9, 11


def problem(gen, *, beta=0.3, p=0.1, family="halfspace"):
    M = mtrl.draw_subspace(d, r, generator=gen, dtype=torch.float64)
    tasks = mtrl.TaskSet(
        M, mtrl.draw_tasks(family, T, r, generator=gen, dtype=torch.float64), family, p
    )
    net = mtrl.init_network(d=d, m=m, T=T, tau=1.0, beta=beta, generator=gen, dtype=torch.float64)
    return tasks, net


@pytest.mark.parametrize(
    "loss,algorithm", list(itertools.product(sorted(mtrl.LOSSES), mtrl.ALGORITHMS))
)
def test_batched_round_equals_naive_loop(loss, algorithm, gen):
    tasks, net = problem(gen)
    # Start from non-zero heads so that every algorithm has a non-trivial gradient.
    net = net.replace(A=torch.randn(T, m, generator=gen, dtype=torch.float64))
    batch = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=7)
    steps = dict(eta_a=0.7, eta_w=0.3, lam=0.5)
    fast = mtrl.alternating_round(net, batch, loss=loss, algorithm=algorithm, **steps)
    W_ref, A_ref = reference_round(net, batch, loss=loss, algorithm=algorithm, **steps)
    torch.testing.assert_close(fast.W, W_ref, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(fast.A, A_ref, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("algorithm", mtrl.ALGORITHMS)
def test_streamed_pretrain_equals_in_memory_rounds(algorithm, gen):
    tasks, net = problem(gen)
    tasks = mtrl.TaskSet(
        tasks.M,
        mtrl.draw_tasks("halfspace", 40, r, generator=gen, dtype=torch.float64),
        "halfspace",
        0.1,
    )
    net = net.replace(A=torch.zeros(40, m, dtype=torch.float64))
    kw = dict(loss="logistic", algorithm=algorithm, eta_a=0.5, eta_w=0.5, lam=1.0)
    out = mtrl.pretrain(
        net,
        tasks,
        n1=n1,
        n2=n2,
        rounds=2,
        chunk_tasks=16,
        generator=torch.Generator().manual_seed(3),
        **kw,
    )
    seed = mtrl.seeds.draw_seed(torch.Generator().manual_seed(3))
    ref = net if algorithm != "random_heads" else net.replace(A=out.network.A)
    for k in range(2):
        batch = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=seed, data_round=k)
        ref = mtrl.alternating_round(ref, batch, **kw)
        energy = mtrl.energy_fraction(ref.W, tasks.M).item()
        assert out.energy[k + 1].item() == pytest.approx(energy, rel=1e-12)
    torch.testing.assert_close(out.network.W, ref.W, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(out.network.A, ref.A, rtol=1e-12, atol=1e-15)


def test_chunk_size_does_not_change_the_data(gen):
    M = mtrl.draw_subspace(d, r, generator=gen)
    tasks = mtrl.TaskSet(M, mtrl.draw_tasks("halfspace", 50, r, generator=gen), "halfspace")
    net = mtrl.init_network(d=d, m=m, T=50, generator=gen)
    runs = [
        mtrl.pretrain(
            net, tasks, n1=n1, n2=n2, chunk_tasks=c, generator=torch.Generator().manual_seed(0)
        )
        for c in (1, 17, 64)
    ]
    for other in runs[1:]:
        torch.testing.assert_close(other.network.W, runs[0].network.W, rtol=1e-5, atol=1e-7)
    whole = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=5)
    part = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=5, start=32, stop=48)
    assert torch.equal(whole.X2[32:48], part.X2) and torch.equal(whole.y1[32:48], part.y1)
    # A stop inside a block gives the same data for the tasks it keeps.
    inner = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=5, start=16, stop=21)
    assert torch.equal(whole.X2[16:21], inner.X2) and torch.equal(whole.y2[16:21], inner.y2)


def test_network_and_tasks_must_agree(gen):
    tasks, net = problem(gen)
    with pytest.raises(mtrl.ParameterError, match="network and tasks must agree"):
        mtrl.pretrain(net.replace(W=net.W.float()), tasks, n1=n1, n2=n2, generator=gen)


def test_zero_rounds_return_the_start(gen):
    tasks, net = problem(gen)
    out = mtrl.pretrain(net, tasks, n1=n1, n2=n2, rounds=0, generator=gen)
    assert torch.equal(out.network.W, net.W) and out.logged.tolist() == [0]


def test_simultaneous_from_zero_heads_gives_zero_gradient(gen):
    tasks, net = problem(gen)
    out = mtrl.pretrain(
        net, tasks, n1=n1, n2=n2, algorithm="simultaneous", lam=0.5, eta_w=1.0, generator=gen
    )
    torch.testing.assert_close(out.network.W, 0.5 * net.W, rtol=0, atol=0)


def test_divergence_is_reported(gen):
    tasks, net = problem(gen)
    batch = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=0)
    with pytest.raises(mtrl.ParameterError, match=r"diverged in round 1.*reduce eta_w"):
        mtrl.alternating_round(net, batch, loss="correlation", eta_a=1e200, eta_w=1e200, lam=0.0)
