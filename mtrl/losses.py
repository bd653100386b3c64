"""Margin losses ``l(u)`` of the label-weighted output ``u = y f_t(x)``, with their derivatives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .errors import check_choice

__all__ = ["LOSSES", "Loss", "get_loss"]


@dataclass(frozen=True)
class Loss:
    """A margin loss: ``value(u)`` and its derivative ``derivative(u)``, elementwise."""

    name: str
    value: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]


def _logistic_derivative(u: Tensor) -> Tensor:
    # -sigmoid(-u), with the subnormal values of large margins set to zero: the GEMMs that they
    # enter run an order of magnitude slower on subnormal operands (measured: long training
    # runs took 25x as long), and a weight below the smallest normal number changes nothing.
    s = torch.sigmoid(-u)
    return s.masked_fill_(s < torch.finfo(s.dtype).tiny, 0.0).neg_()


LOSSES: dict[str, Loss] = {
    # l(u) = -u: makes the pseudo-contrastive identity exact (Mechanism chapter).
    "correlation": Loss("correlation", lambda u: -u, lambda u: -torch.ones_like(u)),
    # l(u) = log(1 + e^{-u}); l'(0) = -1/2.
    "logistic": Loss("logistic", lambda u: torch.nn.functional.softplus(-u), _logistic_derivative),
    # l(u) = max(0, 1 - u); l'(u) = -1 for u < 1 (the subgradient 0 is taken at the kink).
    "hinge": Loss("hinge", lambda u: torch.relu(1 - u), lambda u: -(u < 1).to(u.dtype)),
}


def get_loss(name: str) -> Loss:
    """Return the registered loss called ``name``."""
    return LOSSES[check_choice("loss", name, LOSSES)]
