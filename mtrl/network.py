"""The two-layer ReLU network with a shared first layer and one linear head per task.

Task ``t`` computes ``f_t(x) = a_t^T relu(W x + b)`` with ``W`` (m, d) shared by all tasks,
biases ``b`` (m) fixed during pretraining, and heads ``A`` (T, m) with rows ``a_t``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from .errors import check_float, check_int

__all__ = ["Network", "features", "init_network"]


@dataclass(frozen=True)
class Network:
    """Parameters of the multi-task network: ``W`` (m, d), ``b`` (m), ``A`` (T, m)."""

    W: Tensor
    b: Tensor
    A: Tensor

    def replace(self, **changes) -> Network:
        """Return a copy with some parameters replaced."""
        return replace(self, **changes)


def features(W: Tensor, b: Tensor, X: Tensor) -> Tensor:
    """Return the representation ``relu(W x + b)``: ``X`` (..., d) -> (..., m)."""
    return torch.relu(X @ W.T + b)


def init_network(
    *,
    d: int,
    m: int,
    T: int,
    tau: float = 0.1,
    beta: float = 0.0,
    generator: torch.Generator,
    dtype=torch.float32,
) -> Network:
    """Draw rows of ``W`` ~ N(0, tau^2/d I), biases ``b_j`` ~ N(0, beta^2), and heads ``A = 0``."""
    d, m, T = check_int("d", d), check_int("m", m), check_int("T", T)
    tau = check_float("tau", tau, low_open=True)
    beta = check_float("beta", beta)
    W = torch.randn(m, d, generator=generator, dtype=dtype) * (tau / math.sqrt(d))
    b = torch.randn(m, generator=generator, dtype=dtype) * beta
    return Network(W=W, b=b, A=torch.zeros(T, m, dtype=dtype))
