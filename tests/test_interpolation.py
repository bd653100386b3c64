"""Univariate closed forms of the Kernel regime chapter: cost, kernel interpolant, exact optimum."""

import pytest
import torch

from mtrl.errors import ParameterError
from mtrl.interpolation import (
    alignment,
    connect_the_dots,
    kernel_interpolant,
    penalized_optimum,
    representational_cost,
    second_differences,
    sobolev_kernel,
)
from mtrl.kernel_regime import ReluNetwork

D64 = torch.float64


def _data(N=6, T=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.sort(torch.rand(N, generator=g, dtype=D64) * 4 - 2).values
    return x, torch.randn(N, T, generator=g, dtype=D64)


def _dots_network(x, Y):
    """The network with one neuron per interior point and v = the slope change there."""
    G = second_differences(x) @ Y  # (N-2, T)
    slope0 = (Y[1] - Y[0]) / (x[1] - x[0])
    W = torch.ones(1, len(G), 1, dtype=D64)
    b = -x[1:-1][None]
    A = slope0[None, :, None]
    c = (Y[0] - slope0 * x[0])[None]
    return ReluNetwork(W, b, G[None], A, c)


def test_cost_of_connect_the_dots_is_the_path_norm_of_its_network():
    x, Y = _data()
    net = _dots_network(x, Y)
    grid = torch.linspace(-4, 4, 801, dtype=D64)
    assert torch.allclose(net(grid[:, None])[0], connect_the_dots(x, Y, grid), atol=1e-12)
    assert torch.allclose(net.path_norm[0], representational_cost(x, Y), rtol=1e-13)
    # by hand for three points: one knot, slope change (1 - 0) - (0 - 1) = 2 in task 1
    x3 = torch.tensor([0.0, 1.0, 2.0], dtype=D64)
    Y3 = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 3.0]], dtype=D64)
    assert representational_cost(x3, Y3).item() == pytest.approx((2.0**2 + 3.0**2) ** 0.5)


def test_connect_the_dots_interpolates_and_extends_linearly():
    x, Y = _data()
    assert torch.allclose(connect_the_dots(x, Y, x), Y, atol=1e-14)
    left = connect_the_dots(x, Y, torch.tensor([x[0] - 1.0], dtype=D64))
    slope = (Y[1] - Y[0]) / (x[1] - x[0])
    assert torch.allclose(left[0], Y[0] - slope, atol=1e-12)


def test_kernel_interpolant_is_the_linear_spline_on_the_interval_and_flat_outside():
    for seed in range(5):
        x, Y = _data(N=7, seed=seed)
        inside = torch.linspace(float(x[0]), float(x[-1]), 1001, dtype=D64)
        err = (kernel_interpolant(x, Y, inside) - connect_the_dots(x, Y, inside)).abs().max()
        assert err < 1e-10
        outside = torch.tensor([x[0] - 2, x[0] - 0.5, x[-1] + 0.5, x[-1] + 2], dtype=D64)
        f = kernel_interpolant(x, Y, outside)
        assert torch.allclose(f[:2], Y[0].expand(2, -1), atol=1e-10)
        assert torch.allclose(f[2:], Y[-1].expand(2, -1), atol=1e-10)
        assert (f - connect_the_dots(x, Y, outside)).abs().max() > 1e-3


def test_sobolev_kernel_is_one_plus_min_on_the_interval_and_positive_definite():
    x, _ = _data(N=8)
    K = sobolev_kernel(x, x, float(x[0]))
    assert torch.allclose(K, 1 + torch.minimum(x[:, None], x[None, :]) - x[0], atol=1e-14)
    assert torch.linalg.eigvalsh(K).min() > 0


