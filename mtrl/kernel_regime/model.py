"""Multi-output shallow ReLU networks of [N24], the affine terms, and the kernel problem.

The network of the Kernel regime chapter maps ``R^d`` to ``R^T``:

    f(x) = sum_k v_k relu(w_k^T x + b_k) + J x + c,    ||w_k|| = 1,

with ``m`` neurons, output weights ``V`` (m, T) with rows ``v_k``, skip term ``J`` (T, d) and
offset ``c`` (T); ``J`` (the Jacobian of the affine part), not ``A``, which is the heads in the
rest of the package. Several networks (seeds) are held at once, with a leading axis ``S``.
Training (:mod:`.solver`) minimises the squared loss plus ``lam sum_k ||v_k||_2``; its
optimality is certified by :mod:`.certificate`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import ParameterError, check_float, check_int
from ..numerics import with_ones

__all__ = [
    "ReluNetwork",
    "affine_projector",
    "affine_terms",
    "check_inputs",
    "init_relu_networks",
    "kernel_solution",
    "preactivation",
    "sup_spread",
]


@dataclass(frozen=True)
class ReluNetwork:
    """``S`` networks at once: ``W`` (S, m, d) unit rows, ``b`` (S, m), ``V`` (S, m, T),
    ``J`` (S, T, d) the skip term, ``c`` (S, T)."""

    W: Tensor
    b: Tensor
    V: Tensor
    J: Tensor
    c: Tensor

    def __call__(self, X: Tensor) -> Tensor:
        """Return the outputs at ``X`` (G, d): (S, G, T)."""
        H = torch.relu(preactivation(X, self.W, self.b))
        return H @ self.V + X @ self.J.transpose(1, 2) + self.c[:, None, :]

    @property
    def path_norm(self) -> Tensor:
        """Return ``sum_k ||w_k|| ||v_k||`` (S): the representational cost of the weights."""
        return (self.W.norm(dim=2) * self.V.norm(dim=2)).sum(1)

    @property
    def active(self) -> Tensor:
        """Return which neurons have a nonzero output weight: (S, m) bool."""
        return self.V.norm(dim=2) > 0


def sup_spread(F: Tensor) -> float:
    """Return the largest sup-distance between the outputs of two of S networks,
    ``max_{i, j} max |F_i - F_j|``, for outputs ``F`` (S, ...) at the same inputs (0 for S = 1)."""
    return float((F[:, None] - F[None]).abs().amax())


def affine_projector(X: Tensor) -> Tensor:
    """Return the (N, N) projector onto the complement of the affine functions at ``X`` (N, d)."""
    Q, _ = torch.linalg.qr(with_ones(X))
    return torch.eye(X.shape[0], dtype=X.dtype, device=X.device) - Q @ Q.T


def affine_terms(X: Tensor, residual: Tensor) -> tuple[Tensor, Tensor]:
    """Return the least-squares ``J`` (S, T, d) and ``c`` (S, T) of ``residual`` (S, N, T)."""
    coef = torch.linalg.lstsq(with_ones(X).expand(len(residual), -1, -1), residual).solution
    return coef[:, :-1].transpose(1, 2), coef[:, -1]


def preactivation(X: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """Return ``w_k^T x_i + b_k`` of S networks: ``X`` (N, d), ``W`` (S, m, d) -> (S, N, m)."""
    return X @ W.transpose(1, 2) + b[:, None, :]


def check_inputs(X: Tensor, Y: Tensor) -> tuple[Tensor, Tensor]:
    """Return ``X`` (N, d) and ``Y`` as (S or 1, N, T), checked."""
    if X.ndim != 2 or X.shape[1] not in (1, 2):
        raise ParameterError(
            f"X must be (N, d) with d = 1 or 2 (the exact certificate), got {tuple(X.shape)}"
        )
    N = X.shape[0]
    if N < X.shape[1] + 2:
        raise ParameterError(f"X needs N >= d + 2 points, got N={N}, d={X.shape[1]}")
    if torch.unique(X, dim=0).shape[0] != N:
        raise ParameterError("X must have distinct points")
    Y = Y[None] if Y.ndim == 2 else Y
    if Y.ndim != 3 or Y.shape[1] != N:
        raise ParameterError(f"Y must be (N, T) or (S, N, T) with N={N}, got {tuple(Y.shape)}")
    if Y.dtype != X.dtype or not bool(torch.isfinite(X).all() and torch.isfinite(Y).all()):
        raise ParameterError(f"X and Y must be finite and of one dtype, got {X.dtype}, {Y.dtype}")
    return X, Y


def init_relu_networks(
    X: Tensor, T: int, m: int, generators: Sequence[torch.Generator], *, init_scale: float = 1.0
) -> ReluNetwork:
    """Draw one network per generator: ``w_k`` uniform on the sphere, ``b_k`` uniform on
    ``[-rho, rho]`` with ``rho = 1.25 max_i ||x_i||`` (so the initial knots spread over the
    data), ``v_k ~ N(0, init_scale^2 / m I_T)``, ``J = 0``, ``c = 0``. The numbers are drawn on
    each generator's device and moved to ``X``'s."""
    T, m = check_int("T", T), check_int("m", m)
    init_scale = check_float("init_scale", init_scale, low_open=True)
    if len(generators) == 0:
        raise ParameterError("generators must be a non-empty sequence of torch.Generator")
    d, dtype = X.shape[1], X.dtype
    rho = 1.25 * float(X.norm(dim=1).max())
    Ws, bs, Vs = [], [], []
    for g in generators:
        on = {"generator": g, "dtype": dtype, "device": g.device}
        Ws.append(torch.nn.functional.normalize(torch.randn(m, d, **on), dim=1))
        bs.append((2 * torch.rand(m, **on) - 1) * rho)
        Vs.append(torch.randn(m, T, **on) * init_scale / math.sqrt(m))
    S = len(generators)
    W, b, V = (torch.stack(v).to(X.device) for v in (Ws, bs, Vs))
    return ReluNetwork(W, b, V, X.new_zeros(S, T, d), X.new_zeros(S, T))


def kernel_solution(
    X: Tensor, y: Tensor, network: ReluNetwork, lam: float, *, weighted: bool = True
) -> ReluNetwork:
    """Fit one task ``y`` (N) by the weighted-l2 problem over ``network``'s neurons ([N24]):

        min_v 1/2 sum_i (y_i - sum_k v_k phi_k(x_i) - J x_i - c)^2 + lam/2 sum_k gamma_k v_k^2

    with ``phi_k = relu(w_k^T x + b_k)`` and ``gamma_k = 1 / ||v*_k||`` over the active neurons
    of each of the S networks (the others get ``v_k = 0``), or ``gamma_k = 1`` if not
    ``weighted`` (the control: the same features, equal weights). Returns the S one-output
    networks.
    """
    lam = check_float("lam", lam, low_open=True)
    if y.shape != (X.shape[0],):
        raise ParameterError(f"y must be (N,) with N={X.shape[0]}, got {tuple(y.shape)}")
    P = affine_projector(X)
    norms = network.V.norm(dim=2)  # (S, m)
    Phi = torch.relu(preactivation(X, network.W, network.b))
    Phi = Phi * (norms > 0)[:, None, :]
    gamma = torch.where((norms > 0) & weighted, 1 / norms, torch.ones_like(norms))
    G = Phi.transpose(1, 2) @ P @ Phi + lam * torch.diag_embed(gamma)
    v = torch.linalg.solve(G, Phi.transpose(1, 2) @ (P @ y))  # (S, m)
    residual = (y - (Phi @ v[..., None])[..., 0])[..., None]
    return ReluNetwork(network.W, network.b, v[..., None], *affine_terms(X, residual))
