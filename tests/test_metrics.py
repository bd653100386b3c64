"""Invariances, limits and bounds of the subspace metrics."""

import math

import pytest
import torch

import mtrl

METRICS = [mtrl.energy_fraction, mtrl.leakage, mtrl.subspace_distance, mtrl.coverage]
d, r, m = 20, 3, 15


def orthogonal(n, gen):
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    return q


@pytest.fixture
def WM(gen):
    M = mtrl.draw_subspace(d, r, generator=gen, dtype=torch.float64)
    # A W that partly lies in span(M), so no metric sits at a trivial value.
    W = (
        torch.randn(m, d, generator=gen, dtype=torch.float64)
        + 3 * torch.randn(m, r, generator=gen, dtype=torch.float64) @ M.T
    )
    return W, M


@pytest.mark.parametrize("metric", METRICS)
def test_invariant_under_ambient_rotation(metric, WM, gen):
    W, M = WM
    Q = orthogonal(d, gen)
    torch.testing.assert_close(metric(W @ Q.T, Q @ M), metric(W, M), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("metric", METRICS)
def test_invariant_under_change_of_basis_of_M(metric, WM, gen):
    W, M = WM
    torch.testing.assert_close(
        metric(W, M @ orthogonal(r, gen)), metric(W, M), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("metric", METRICS)
def test_invariant_under_neuron_permutation(metric, WM, gen):
    W, M = WM
    torch.testing.assert_close(
        metric(W[torch.randperm(m, generator=gen)], M), metric(W, M), rtol=1e-10, atol=1e-12
    )


def test_metrics_unchanged_by_permuting_tasks(gen):
    config = mtrl.Config(d=d, r=r, m=m, T=32, n1=10, n2=10)
    tasks, net = mtrl.draw_problem(config)
    perm = torch.randperm(32, generator=gen)
    # Permuting tasks together with their data: the W-gradient is the same sum in another order.
    batch = mtrl.pretraining_batches(tasks, n1=10, n2=10, seed=0)
    permuted = mtrl.Batches(*(getattr(batch, f)[perm] for f in ("X1", "y1", "X2", "y2")))
    W1 = mtrl.alternating_round(net, batch).W
    W2 = mtrl.alternating_round(net.replace(A=net.A[perm]), permuted).W
    for metric in METRICS:
        torch.testing.assert_close(metric(W2, tasks.M), metric(W1, tasks.M), rtol=1e-5, atol=1e-6)


def test_limits(gen):
    M = mtrl.draw_subspace(d, r, generator=gen, dtype=torch.float64)
    inside = torch.randn(m, r, generator=gen, dtype=torch.float64) @ M.T
    assert mtrl.energy_fraction(inside, M).item() == pytest.approx(1.0, abs=1e-12)
    assert mtrl.subspace_distance(inside, M).item() == pytest.approx(0.0, abs=1e-7)
    assert 0 < mtrl.coverage(inside, M).item() <= 1
    # One learned direction only: coverage 0.
    rank_one = torch.randn(m, 1, generator=gen, dtype=torch.float64) @ M[:, :1].T
    assert mtrl.coverage(rank_one, M).item() == pytest.approx(0.0, abs=1e-12)
    # Orthogonal to span(M): energy 0, distance 1.
    outside = torch.randn(m, d, generator=gen, dtype=torch.float64)
    outside = outside - outside @ M @ M.T
    assert mtrl.energy_fraction(outside, M).item() == pytest.approx(0.0, abs=1e-12)
    assert mtrl.subspace_distance(outside, M).item() == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize("angle", [0.1, 0.6, 1.2, math.pi / 2])
def test_subspace_distance_is_the_sine_of_a_known_angle(angle, gen):
    """Rows in span(M) with one basis direction turned by ``angle`` out of span(M): the distance
    is sin(angle) and the energy cos(angle)^2 of that direction's share. Values inside (0, 1)
    are not at the clamp to [0, 1] of ``subspace_distance``, so a wrong formula fails here."""
    M = mtrl.draw_subspace(d, r, generator=gen, dtype=torch.float64)
    u = torch.randn(d, generator=gen, dtype=torch.float64)
    u = u - M @ (M.T @ u)
    u = u / u.norm()
    V = M.clone()
    V[:, 0] = math.cos(angle) * M[:, 0] + math.sin(angle) * u  # orthonormal columns still
    W = torch.randn(m, r, generator=gen, dtype=torch.float64) @ V.T
    assert mtrl.subspace_distance(W, M).item() == pytest.approx(math.sin(angle), abs=1e-9)
    share = (W @ V[:, 0]).square().sum() / W.square().sum()
    expected = 1 - share * math.sin(angle) ** 2
    assert mtrl.energy_fraction(W, M).item() == pytest.approx(expected.item(), abs=1e-12)


def test_random_W_has_energy_about_r_over_d(gen):
    M = mtrl.draw_subspace(400, 8, generator=gen, dtype=torch.float64)
    W = torch.randn(2000, 400, generator=gen, dtype=torch.float64)
    assert mtrl.energy_fraction(W, M).item() == pytest.approx(8 / 400, rel=0.05)


def test_zero_W_is_undefined_not_silent(gen):
    M = mtrl.draw_subspace(d, r, generator=gen)
    for metric in (mtrl.energy_fraction, mtrl.coverage, mtrl.subspace_distance):
        assert torch.isnan(metric(torch.zeros(m, d), M))


def test_batched_metrics_equal_one_by_one(WM):
    W, M = WM
    stack = torch.stack([W, 2 * W, W[:, torch.randperm(d)]])
    for metric in METRICS:
        torch.testing.assert_close(metric(stack, M), torch.stack([metric(w, M) for w in stack]))


def test_shape_errors(gen):
    M = mtrl.draw_subspace(d, r, generator=gen)
    with pytest.raises(mtrl.ParameterError, match="W must be"):
        mtrl.energy_fraction(torch.zeros(m, d + 1), M)


def test_representation_similarity_equals_a_loop_over_pairs(gen):
    W = torch.randn(m, d, generator=gen, dtype=torch.float64)
    b = torch.randn(m, generator=gen, dtype=torch.float64)
    X, X2 = torch.randn(2, 7, d, generator=gen, dtype=torch.float64)
    expected = []
    for x, x2 in zip(X, X2, strict=True):
        h, h2 = torch.relu(W @ x + b), torch.relu(W @ x2 + b)
        expected.append(h @ h2 / (h.norm() * h2.norm()))
    similarity = mtrl.representation_similarity(W, b, X, X2)
    torch.testing.assert_close(similarity, torch.stack(expected), rtol=1e-12, atol=1e-14)
    # the same input twice: similarity 1; neurons permuted together with their biases: unchanged
    torch.testing.assert_close(mtrl.representation_similarity(W, b, X, X), torch.ones(7).double())
    perm = torch.randperm(m, generator=gen)
    torch.testing.assert_close(mtrl.representation_similarity(W[perm], b[perm], X, X2), similarity)
