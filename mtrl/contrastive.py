"""The pseudo-contrastive loss ``L_PC`` that a heads-first step induces (Mechanism chapter).

With ``A = 0``, one heads step gives ``a_t = -eta_a l'(0) (1/n1) sum_k y_{t,k} relu(W x_k + b)``,
and the representation gradient of the multi-task loss equals ``grad_W L_PC(W)`` with

    L_PC(W) = -(eta_a l'(0)^2 / T) sum_t (1/(n1 n2)) sum_{i in S2_t} sum_{k in S1_t}
              y_{t,i} y_{t,k} <relu(W x_i + b), stopgrad(relu(W x_k + b))>,

exactly for the correlation loss and to first order in the head scale for other losses;
:func:`pseudo_contrastive_error` measures how far the two gradients are apart.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .batches import Batches
from .losses import get_loss
from .network import features
from .pretrain import head_gradient, representation_gradient

__all__ = ["kernel_contrastive_loss", "pseudo_contrastive_error", "pseudo_contrastive_loss"]


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


def pseudo_contrastive_error(
    W: Tensor, b: Tensor, batch: Batches, *, eta_a: float, loss: str = "correlation"
) -> float:
    """Return the relative error ``||G - grad_W L_PC||_F / ||G||_F`` of the pseudo-contrastive
    identity (Proposition ``prop-pc-identity``) on one ``batch`` of pretraining data.

    ``G`` is the representation gradient (mean over the tasks of ``batch``) after one heads
    step of size ``eta_a`` from ``A = 0``; ``W`` (m, d), ``b`` (m). Zero up to round-off for
    the correlation loss, first order in ``eta_a`` for the logistic loss.
    """
    lossf, T = get_loss(loss), batch.X1.shape[0]
    A = torch.zeros(T, W.shape[0], dtype=W.dtype, device=W.device)
    heads = -eta_a * head_gradient(W, b, A, batch.X1, batch.y1, lossf)  # the step from A = 0
    G = representation_gradient(W, b, heads, batch.X2, batch.y2, lossf) / T
    leaf = W.detach().clone().requires_grad_(True)
    lpc = pseudo_contrastive_loss(
        leaf, b, batch.X1, batch.y1, batch.X2, batch.y2, eta_a=eta_a, loss=loss
    )
    (grad_pc,) = torch.autograd.grad(lpc, leaf)
    return ((G - grad_pc).norm() / G.norm()).item()


def kernel_contrastive_loss(
    W: Tensor, b: Tensor, X: Tensor, X2: Tensor, K: Tensor, *, eta_a: float
) -> Tensor:
    """Return ``-eta_a mean_{i,j} K_ij <relu(W x_i + b), stopgrad(relu(W x'_j + b))>``.

    The population form of ``L_PC`` (correlation loss) estimated on pairs: ``X`` (N, d),
    ``X2`` (N2, d), ``K`` (N, N2) the label-agreement kernel ``K(M^T x_i, M^T x'_j)``.
    """
    H, H2 = features(W, b, X), features(W, b, X2).detach()
    return -eta_a * (K * (H @ H2.T)).mean()
