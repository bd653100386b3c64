"""Two numerical pieces that more than one solver of the book uses."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["momentum", "with_ones"]


def momentum(t):
    """Return the next FISTA momentum ``(1 + sqrt(1 + 4 t^2)) / 2`` (a float or a tensor)."""
    if isinstance(t, Tensor):
        return (1 + torch.sqrt(1 + 4 * t * t)) / 2
    return (1 + math.sqrt(1 + 4 * t * t)) / 2


def with_ones(X: Tensor) -> Tensor:
    """Return ``[X, 1]`` (n, p + 1): the design of an affine fit (an intercept column)."""
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)], dim=1)
