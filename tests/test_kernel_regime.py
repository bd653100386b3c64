"""Multi-output ReLU networks with the representational cost: certificate, training, kernel."""

import itertools
import math

import pytest
import torch

import mtrl
from mtrl.errors import ConvergenceError, ParameterError
from mtrl.fits import fit_multitask
from mtrl.interpolation import connect_the_dots, penalized_optimum
from mtrl.kernel_regime import (
    ReluNetwork,
    affine_projector,
    certificate,
    init_relu_networks,
    kernel_solution,
    max_correlation,
    sup_spread,
)

D64 = torch.float64
X1 = torch.tensor([-2.0, -1, 0, 1, 2], dtype=D64)[:, None]
Y1 = torch.tensor([1.0, 0, 0.2, 1, 3], dtype=D64)  # a convex run: single-task non-unique


def _init(X, T, m, seeds, **kw):
    """Networks drawn from the ``init`` streams of ``seeds``, as the Kernel chapter draws them."""
    return init_relu_networks(X, T, m, [mtrl.stream(s, "init") for s in seeds], **kw)


def _square_data():
    s = torch.tensor([[1.0, 1], [1, -1], [-1, 1], [-1, -1]], dtype=D64)
    return torch.cat([s, 0.5 * s]), torch.cat([torch.zeros(4), torch.ones(4)]).to(D64)


