"""Training [N24]'s multi-output networks to a certified optimum of the representational cost.

Training minimises, over all parameters of S networks at once (:mod:`.model`),

    P = 1/2 sum_i ||f(x_i) - y_i||^2 + lam sum_k ||v_k||_2

(the squared loss summed over samples and tasks; ``lam`` is not rescaled with ``T``). Only ``w``
and ``v`` are penalised. The skip term ``J`` and the offset ``c`` are eliminated exactly (least
squares); ``V`` takes accelerated proximal steps (group soft-thresholding) of length ``1/L``;
``b`` and ``w`` take curvature-scaled gradient steps that stop where a neuron's hyperplane meets a
data point (``w`` retracted to the sphere), their length adapted per network.

Convergence is certified, not assumed (:mod:`.certificate`): training stops when the relative
gap between ``P`` and the dual bound is below ``tol``. When the dual constraint is violated a
dead neuron is moved to where the violation is largest (a column-generation step), so that
training cannot stall with no neuron where one is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from ..errors import ConvergenceError, ParameterError, check_float, check_int
from ..numerics import momentum
from .certificate import dual_bound
from .model import ReluNetwork, affine_projector, affine_terms, check_inputs, preactivation

__all__ = ["MultiTaskFit", "Training", "check_training", "train", "train_multitask"]


@dataclass(frozen=True)
class MultiTaskFit:
    """Trained ``network`` with, per network (S): the ``objective`` P, the certified lower
    ``bound`` on the optimum, the number of ``insertions``; and the ``steps`` taken."""

    network: ReluNetwork
    objective: Tensor
    bound: Tensor
    insertions: Tensor
    steps: int

    @property
    def gap(self) -> Tensor:
        """Return the relative duality gap ``(P - bound) / P`` (S): an upper bound on how far
        the objective is from the global optimum, relative to it."""
        return (self.objective - self.bound) / self.objective


def _residual(P: Tensor, H: Tensor, V: Tensor, Y: Tensor) -> Tensor:
    """Return the residual ``F - Y`` after the optimal affine term: ``P (H V - Y)``."""
    return P @ (H @ V - Y)


def _objective(R: Tensor, V: Tensor, lam: float) -> Tensor:
    return 0.5 * (R**2).sum((1, 2)) + lam * V.norm(dim=2).sum(1)


@dataclass(frozen=True)
class _Live:
    """The networks still training: their parameters ``W, b, V`` and the previous ``V``, the
    FISTA momentum ``t`` and the (w, b) step ``eta`` (S,), the pre-activations ``Z``, features
    ``H``, residual ``R`` and objective ``obj``, their targets ``Y`` and indices ``index``."""

    W: Tensor
    b: Tensor
    V: Tensor
    V_prev: Tensor
    t: Tensor
    eta: Tensor
    Z: Tensor
    H: Tensor
    R: Tensor
    obj: Tensor
    Y: Tensor
    index: Tensor

    @classmethod
    def start(cls, X, Y, P, W, b, V, lam) -> _Live:
        S = V.shape[0]
        t, eta = X.new_ones(S), X.new_full((S,), 0.5)
        index = torch.arange(S, device=X.device)
        return cls(W, b, V, V, t, eta, *_evaluate(X, Y, P, W, b, V, lam), Y, index)

    def select(self, keep: Tensor) -> _Live:
        return _Live(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def _evaluate(X, Y, P, W, b, V, lam):
    """Return the pre-activations, features, residual and objective of S networks."""
    Z = preactivation(X, W, b)
    H = torch.relu(Z)
    R = _residual(P, H, V, Y)
    return Z, H, R, _objective(R, V, lam)


def _proximal_V(s: _Live, P: Tensor, lam: float) -> tuple[Tensor, Tensor]:
    """Return an accelerated proximal step in ``V`` of length 1/L, L = ||P H||_2^2 (exact in
    ``V``), and the next momentum."""
    t_next = momentum(s.t)
    V_hat = s.V + ((s.t - 1) / t_next)[:, None, None] * (s.V - s.V_prev)
    PH = P @ s.H
    step_v = 1 / torch.linalg.eigvalsh(PH @ PH.transpose(1, 2))[:, -1].clamp_min(1e-300)
    V_new = V_hat - step_v[:, None, None] * (s.H.transpose(1, 2) @ _residual(P, s.H, V_hat, s.Y))
    shrink = 1 - step_v[:, None, None] * lam / V_new.norm(dim=2, keepdim=True)
    return V_new * shrink.clamp(min=0), t_next


def _neuron_proposal(s: _Live, X: Tensor) -> tuple[Tensor, Tensor]:
    """Return ``(w, b)`` after a gradient step scaled by each neuron's curvature
    ``||v_k||^2 sum (|x_i|^2 + 1)``, stopped at the data points (:func:`_neuron_step`)."""
    kink = s.Z.abs() <= _KINK * (1 + s.b.abs())[:, None, :]
    on = (s.Z > 0) & ~kink
    gZ = (s.R @ s.V.transpose(1, 2)) * on
    gW = gZ.transpose(1, 2) @ X
    gW = gW - (gW * s.W).sum(2, keepdim=True) * s.W  # tangent to the sphere
    curv = s.V.norm(dim=2) ** 2 * (on * (1 + (X**2).sum(1))[:, None]).sum(1)
    rate = s.eta[:, None] / curv.clamp_min(1e-300)
    return _neuron_step(X, s.W, s.b, s.Z, kink, -rate[..., None] * gW, -rate * gZ.sum(1))


def _step(s: _Live, X: Tensor, P: Tensor, lam: float) -> _Live:
    """Return the networks after one step: the step in ``V``, with the step in ``(w, b)`` kept
    only where it does at least as well as the step in ``V`` alone (else its length halves)."""
    V_new, t_next = _proximal_V(s, P, lam)
    W_new, b_new = _neuron_proposal(s, X)
    Z_new = preactivation(X, W_new, b_new)
    H_new = torch.relu(Z_new)
    R_full, R_v = _residual(P, H_new, V_new, s.Y), _residual(P, s.H, V_new, s.Y)
    obj_full, obj_v = _objective(R_full, V_new, lam), _objective(R_v, V_new, lam)
    take = obj_full <= obj_v * (1 + 1e-14)  # ties are rounding
    k1, k3 = take[:, None], take[:, None, None]
    return replace(
        s,
        t=torch.where(torch.minimum(obj_full, obj_v) > s.obj, 1.0, t_next),
        eta=torch.where(take, s.eta * 1.1, s.eta / 2),
        V_prev=s.V,
        V=V_new,
        W=torch.where(k3, W_new, s.W),
        b=torch.where(k1, b_new, s.b),
        Z=torch.where(k3, Z_new, s.Z),
        H=torch.where(k3, H_new, s.H),
        R=torch.where(k3, R_full, R_v),
        obj=torch.where(take, obj_full, obj_v),
    )


def _insert_neurons(s: _Live, X, P, lam, tol, done, values, w_cand, b_cand):
    """Return the networks with, in each unfinished one that has a dead neuron and violates the
    dual constraint, a dead neuron moved to the most violated position; and which moved."""
    dead = s.V.norm(dim=2) == 0
    best = values.argmax(1)
    move = torch.nonzero(~done & dead.any(1) & (values.amax(1) > lam * (1 + tol)))[:, 0]
    if not len(move):
        return s, move
    k = dead.to(torch.int8).argmax(1)[move]
    W, b = s.W.clone(), s.b.clone()
    W[move, k], b[move, k] = w_cand[move, best[move]], b_cand[move, best[move]]
    Z, H, R, obj = _evaluate(X, s.Y, P, W, b, s.V, lam)
    return replace(s, W=W, b=b, Z=Z, H=H, R=R, obj=obj), move


_KINK = 1e-12  # |w^T x_i + b| below this (relative) puts x_i on the neuron's hyperplane


def _neuron_step(X, W, b, Z, kink, dW, db):
    """Move each neuron by ``(dW, db)`` without crossing a data point, and return ``W, b``.

    The loss is smooth in ``(w_k, b_k)`` except where the hyperplane of neuron ``k`` meets a
    data point, so every neuron stops at the first data point it meets and then stays on it: a
    step that would lift a point on the hyperplane into the active side (where the gradient,
    taken with that point inactive, is wrong) keeps it on the hyperplane instead; in 2-D the
    neuron then rotates about that point, and two such points hold it fixed. Optimal neurons
    pass through data points, and dead ones are moved by :func:`train_multitask`'s insertions.
    """
    d = X.shape[1]
    dZ = X @ dW.transpose(1, 2) + db[:, None, :]
    rising = kink & (dZ > 0)
    count = rising.sum(1)  # (S, m)
    pivot = count == 1 if d == 2 else torch.zeros_like(count, dtype=torch.bool)
    anchor = (rising & pivot[:, None, :]).to(X.dtype).transpose(1, 2) @ X  # (S, m, d)
    # the rotation about the anchor: the step's component along the rotation, db moving with it
    along = anchor - (anchor * W).sum(2, keepdim=True) * W
    dW = torch.where(pivot[..., None], dW - db[..., None] * along, dW)
    db = torch.where(pivot, -(anchor * dW).sum(2), db)
    frozen = count >= d
    dW, db = torch.where(frozen[..., None], 0.0, dW), torch.where(frozen, 0.0, db)
    dZ = X @ dW.transpose(1, 2) + db[:, None, :]
    crossing = (Z * dZ < 0) & ~kink
    reach = torch.where(crossing, -Z / torch.where(crossing, dZ, 1.0), math.inf)
    first = reach.min(1)
    alpha = first.values.clamp(max=1.0)  # (S, m)
    W_new = torch.nn.functional.normalize(W + alpha[..., None] * dW, dim=2)
    # exactly on the point met, or on the anchor (the retraction moves them to second order)
    b_new = torch.where(first.values <= 1.0, -(W_new * X[first.indices]).sum(2), b + alpha * db)
    return W_new, torch.where(pivot, -(W_new * anchor).sum(2), b_new)


@dataclass(frozen=True)
class Training:
    """A checked training problem of :func:`train`: the data ``X`` (N, d) and ``Y`` (S or 1,
    N, T), the penalty ``lam``, the initial ``network`` and the settings of the loop."""

    X: Tensor
    Y: Tensor
    lam: float
    network: ReluNetwork
    tol: float
    max_steps: int
    check_every: int


def check_training(
    X: Tensor,
    Y: Tensor,
    lam: float,
    network: ReluNetwork,
    *,
    tol: float = 1e-5,
    max_steps: int = 100_000,
    check_every: int = 100,
) -> Training:
    """Return the problem of :func:`train_multitask`, checked (the defaults are the settings'
    defaults of :func:`train_multitask` and :func:`mtrl.fit_multitask`)."""
    X, Y = check_inputs(X, Y)
    lam = check_float("lam", lam, low_open=True)
    tol = check_float("tol", tol, low_open=True, high=1.0)
    max_steps, check_every = (
        check_int("max_steps", max_steps),
        check_int("check_every", check_every),
    )
    W, V = network.W, network.V
    S, m, T = V.shape
    if W.shape != (S, m, X.shape[1]) or Y.shape[2] != T or Y.shape[0] not in (1, S):
        raise ParameterError(
            f"network and data must agree: W {tuple(W.shape)}, V {tuple(V.shape)}, "
            f"X {tuple(X.shape)}, Y {tuple(Y.shape)}"
        )
    return Training(X, Y, lam, network, tol, max_steps, check_every)


def train_multitask(X: Tensor, Y: Tensor, lam: float, network: ReluNetwork, **settings):
    """Train ``network`` (S networks) on ``(X, Y)`` until each relative duality gap is < ``tol``.

    ``X`` (N, d) with ``d`` in {1, 2}; ``Y`` (N, T) shared by the networks or (S, N, T); the
    ``settings`` ``tol``, ``max_steps`` and ``check_every`` are those of :func:`check_training`.
    Every ``check_every`` steps the gap is computed; a network that reaches ``tol`` stops, and
    in the others one dead neuron is moved to the most violated position (if any is dead). Each
    step: an accelerated proximal step in ``V`` (length ``1/||P H||^2``, momentum restarted when
    the objective goes up) and a gradient step in ``(w, b)`` scaled by each neuron's curvature,
    kept only if it does at least as well as the step in ``V`` alone (else its length is
    halved). Raises :class:`ConvergenceError` after ``max_steps`` steps with the gaps reached.
    :func:`mtrl.fit_multitask` is the cached entry point. Returns a :class:`MultiTaskFit`.
    """
    return train(check_training(X, Y, lam, network, **settings))


def train(problem: Training) -> MultiTaskFit:
    """Train the checked ``problem`` (see :func:`train_multitask`)."""
    X, Y, lam, network = problem.X, problem.Y, problem.lam, problem.network
    tol, max_steps, check_every = problem.tol, problem.max_steps, problem.check_every
    W, b, V = network.W, network.b, network.V
    S = V.shape[0]
    P = affine_projector(X)
    s = _Live.start(X, Y.expand(S, -1, -1), P, W, b, V, lam)
    out = {"W": W.clone(), "b": b.clone(), "V": V.clone()}
    objective, bound = X.new_empty(S), X.new_empty(S)
    insertions = torch.zeros(S, dtype=torch.long, device=X.device)
    for step in range(1, max_steps + 1):
        s = _step(s, X, P, lam)
        if not bool(torch.isfinite(s.obj).all()):
            raise ConvergenceError(f"the objective is not finite at step {step}; lower lam")
        if step % check_every and step != max_steps:
            continue
        low, values, w_cand, b_cand = dual_bound(X, s.Y, -s.R, lam)
        objective[s.index], bound[s.index] = s.obj, low
        done = s.obj - low <= tol * s.obj
        for name in out:
            out[name][s.index[done]] = getattr(s, name)[done]
        if bool(done.all()):
            break
        s, moved = _insert_neurons(s, X, P, lam, tol, done, values, w_cand, b_cand)
        insertions[s.index[moved]] += 1
        s = s.select(~done)
    else:
        gaps = ((objective - bound) / objective).tolist()
        raise ConvergenceError(
            f"train_multitask did not reach tol={tol} in max_steps={max_steps}: relative gaps "
            f"{[f'{g:.2g}' for g in gaps]}; increase max_steps or tol, or raise lam"
        )
    W, b, V = out["W"], out["b"], out["V"]
    H = torch.relu(preactivation(X, W, b))
    return MultiTaskFit(ReluNetwork(W, b, V, *affine_terms(X, Y - H @ V)), objective, bound,
                        insertions, step)  # fmt: skip
