"""The pseudo-contrastive loss ``L_PC`` that a heads-first step induces (Mechanism chapter).

With ``A = 0``, one heads step gives ``a_t = -eta_a l'(0) (1/n1) sum_k y_{t,k} relu(W x_k + b)``,
and the representation gradient of the multi-task loss equals ``grad_W L_PC(W)`` with

    L_PC(W) = -(eta_a l'(0)^2 / T) sum_t (1/(n1 n2)) sum_{i in S2_t} sum_{k in S1_t}
              y_{t,i} y_{t,k} <relu(W x_i + b), stopgrad(relu(W x_k + b))>,

exactly for the correlation loss and to first order in the head scale for other losses.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .losses import get_loss
from .network import features

__all__ = ["kernel_contrastive_loss", "pseudo_contrastive_loss"]


def pseudo_contrastive_loss(
    W: Tensor,
    b: Tensor,
    X1: Tensor,
    y1: Tensor,
    X2: Tensor,
    y2: Tensor,
    *,
    eta_a: float,
    loss: str = "correlation",
) -> Tensor:
    """Return ``L_PC(W)`` (a scalar) for ``X1`` (T, n1, d), ``X2`` (T, n2, d), labels (T, n).

    The ``S1`` side is detached (the "pseudo" in pseudo-contrastive), so autograd of this loss
    is the representation gradient after the heads step.
    """
    factor = get_loss(loss).derivative(torch.zeros((), dtype=W.dtype)) ** 2  # l'(0)^2
    anchor = torch.einsum("tn,tnm->tm", y1, features(W, b, X1)).detach() / X1.shape[1]
    pulled = torch.einsum("tn,tnm->tm", y2, features(W, b, X2)) / X2.shape[1]
    return -eta_a * factor * (anchor * pulled).sum() / X1.shape[0]


def kernel_contrastive_loss(
    W: Tensor, b: Tensor, X: Tensor, X2: Tensor, K: Tensor, *, eta_a: float
) -> Tensor:
    """Return ``-eta_a mean_{i,j} K_ij <relu(W x_i + b), stopgrad(relu(W x'_j + b))>``.

    The population form of ``L_PC`` (correlation loss) estimated on pairs: ``X`` (N, d),
    ``X2`` (N2, d), ``K`` (N, N2) the label-agreement kernel ``K(M^T x_i, M^T x'_j)``.
    """
    H, H2 = features(W, b, X), features(W, b, X2).detach()
    return -eta_a * (K * (H @ H2.T)).mean()