def test_alignment_detects_positively_collinear_slope_changes():
    x = torch.tensor([-2.0, -1, 0, 1, 2], dtype=D64)
    y1 = torch.tensor([1.0, 0, 0.2, 1, 3], dtype=D64)
    aligned = torch.stack([y1, 2 * y1 + x + 1], 1)  # a multiple of task 1 plus an affine term
    assert torch.allclose(alignment(x, aligned), torch.ones(2, dtype=D64), atol=1e-14)
    assert torch.allclose(alignment(x, y1), torch.ones(2, dtype=D64))  # T = 1, a convex run
    _, Y = _data(N=5, T=2)
    assert bool((alignment(x, Y) < 1 - 1e-6).all())


def test_penalized_optimum_is_optimal_and_its_bound_is_tight():
    x, Y = _data(N=6, T=2)
    lam = 0.05
    opt = penalized_optimum(x, Y, lam, tol=1e-14)
    assert opt.objective - opt.bound <= 1e-12 * opt.objective
    D = second_differences(x)

    def objective(Yhat):
        return 0.5 * ((Yhat - Y) ** 2).sum() + lam * (D @ Yhat).norm(dim=1).sum()

    assert objective(opt.Yhat).item() == pytest.approx(opt.objective, rel=1e-12)
    g = torch.Generator().manual_seed(1)
    for _ in range(200):
        step = 1e-4 * torch.randn(Y.shape, generator=g, dtype=D64)
        assert objective(opt.Yhat + step) >= objective(opt.Yhat) - 1e-15
    small = penalized_optimum(x, Y, 1e-8)
    assert torch.allclose(small.Yhat, Y, atol=1e-6)


def test_reduced_dual_points_are_certificates_for_every_network():
    """prop-kr-univariate-optimum without the paper's claim: for every U with rows of norm at
    most lam, D^T U is feasible for prop-kr-certificate (orthogonal to the affine functions,
    sup over neurons at most lam), so the reduced dual bounds every network of every width; at
    the reduced optimum the residual Y - Yhat is such a point and its bound is the optimum."""
    from mtrl.kernel_regime import certificate, max_correlation

    lam = 0.05
    for seed in range(10):
        x, Y = _data(N=7, T=3, seed=seed)
        g = torch.Generator().manual_seed(100 + seed)
        U = torch.randn(5, 5, 3, generator=g, dtype=D64)  # 5 draws of (N - 2, T)
        U = lam * U / U.norm(dim=2, keepdim=True) * torch.rand(5, 5, 1, generator=g, dtype=D64)
        dual = second_differences(x).T @ U  # (5, N, T)
        affine = torch.stack([x, torch.ones_like(x)], 1)
        assert (dual.transpose(1, 2) @ affine).abs().max() < 1e-12
        assert max_correlation(x[:, None], dual)[0].max() <= lam * (1 + 1e-12)
        opt = penalized_optimum(x, Y, lam, tol=1e-12)  # its Yhat is Y - D^T U, U feasible
        value = max_correlation(x[:, None], (Y - opt.Yhat)[None])[0]
        assert value.item() <= lam * (1 + 1e-12)
        objective, bound = certificate(x[:, None], Y, _dots_network(x, opt.Yhat), lam)
        assert bound.item() == pytest.approx(opt.objective, rel=1e-11)
        assert objective.item() == pytest.approx(opt.objective, rel=1e-12)


@pytest.mark.parametrize(
    ("x", "Y", "match"),
    [
        (torch.tensor([0.0, 0.0, 1.0]), torch.zeros(3), "strictly increasing"),
        (torch.tensor([0.0, 1.0, 2.0]), torch.zeros(4), "Y must have shape"),
        (torch.tensor([0.0]), torch.zeros(1), "x must be"),
        (torch.tensor([0.0, 1.0, float("nan")]), torch.zeros(3), "strictly increasing|finite"),
    ],
)
def test_bad_data_is_rejected(x, Y, match):
    with pytest.raises(ParameterError, match=match):
        representational_cost(x, Y)


def test_bad_penalty_is_rejected():
    x, Y = _data()
    with pytest.raises(ParameterError, match="lam"):
        penalized_optimum(x, Y, 0.0)
