"""How much of the latent subspace a first layer has learned: pure functions of ``W`` and ``M``.

All metrics are invariant under rotations of the ambient space (``W -> W Q^T``, ``M -> Q M``),
under a change of orthonormal basis of ``span(M)`` (``M -> M R``) and under permutations of the
neurons (rows of ``W``). They are undefined for ``W = 0`` and return ``nan`` there.
Leading dimensions of ``W`` are batch dimensions: ``W`` (..., m, d) gives results (...).
:func:`representation_similarity` looks at the representation ``relu(W x + b)`` itself instead.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .errors import ParameterError
from .network import features

__all__ = [
    "GEOMETRY",
    "coverage",
    "energy_fraction",
    "leakage",
    "representation_similarity",
    "subspace_distance",
]


def _check(W: Tensor, M: Tensor) -> None:
    if W.ndim < 2 or M.ndim != 2 or W.shape[-1] != M.shape[0] or M.shape[1] > M.shape[0]:
        raise ParameterError(
            f"W must be (..., m, d) and M (d, r) with r <= d, got W {tuple(W.shape)}, "
            f"M {tuple(M.shape)}"
        )


def energy_fraction(W: Tensor, M: Tensor) -> Tensor:
    """Return ``E(W) = ||W M||_F^2 / ||W||_F^2`` (about r/d for a random ``W``)."""
    _check(W, M)
    total = W.square().sum((-2, -1))
    return (W @ M).square().sum((-2, -1)) / total.where(total > 0, torch.nan)


def leakage(W: Tensor, M: Tensor) -> Tensor:
    """Return ``1 - E(W)``: the fraction of the energy of ``W`` outside ``span(M)``."""
    return 1.0 - energy_fraction(W, M)


def subspace_distance(W: Tensor, M: Tensor) -> Tensor:
    """Return the sine of the largest principal angle between ``span(M)`` and the top-r right
    singular subspace of ``W``."""
    _check(W, M)
    r = M.shape[1]
    _, s, Vh = torch.linalg.svd(W, full_matrices=False)
    V = Vh[..., :r, :].transpose(-2, -1)  # (..., d, r)
    # sin(largest angle) = ||(I - M M^T) V||_2 for orthonormal V and M.
    residual = V - M @ (M.T @ V)
    dist = torch.linalg.matrix_norm(residual, ord=2).clamp(0.0, 1.0)
    rank_r = s[..., r - 1] > 0 if W.shape[-2] >= r else torch.zeros_like(dist, dtype=torch.bool)
    return dist.where(rank_r, torch.nan)


def coverage(W: Tensor, M: Tensor) -> Tensor:
    """Return ``sigma_r(W M) / sigma_1(W M)``: 0 when some latent direction is not learned."""
    _check(W, M)
    s = torch.linalg.svdvals(W @ M)
    top = s[..., 0]
    ratio = s[..., -1] / top.where(top > 0, torch.nan)
    # With fewer neurons than latent directions some direction is never covered.
    return ratio if W.shape[-2] >= M.shape[1] else ratio * 0.0


GEOMETRY = (energy_fraction, coverage, subspace_distance)  # what a pretraining log records of W


def representation_similarity(W: Tensor, b: Tensor, X: Tensor, X2: Tensor) -> Tensor:
    """Return the cosine similarity of the representations ``relu(W x + b)`` and
    ``relu(W x' + b)`` of each pair of inputs: ``X``, ``X2`` (N, d) -> (N,)."""
    return torch.nn.functional.cosine_similarity(features(W, b, X), features(W, b, X2), dim=-1)
