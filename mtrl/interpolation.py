"""Univariate multi-task interpolation in closed form (Kernel regime chapter, [N24]).

Data ``x_1 < ... < x_N`` (N) with labels ``Y`` (N, T): one column per task. The
*connect-the-dots* interpolant ``f_D`` joins consecutive points by straight lines and extends the
first and last pieces linearly. Its slope changes at the interior points are the rows of
``D Y`` with ``D`` the (N-2, N) second-divided-difference operator, and its representational
cost is ``R(f_D) = sum_i ||(D Y)_i||_2`` (a sum over knots of the l2 norm across tasks).

Also here: the first-order Sobolev kernel ``k(x, x') = 1 - (x - x')_+ + (x - x_1)_+ +
(x_1 - x')_+`` and its minimum-norm interpolant, and the exact optimum of the penalised problem
``min_f 1/2 sum_i ||f(x_i) - y_i||^2 + lam R(f)`` (the book's reduction, see the chapter).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .errors import ConvergenceError, ParameterError, check_float, check_int
from .numerics import momentum

__all__ = [
    "PenalizedOptimum",
    "alignment",
    "connect_the_dots",
    "kernel_interpolant",
    "penalized_optimum",
    "representational_cost",
    "second_differences",
    "sobolev_kernel",
]


def _check_data(x: Tensor, Y: Tensor) -> tuple[Tensor, Tensor]:
    """Return ``x`` (N) and ``Y`` as (N, T) after checking shapes and strict ordering."""
    if x.ndim != 1 or x.shape[0] < 2:
        raise ParameterError(f"x must be a 1-D tensor of >= 2 points, got shape {tuple(x.shape)}")
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Y.ndim != 2 or Y.shape[0] != x.shape[0]:
        raise ParameterError(
            f"Y must have shape (N,) or (N, T) with N = len(x) = {x.shape[0]}, got {tuple(Y.shape)}"
        )
    if not bool(torch.all(x[1:] > x[:-1])):
        raise ParameterError("x must be strictly increasing")
    if not bool(torch.isfinite(x).all() and torch.isfinite(Y).all()):
        raise ParameterError("x and Y must be finite")
    return x, Y


def second_differences(x: Tensor) -> Tensor:
    """Return the (N-2, N) operator ``D``: ``(D y)_i = s_i - s_{i-1}``, the slope change at
    the interior point ``x_{i}`` (slopes ``s_i = (y_{i+1} - y_i) / (x_{i+1} - x_i)``)."""
    N = check_int("len(x)", x.shape[0], low=2)
    h = x[1:] - x[:-1]
    S = torch.zeros(N - 1, N, dtype=x.dtype, device=x.device)
    i = torch.arange(N - 1, device=x.device)
    S[i, i] = -1 / h
    S[i, i + 1] = 1 / h
    return S[1:] - S[:-1]


def representational_cost(x: Tensor, Y: Tensor) -> Tensor:
    """Return ``R(f_D) = sum_i ||s_i - s_{i-1}||_2``, the cost of the connect-the-dots
    interpolant of ``(x, Y)`` (a scalar tensor)."""
    x, Y = _check_data(x, Y)
    return (second_differences(x) @ Y).norm(dim=1).sum()


def alignment(x: Tensor, Y: Tensor) -> Tensor:
    """Return the cosines between consecutive slope changes, ``cos(s_i - s_{i-1},
    s_{i+1} - s_i)`` for the N - 3 pairs (nan where a slope change is zero).

    The connect-the-dots interpolant is the unique minimiser exactly when no cosine equals 1
    ([N24]; "aligned" read as positively collinear)."""
    x, Y = _check_data(x, Y)
    G = second_differences(x) @ Y
    norms = G.norm(dim=1)
    cos = (G[1:] * G[:-1]).sum(1) / (norms[1:] * norms[:-1])
    return torch.where((norms[1:] > 0) & (norms[:-1] > 0), cos, torch.nan)


def connect_the_dots(x: Tensor, Y: Tensor, grid: Tensor) -> Tensor:
    """Return ``f_D`` at ``grid`` (G): (G, T), linear between the data and beyond them."""
    x, Y = _check_data(x, Y)
    j = torch.clamp(torch.searchsorted(x, grid, right=True) - 1, 0, x.shape[0] - 2)
    t = ((grid - x[j]) / (x[j + 1] - x[j]))[:, None]
    return (1 - t) * Y[j] + t * Y[j + 1]


def sobolev_kernel(u: Tensor, v: Tensor, x1: float) -> Tensor:
    """Return ``k(u_i, v_j) = 1 - (u_i - v_j)_+ + (u_i - x1)_+ + (x1 - v_j)_+``: (len u, len v).

    On ``[x1, inf)^2`` this is ``1 + min(u, v) - x1``, the reproducing kernel of the first-order
    Sobolev space with norm ``f(x1)^2 + int_{x1} f'(t)^2 dt``."""
    relu = torch.relu
    U, V = u[:, None], v[None, :]
    return 1 - relu(U - V) + relu(U - x1) + relu(x1 - V)