def _random_U(X, T, S=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return affine_projector(X) @ torch.randn(S, X.shape[0], T, generator=g, dtype=D64)


def _check_square_supremum(X, U):
    """max_correlation at d = 2 against directions and offsets on a fine grid."""
    value, w, b = max_correlation(X, U)
    angles = torch.linspace(0, 2 * math.pi, 1441, dtype=D64)[:-1]
    dirs = torch.stack([angles.cos(), angles.sin()], 1)
    offsets = torch.linspace(-2, 2, 801, dtype=D64)
    Z = (X @ dirs.T)[None] + offsets[:, None, None]  # (offsets, N, directions)
    dense = torch.einsum("onc,snt->soct", torch.relu(Z), U).norm(dim=3).flatten(1).amax(1)
    assert bool((value >= dense - 1e-12).all()) and bool((dense >= 0.995 * value).all())
    h = torch.relu(X @ w[..., None] + b[:, None, None])[..., 0]  # the maximising neurons
    attained = torch.einsum("sn,snt->st", h, U)
    assert torch.allclose(attained.norm(dim=1), value, rtol=1e-12)
    assert torch.allclose(w.norm(dim=1), torch.ones(3, dtype=D64))


def test_max_correlation_is_the_supremum_over_a_dense_search():
    # d = 1: every knot position on a fine grid
    U = _random_U(X1, 3)
    value, _, _ = max_correlation(X1, U)
    knots = torch.linspace(-3, 3, 6001, dtype=D64)
    H = torch.relu(X1.T - knots[:, None])  # (knots, N), w = 1
    dense = torch.einsum("cn,snt->sct", H, U).norm(dim=2).amax(1)
    assert bool((value >= dense - 1e-12).all()) and torch.allclose(value, dense, rtol=1e-9)
    # d = 2: directions and offsets on a fine grid never exceed it, and come close, on the
    # chapter's square (collinear triples: coincident critical angles) and on a perturbed one
    square, _ = _square_data()
    noise = 0.05 * torch.randn(square.shape, generator=torch.Generator().manual_seed(3), dtype=D64)
    for X in (square, square + noise):
        _check_square_supremum(X, _random_U(X, 4))


def test_certificate_bounds_every_network_and_the_exact_optimum():
    lam = 1e-2
    Y = torch.stack([Y1, torch.tensor([0.3, -1.0, 0.5, 2.0, -0.4], dtype=D64)], 1)
    opt = penalized_optimum(X1[:, 0], Y, lam)
    for seed in range(5):  # weak duality for untrained networks
        net = _init(X1, 2, 10, [seed], init_scale=3.0)
        objective, bound = certificate(X1, Y, net, lam)
        assert bound.item() <= opt.objective + 1e-12 <= objective.item() + 2e-12
    fit = fit_multitask(X1, Y, lam, _init(X1, 2, 20, [0, 1]), tol=1e-6)
    objective, bound = certificate(X1, Y, fit.network, lam)
    assert torch.allclose(objective, fit.objective, rtol=1e-10)
    assert bool((bound <= opt.objective + 1e-12).all())
    # The trained networks do not beat the exact optimum (the side on which the proposition
    # would fail), and come within their certified gap of it.
    assert bool((objective >= opt.objective * (1 - 1e-12)).all())
    assert bool(((objective - opt.objective) <= 1e-6 * opt.objective).all())
    assert bool((fit.gap <= 1e-6).all())


def test_multitask_fits_agree_and_single_task_fits_differ():
    """The thresholds are empirical: 1e-4 for the multi-task fits (the gap 1e-6 bounds the fitted
    values' distance from the optimum's by sqrt(2 tol P*), about 1.2e-4 here, not the sup over the
    interval) and 0.05 for the spread of the single-task fits (about 0.2 is observed)."""
    lam, grid = 1e-3, torch.linspace(-2, 2, 401, dtype=D64)
    y2 = torch.tensor([0.3, -1.0, 0.5, 2.0, -0.4], dtype=D64)
    cases = {"single": Y1[:, None], "multi": torch.stack([Y1, y2], 1)}
    fits = {
        k: fit_multitask(X1, Y, lam, _init(X1, Y.shape[1], 20, [0, 1, 2]), tol=1e-6)
        for k, Y in cases.items()
    }
    opt = penalized_optimum(X1[:, 0], cases["multi"], lam)
    F = fits["multi"].network(grid[:, None])
    assert (F - connect_the_dots(X1[:, 0], opt.Yhat, grid)).abs().max() < 1e-4
    assert (F[0] - F[1]).abs().max() < 1e-4
    F = fits["single"].network(grid[:, None])
    spread = max((F[i] - F[j]).abs().max() for i, j in itertools.combinations(range(3), 2))
    assert spread > 0.05
    opt1 = penalized_optimum(X1[:, 0], cases["single"], lam)
    assert bool(((fits["single"].objective - opt1.objective) <= 1e-6 * opt1.objective).all())


def test_sup_spread_is_the_largest_distance_over_pairs_of_networks():
    F = torch.randn(4, 7, 3, generator=torch.Generator().manual_seed(0), dtype=D64)
    pairs = itertools.combinations(range(4), 2)
    assert sup_spread(F) == max((F[i] - F[j]).abs().max().item() for i, j in pairs)
    assert sup_spread(F[:1]) == 0.0
    by_hand = torch.tensor([[0.0, 1.0], [0.5, -1.0], [0.0, 0.5]], dtype=D64)
    assert sup_spread(by_hand) == 2.0  # networks 0 and 1 at the second input


def test_fits_are_deterministic_and_seeded():
    X, y = _square_data()
    nets = [_init(X, 1, 30, [4, 5]) for _ in range(2)]
    assert torch.equal(nets[0].W, nets[1].W) and torch.equal(nets[0].V, nets[1].V)
    assert not torch.equal(nets[0].W[0], nets[0].W[1])
    a, b = (fit_multitask(X, y[:, None], 1e-2, n, tol=1e-3) for n in nets)
    assert torch.equal(a.network.V, b.network.V) and a.steps == b.steps
    one = _init(X, 1, 30, [5])
    assert torch.equal(one.W[0], nets[0].W[1])  # a seed's draw does not depend on the others


@pytest.mark.parametrize("weighted", [True, False])
def test_kernel_solution_solves_the_weighted_ridge_problem(weighted):
    X, y = _square_data()
    g = torch.Generator().manual_seed(0)
    W = torch.nn.functional.normalize(torch.randn(2, 40, 2, generator=g, dtype=D64), dim=2)
    b = torch.rand(2, 40, generator=g, dtype=D64) - 0.5
    V = torch.randn(2, 40, 5, generator=g, dtype=D64)
    V[:, :5] = 0  # dead neurons take no part
    zeros = torch.zeros
    net = ReluNetwork(W, b, V, zeros(2, 5, 2, dtype=D64), zeros(2, 5, dtype=D64))
    lam = 0.1
    sol = kernel_solution(X, y, net, lam, weighted=weighted)
    other = kernel_solution(X, y, net, lam, weighted=not weighted)
    assert bool((sol.V[:, :5] == 0).all()) and (sol.V - other.V).abs().max() > 1e-3
    v = sol.V[..., 0].requires_grad_(True)
    Phi = torch.relu(X @ W.transpose(1, 2) + b[:, None, :])
    gamma = 1 / V.norm(dim=2).clamp_min(1e-300) if weighted else torch.ones(2, 40, dtype=D64)
    resid = affine_projector(X) @ (y - (Phi @ v[..., None])[..., 0]).T
    alive = V.norm(dim=2) > 0
    objective = 0.5 * (resid**2).sum() + lam / 2 * (gamma * v**2 * alive).sum()
    (grad,) = torch.autograd.grad(objective, v)
    assert (grad * alive).abs().max() < 1e-10
    # the affine part is the least-squares one: what is left is orthogonal to affine functions
    left = y - sol(X)[..., 0]
    P = affine_projector(X)
    assert torch.allclose(left @ P, left, atol=1e-12)


def test_bad_inputs_fail_fast():
    net = _init(X1, 1, 5, [0])
    with pytest.raises(ParameterError, match="d = 1 or 2"):
        fit_multitask(torch.zeros(5, 3, dtype=D64), Y1[:, None], 0.1, net)
    with pytest.raises(ParameterError, match="distinct"):
        fit_multitask(torch.zeros(5, 1, dtype=D64), Y1[:, None], 0.1, net)
    with pytest.raises(ParameterError, match="lam"):
        fit_multitask(X1, Y1[:, None], -1.0, net)
    with pytest.raises(ParameterError, match="tol"):
        fit_multitask(X1, Y1[:, None], 0.1, net, tol=0.0)
    with pytest.raises(ParameterError, match="must agree"):
        fit_multitask(X1, torch.zeros(5, 2, dtype=D64), 0.1, net)
    with pytest.raises(ParameterError, match="generators"):
        _init(X1, 1, 5, [])
    with pytest.raises(ConvergenceError, match="max_steps"):
        fit_multitask(X1, Y1[:, None], 1e-4, net, tol=1e-12, max_steps=3, check_every=1)


def test_fits_are_cached_by_their_inputs(isolated_cache, monkeypatch):
    trained = []
    train = mtrl.fits.train
    monkeypatch.setattr(mtrl.fits, "train", lambda problem: trained.append(1) or train(problem))
    net = _init(X1, 1, 10, [0])
    first = fit_multitask(X1, Y1[:, None], 1e-2, net, tol=1e-4)
    assert len(list(isolated_cache.glob("*.pt"))) == 1 and len(trained) == 1
    again = fit_multitask(X1, Y1[:, None], 1e-2, net, tol=1e-4)
    assert len(trained) == 1  # the same inputs: a hit, nothing trained
    assert torch.equal(again.network.V, first.network.V) and again.steps == first.steps
    assert torch.equal(again.bound, first.bound) and torch.equal(again.network.J, first.network.J)
    for change in ({"lam": 2e-2}, {"tol": 2e-4}):  # one input changed: a miss, another entry
        kwargs = {"lam": 1e-2, "tol": 1e-4, **change}
        fit_multitask(X1, Y1[:, None], kwargs["lam"], net, tol=kwargs["tol"])
    assert len(list(isolated_cache.glob("*.pt"))) == 3 and len(trained) == 3
    other = fit_multitask(X1, Y1[:, None], 2e-2, net, tol=1e-4)
    assert not torch.equal(other.network.V, first.network.V) and len(trained) == 3
    fresh = fit_multitask(X1, Y1[:, None], 1e-2, net, tol=1e-4, cache=None)
    assert torch.equal(fresh.network.V, first.network.V)
