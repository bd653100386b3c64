"""The certificate of optimality of [N24]'s training problem: an exact dual bound.

With ``U = Y - F`` the residual (orthogonal to the affine functions), every ``U`` with
``sup_{||w||=1, b} ||U^T relu(X w + b)|| <= lam`` gives the lower bound
``<U, Y> - 1/2 ||U||^2 <= P*`` (weak duality; the Kernel regime chapter proves it). The
supremum is computed exactly for ``d = 1`` and ``d = 2``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..errors import check_float
from .model import ReluNetwork, affine_projector, check_inputs

__all__ = ["candidates", "certificate", "dual_bound", "max_correlation"]


def max_correlation(X: Tensor, U: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Return ``sup_{||w||=1, b} ||U^T relu(X w + b)||`` for each ``U`` (S, N, T) orthogonal to
    the affine functions at ``X`` (N, d), with a maximiser ``w`` (S, d) and ``b`` (S), exactly.

    For such ``U`` the supremum over ``b`` is attained with the hyperplane through a data point
    (the norm is convex in ``b`` between them, and zero when no or every point is active). For
    ``d = 2`` the activation pattern is constant on arcs of directions, where the norm is that
    of a linear map, maximised at an arc's end or at its top eigenvector.
    """
    values, w, b = candidates(X, U)
    best = values.argmax(1)
    rows = torch.arange(U.shape[0], device=U.device)
    return values[rows, best], w[rows, best], b[rows, best]


def candidates(X: Tensor, U: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Return the correlations ``||U^T relu(X w + b)||`` (S, C) of the candidate neurons among
    which the supremum is attained, with their ``w`` (S, C, d) and ``b`` (S, C)."""
    N, d = X.shape
    S = U.shape[0]
    if d == 1:
        w = torch.ones(S, N, 1, dtype=X.dtype, device=X.device)
        anchors = X
    else:
        w, anchors = _candidate_directions(X, U)
    Z = ((X[None, :, :] - anchors[:, None, :])[None] * w[:, :, None, :]).sum(-1)  # (S, C, N)
    values = torch.einsum("scn,snt->sct", torch.relu(Z), U).norm(dim=2)
    return values, w, -(w * anchors).sum(2)


def _candidate_directions(X: Tensor, U: Tensor) -> tuple[Tensor, Tensor]:
    """For ``d = 2``: return candidate directions (S, C, 2) and their anchor points (C, 2), the
    ends of every arc of constant activation pattern and each arc's best interior direction."""
    N = X.shape[0]
    diff = X[None, :, :] - X[:, None, :]  # (anchor i, j, 2): x_j - x_i
    off = ~torch.eye(N, dtype=torch.bool, device=X.device)
    normal = torch.atan2(diff[..., 1], diff[..., 0])[off].reshape(N, N - 1)
    crit = torch.cat([normal + math.pi / 2, normal - math.pi / 2], 1) % (2 * math.pi)
    start = crit.sort(1).values  # (N, 2(N-1)) arc starts
    end = torch.cat([start[:, 1:], start[:, :1] + 2 * math.pi], 1)
    mid = (start + end) / 2
    unit = lambda a: torch.stack([torch.cos(a), torch.sin(a)], -1)  # noqa: E731
    pattern = (torch.einsum("ijd,iad->iaj", diff, unit(mid)) > 0).to(X.dtype)
    B = torch.einsum("snt,ian,ind->siatd", U, pattern, diff)  # U^T diag(a) (X - x_i)
    _, evecs = torch.linalg.eigh(B.transpose(-1, -2) @ B)
    top = evecs[..., :, 1]  # (S, N, arcs, 2)
    angle = torch.atan2(top[..., 1], top[..., 0])
    # the top direction or its opposite, moved into the arc when it lies there, else an end
    candidates = []
    for a in (angle, angle + math.pi):
        a = start + (a - start) % (2 * math.pi)
        inside = a < end
        candidates.append(torch.where(inside, a, start))
    S = U.shape[0]
    angles = torch.stack([start.expand(S, -1, -1), end.expand(S, -1, -1), *candidates], -1)
    anchors = X[:, None, None, :].expand(N, start.shape[1], 4, 2).reshape(-1, 2)
    return unit(angles.reshape(S, -1)), anchors


def certificate(X: Tensor, Y: Tensor, network: ReluNetwork, lam: float) -> tuple[Tensor, Tensor]:
    """Return the objective ``P`` of each of the S networks (with their own ``J`` and ``c``;
    the penalty is the path norm) and a lower bound on the optimum ``P*``, both (S).

    The bound is the dual objective ``<U, Y> - 1/2 ||U||^2`` at ``U`` = the residual ``Y - F``
    made orthogonal to the affine functions and scaled until
    ``sup_{||w||=1, b} ||U^T relu(X w + b)|| <= lam`` (weak duality: the chapter's proposition).
    """
    X, Y = check_inputs(X, Y)
    lam = check_float("lam", lam, low_open=True)
    F = network(X)
    objective = 0.5 * ((F - Y) ** 2).sum((1, 2)) + lam * network.path_norm
    return objective, dual_bound(X, Y, affine_projector(X) @ (Y - F), lam)[0]


def dual_bound(X, Y, U, lam):
    """Return the dual bound at ``U`` (S, N, T), orthogonal to the affine functions, once scaled
    into the feasible set; and the candidates' correlations, ``w`` and ``b``."""
    values, w, b = candidates(X, U)
    scale = torch.clamp(lam / values.amax(1), max=1.0)
    bound = scale * (U * Y).sum((1, 2)) - scale**2 / 2 * (U**2).sum((1, 2))
    return bound, values, w, b