def kernel_interpolant(x: Tensor, Y: Tensor, grid: Tensor) -> Tensor:
    """Return the minimum-norm interpolant of ``(x, Y)`` in the Sobolev RKHS at ``grid``: (G, T).

    ``f = sum_j alpha_j k(., x_j)`` with ``K alpha = Y`` (``K`` the kernel Gram matrix)."""
    x, Y = _check_data(x, Y)
    x1 = float(x[0])
    alpha = torch.linalg.solve(sobolev_kernel(x, x, x1), Y)
    return sobolev_kernel(grid, x, x1) @ alpha


@dataclass(frozen=True)
class PenalizedOptimum:
    """Exact optimum of the penalised univariate problem: fitted values ``Yhat`` (N, T), the
    optimal ``objective``, the dual ``bound`` (the two agree at convergence) and the
    ``iterations`` used."""

    Yhat: Tensor
    objective: float
    bound: float
    iterations: int


def penalized_optimum(
    x: Tensor, Y: Tensor, lam: float, *, tol: float = 1e-13, max_iterations: int = 200_000
) -> PenalizedOptimum:
    """Solve ``min_f 1/2 sum_i ||f(x_i) - y_i||^2 + lam R(f)`` over all univariate ``f``.

    The minimum is attained by a connect-the-dots interpolant of its own fitted values ``Yhat``
    (the Kernel regime chapter's prop-kr-univariate-optimum), so it equals
    ``min_Yhat 1/2 ||Yhat - Y||^2 + lam sum_i ||(D Yhat)_i||``. Its dual
    ``max {<Y, D^T U> - 1/2 ||D^T U||^2 : ||U_i|| <= lam}`` is solved by accelerated projected
    gradient until the duality gap is below ``tol`` times the objective.
    """
    x, Y = _check_data(x, Y)
    lam = check_float("lam", lam, low_open=True)
    if x.shape[0] < 3:
        return PenalizedOptimum(Y.clone(), 0.0, 0.0, 0)
    D = second_differences(x)
    step = 1 / float(torch.linalg.matrix_norm(D, 2)) ** 2
    U = torch.zeros(D.shape[0], Y.shape[1], dtype=Y.dtype, device=Y.device)
    Z, t = U, 1.0
    for it in range(1, max_iterations + 1):
        U_next = Z - step * (D @ (D.T @ Z - Y))
        U_next = U_next * torch.clamp(lam / U_next.norm(dim=1, keepdim=True), max=1.0)
        t_next = momentum(t)
        Z = U_next + (t - 1) / t_next * (U_next - U)
        U, t = U_next, t_next
        if it % 100 == 0 or it == max_iterations:
            Yhat = Y - D.T @ U
            primal = float(0.5 * ((Yhat - Y) ** 2).sum() + lam * (D @ Yhat).norm(dim=1).sum())
            dual = float((Y * (D.T @ U)).sum() - 0.5 * ((D.T @ U) ** 2).sum())
            if primal - dual <= tol * max(primal, 1e-300):
                return PenalizedOptimum(Yhat, primal, dual, it)
    raise ConvergenceError(
        f"penalized_optimum did not reach the gap tol={tol} in max_iterations={max_iterations}"
        f" (gap {primal - dual:.3g}); increase max_iterations or tol"
    )
