"""Multi-output shallow ReLU networks trained with the representational cost ([N24]).

The network of the Kernel regime chapter maps ``R^d`` to ``R^T``:

    f(x) = sum_k v_k relu(w_k^T x + b_k) + A x + c,    ||w_k|| = 1,

with ``m`` neurons, output weights ``V`` (m, T) with rows ``v_k``, skip term ``A`` (T, d) and
offset ``c`` (T). Training minimises, over all parameters,

    P = 1/2 sum_i ||f(x_i) - y_i||^2 + lam sum_k ||v_k||_2

(the squared loss summed over samples and tasks; ``lam`` is not rescaled with ``T``). Only ``w``
and ``v`` are penalised. ``A`` and ``c`` are eliminated exactly (least squares); ``V`` takes
accelerated proximal steps (group soft-thresholding) of length ``1/L``; ``b`` and ``w`` take
curvature-scaled gradient steps that stop where a neuron's hyperplane meets a data point
(``w`` retracted to the sphere), their length adapted per network. Several networks (seeds)
train at once.

Convergence is certified, not assumed: with ``U = Y - F`` the residual (orthogonal to the
affine functions), every ``U`` with ``sup_{||w||=1, b} ||U^T relu(X w + b)|| <= lam`` gives the
lower bound ``<U, Y> - 1/2 ||U||^2 <= P*`` (weak duality; the chapter proves it). The supremum
is computed exactly for ``d = 1`` and ``d = 2``; training stops when the relative gap between
``P`` and that bound is below ``tol``. When the supremum exceeds ``lam`` a dead neuron is moved
to where it is attained (a column-generation step), so that training cannot stall with no
neuron where one is needed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .cache import ResultCache, default_cache
from .errors import ConvergenceError, ParameterError, check_float, check_int
from .experiments import stream

__all__ = [
    "MultiTaskFit",
    "ReluNetwork",
    "affine_projector",
    "certificate",
    "fit_multitask",
    "init_relu_networks",
    "kernel_solution",
    "max_correlation",
]


@dataclass(frozen=True)
class ReluNetwork:
    """``S`` networks at once: ``W`` (S, m, d) unit rows, ``b`` (S, m), ``V`` (S, m, T),
    ``A`` (S, T, d), ``c`` (S, T)."""

    W: Tensor
    b: Tensor
    V: Tensor
    A: Tensor
    c: Tensor

    def __call__(self, X: Tensor) -> Tensor:
        """Return the outputs at ``X`` (G, d): (S, G, T)."""
        H = torch.relu(_preactivation(X, self.W, self.b))
        return H @ self.V + X @ self.A.transpose(1, 2) + self.c[:, None, :]

    @property
    def path_norm(self) -> Tensor:
        """Return ``sum_k ||w_k|| ||v_k||`` (S): the representational cost of the weights."""
        return (self.W.norm(dim=2) * self.V.norm(dim=2)).sum(1)

    @property
    def active(self) -> Tensor:
        """Return which neurons have a nonzero output weight: (S, m) bool."""
        return self.V.norm(dim=2) > 0


@dataclass(frozen=True)
class MultiTaskFit:
    """Trained ``network`` with, per network (S): the ``objective`` P, the certified lower
    ``bound`` on the optimum, the number of ``insertions``; and the ``steps`` taken."""

    network: ReluNetwork
    lam: float
    objective: Tensor
    bound: Tensor
    insertions: Tensor
    steps: int

    @property
    def gap(self) -> Tensor:
        """Return the relative duality gap ``(P - bound) / P`` (S): an upper bound on how far
        the objective is from the global optimum, relative to it."""
        return (self.objective - self.bound) / self.objective


def affine_projector(X: Tensor) -> Tensor:
    """Return the (N, N) projector onto the complement of the affine functions at ``X`` (N, d)."""
    Q, _ = torch.linalg.qr(_affine(X))
    return torch.eye(X.shape[0], dtype=X.dtype, device=X.device) - Q @ Q.T


def _affine(X: Tensor) -> Tensor:
    """Return ``[X, 1]`` (N, d + 1): the affine functions at the data."""
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)], 1)


def _affine_terms(X: Tensor, residual: Tensor) -> tuple[Tensor, Tensor]:
    """Return the least-squares ``A`` (S, T, d) and ``c`` (S, T) of ``residual`` (S, N, T)."""
    coef = torch.linalg.lstsq(_affine(X).expand(len(residual), -1, -1), residual).solution
    return coef[:, :-1].transpose(1, 2), coef[:, -1]


def _preactivation(X: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """Return ``w_k^T x_i + b_k`` of S networks: ``X`` (N, d), ``W`` (S, m, d) -> (S, N, m)."""
    return X @ W.transpose(1, 2) + b[:, None, :]


def _check_inputs(X: Tensor, Y: Tensor) -> tuple[Tensor, Tensor]:
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
    X: Tensor, T: int, m: int, seeds: Sequence[int], *, init_scale: float = 1.0
) -> ReluNetwork:
    """Draw one network per seed, each from its seed's ``init`` stream: ``w_k`` uniform on the
    sphere, ``b_k`` uniform on ``[-rho, rho]`` with ``rho = 1.25 max_i ||x_i||`` (so the
    initial knots spread over the data), ``v_k ~ N(0, init_scale^2 / m I_T)``, ``A = 0``,
    ``c = 0``."""
    T, m = check_int("T", T), check_int("m", m)
    init_scale = check_float("init_scale", init_scale, low_open=True)
    if len(seeds) == 0:
        raise ParameterError("seeds must be a non-empty sequence of integers >= 0")
    d, dtype = X.shape[1], X.dtype
    rho = 1.25 * float(X.norm(dim=1).max())
    Ws, bs, Vs = [], [], []
    for seed in seeds:
        g = stream(seed, "init")
        Ws.append(torch.nn.functional.normalize(torch.randn(m, d, generator=g, dtype=dtype), dim=1))
        bs.append((2 * torch.rand(m, generator=g, dtype=dtype) - 1) * rho)
        Vs.append(torch.randn(m, T, generator=g, dtype=dtype) * init_scale / math.sqrt(m))
    S = len(seeds)
    zeros = torch.zeros
    return ReluNetwork(
        torch.stack(Ws), torch.stack(bs), torch.stack(Vs), zeros(S, T, d, dtype=dtype),
        zeros(S, T, dtype=dtype),
    )  # fmt: skip


def max_correlation(X: Tensor, U: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Return ``sup_{||w||=1, b} ||U^T relu(X w + b)||`` for each ``U`` (S, N, T) orthogonal to
    the affine functions at ``X`` (N, d), with a maximiser ``w`` (S, d) and ``b`` (S), exactly.

    For such ``U`` the supremum over ``b`` is attained with the hyperplane through a data point
    (the norm is convex in ``b`` between them, and zero when no or every point is active). For
    ``d = 2`` the activation pattern is constant on arcs of directions, where the norm is that
    of a linear map, maximised at an arc's end or at its top eigenvector.
    """
    values, w, b = _candidates(X, U)
    best = values.argmax(1)
    rows = torch.arange(U.shape[0], device=U.device)
    return values[rows, best], w[rows, best], b[rows, best]


def _candidates(X: Tensor, U: Tensor) -> tuple[Tensor, Tensor, Tensor]:
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
    """Return the objective ``P`` of each of the S networks (with their own ``A`` and ``c``;
    the penalty is the path norm) and a lower bound on the optimum ``P*``, both (S).

    The bound is the dual objective ``<U, Y> - 1/2 ||U||^2`` at ``U`` = the residual ``Y - F``
    made orthogonal to the affine functions and scaled until
    ``sup_{||w||=1, b} ||U^T relu(X w + b)|| <= lam`` (weak duality: the chapter's proposition).
    """
    X, Y = _check_inputs(X, Y)
    lam = check_float("lam", lam, low_open=True)
    F = network(X)
    objective = 0.5 * ((F - Y) ** 2).sum((1, 2)) + lam * network.path_norm
    return objective, _dual_bound(X, Y, affine_projector(X) @ (Y - F), lam)[0]


def _dual_bound(X, Y, U, lam):
    """Return the dual bound at ``U`` (S, N, T), orthogonal to the affine functions, once scaled
    into the feasible set; and the candidates' correlations, ``w`` and ``b``."""
    values, w, b = _candidates(X, U)
    scale = torch.clamp(lam / values.amax(1), max=1.0)
    bound = scale * (U * Y).sum((1, 2)) - scale**2 / 2 * (U**2).sum((1, 2))
    return bound, values, w, b


def _state(X, Y, P, W, b, V, lam):
    """Return the pre-activations, features, residual and objective of S networks."""
    Z = _preactivation(X, W, b)
    H = torch.relu(Z)
    R = _residual(P, H, V, Y)
    return Z, H, R, _objective(R, V, lam)


def _residual(P: Tensor, H: Tensor, V: Tensor, Y: Tensor) -> Tensor:
    """Return the residual ``F - Y`` after the optimal affine term: ``P (H V - Y)``."""
    return P @ (H @ V - Y)


def _objective(R: Tensor, V: Tensor, lam: float) -> Tensor:
    return 0.5 * (R**2).sum((1, 2)) + lam * V.norm(dim=2).sum(1)


_KINK = 1e-12  # |w^T x_i + b| below this (relative) puts x_i on the neuron's hyperplane


def _neuron_step(X, W, b, Z, kink, dW, db):
    """Move each neuron by ``(dW, db)`` without crossing a data point, and return ``W, b``.

    The loss is smooth in ``(w_k, b_k)`` except where the hyperplane of neuron ``k`` meets a
    data point, so every neuron stops at the first data point it meets and then stays on it: a
    step that would lift a point on the hyperplane into the active side (where the gradient,
    taken with that point inactive, is wrong) keeps it on the hyperplane instead; in 2-D the
    neuron then rotates about that point, and two such points hold it fixed. Optimal neurons
    pass through data points, and dead ones are moved by :func:`fit_multitask`'s insertions.
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


def fit_multitask(
    X: Tensor,
    Y: Tensor,
    lam: float,
    network: ReluNetwork,
    *,
    tol: float = 1e-5,
    max_steps: int = 100_000,
    check_every: int = 100,
    cache: ResultCache | str | None = "default",
) -> MultiTaskFit:
    """Train ``network`` (S networks) on ``(X, Y)`` until each relative duality gap is < ``tol``.

    ``X`` (N, d) with ``d`` in {1, 2}; ``Y`` (N, T) shared by the networks or (S, N, T). Every
    ``check_every`` steps the gap is computed; a network that reaches ``tol`` stops, and in the
    others one dead neuron is moved to the most violated position (if any is dead). Each step:
    an accelerated proximal step in ``V`` (length ``1/||P H||^2``, momentum restarted when the
    objective goes up) and a gradient step in ``(w, b)`` scaled by each neuron's curvature, kept
    only if it does at least as well as the step in ``V`` alone (else its length is halved).
    Raises :class:`ConvergenceError` after ``max_steps`` steps with the gaps reached. The fit is
    stored in ``cache`` (as for :func:`mtrl.run`: ``"default"``, a ``ResultCache`` or ``None``)
    under a hash of every input and of the code, and loaded from it when it is there.
    """
    X, Y = _check_inputs(X, Y)
    lam = check_float("lam", lam, low_open=True)
    tol = check_float("tol", tol, low_open=True, high=1.0)
    max_steps, check_every = (
        check_int("max_steps", max_steps),
        check_int("check_every", check_every),
    )
    W, b, V = network.W, network.b, network.V
    S, m, T = V.shape
    if W.shape != (S, m, X.shape[1]) or Y.shape[2] != T or Y.shape[0] not in (1, S):
        raise ParameterError(
            f"network and data must agree: W {tuple(W.shape)}, V {tuple(V.shape)}, "
            f"X {tuple(X.shape)}, Y {tuple(Y.shape)}"
        )
    cache = default_cache() if cache == "default" else cache
    key = {
        "fit_multitask": {k: _digest(v) for k, v in dict(X=X, Y=Y, W=W, b=b, V=V).items()},
        "lam": lam, "tol": tol, "max_steps": max_steps, "check_every": check_every,
    }  # fmt: skip
    if cache is not None and (hit := cache.get(key)) is not None:
        net = ReluNetwork(*(hit[name] for name in ("W", "b", "V", "A", "c")))
        return MultiTaskFit(
            net, lam, hit["objective"], hit["bound"], hit["insertions"], hit["steps"]
        )
    fit = _fit(X, Y, lam, W, b, V, tol, max_steps, check_every)
    if cache is not None:
        n = fit.network
        cache.put(
            key,
            dict(W=n.W, b=n.b, V=n.V, A=n.A, c=n.c, objective=fit.objective, bound=fit.bound,
                 insertions=fit.insertions, steps=fit.steps),
        )  # fmt: skip
    return fit


def _digest(t: Tensor) -> str:
    """Return a hash of a tensor's dtype, shape and values (the key of a cached fit)."""
    data = t.detach().cpu().contiguous()
    h = hashlib.sha256(f"{data.dtype} {tuple(data.shape)}".encode())
    h.update(data.numpy().tobytes())
    return h.hexdigest()


def _fit(X, Y, lam, W, b, V, tol, max_steps, check_every) -> MultiTaskFit:
    """The training loop of :func:`fit_multitask` (inputs checked)."""
    S = V.shape[0]
    P = affine_projector(X)
    Y = Y.expand(S, -1, -1)
    out = {"W": W.clone(), "b": b.clone(), "V": V.clone()}
    objective, bound = torch.empty(S, dtype=X.dtype), torch.empty(S, dtype=X.dtype)
    insertions, steps = torch.zeros(S, dtype=torch.long), 0
    live = torch.arange(S)  # the networks still training
    Yl = Y
    eta = torch.full((S,), 0.5, dtype=X.dtype)  # the (w, b) step, adapted
    t, V_prev = torch.ones(S, dtype=X.dtype), V
    Z, H, R, obj = _state(X, Yl, P, W, b, V, lam)
    for step in range(1, max_steps + 1):
        # V: an accelerated proximal step of length 1/L, L = ||P H||_2^2 (exact in V)
        t_next = (1 + torch.sqrt(1 + 4 * t * t)) / 2
        V_hat = V + ((t - 1) / t_next)[:, None, None] * (V - V_prev)
        PH = P @ H
        step_v = 1 / torch.linalg.eigvalsh(PH @ PH.transpose(1, 2))[:, -1].clamp_min(1e-300)
        V_new = V_hat - step_v[:, None, None] * (H.transpose(1, 2) @ _residual(P, H, V_hat, Yl))
        shrink = 1 - step_v[:, None, None] * lam / V_new.norm(dim=2, keepdim=True)
        V_new = V_new * shrink.clamp(min=0)
        # (w, b): a gradient step scaled by each neuron's curvature ||v_k||^2 sum (|x_i|^2 + 1)
        kink = Z.abs() <= _KINK * (1 + b.abs())[:, None, :]
        on = (Z > 0) & ~kink
        gZ = (R @ V.transpose(1, 2)) * on
        gW = gZ.transpose(1, 2) @ X
        gW = gW - (gW * W).sum(2, keepdim=True) * W  # tangent to the sphere
        curv = V.norm(dim=2) ** 2 * (on * (1 + (X**2).sum(1))[:, None]).sum(1)
        rate = eta[:, None] / curv.clamp_min(1e-300)
        W_new, b_new = _neuron_step(X, W, b, Z, kink, -rate[..., None] * gW, -rate * gZ.sum(1))
        Z_new = _preactivation(X, W_new, b_new)
        H_new = torch.relu(Z_new)
        R_full, R_v = _residual(P, H_new, V_new, Yl), _residual(P, H, V_new, Yl)
        obj_full, obj_v = _objective(R_full, V_new, lam), _objective(R_v, V_new, lam)
        take = obj_full <= obj_v * (1 + 1e-14)  # ties are rounding
        t = torch.where(torch.minimum(obj_full, obj_v) > obj, 1.0, t_next)
        eta = torch.where(take, eta * 1.1, eta / 2)
        k1, k3 = take[:, None], take[:, None, None]
        V_prev, V = V, V_new
        W, b = torch.where(k3, W_new, W), torch.where(k1, b_new, b)
        Z, H = torch.where(k3, Z_new, Z), torch.where(k3, H_new, H)
        R, obj = torch.where(k3, R_full, R_v), torch.where(take, obj_full, obj_v)
        if not bool(torch.isfinite(obj).all()):
            raise ConvergenceError(f"the objective is not finite at step {step}; lower lam")
        steps = step
        if step % check_every and step != max_steps:
            continue
        low, values, w_cand, b_cand = _dual_bound(X, Yl, -R, lam)
        objective[live], bound[live] = obj, low
        done = obj - low <= tol * obj
        for name, value in (("W", W), ("b", b), ("V", V)):
            out[name][live[done]] = value[done]
        if bool(done.all()):
            break
        # column generation: a dead neuron moves to where the dual constraint is violated most
        dead = V.norm(dim=2) == 0
        best = values.argmax(1)
        move = torch.nonzero(~done & dead.any(1) & (values.amax(1) > lam * (1 + tol)))[:, 0]
        if len(move):
            k = dead.to(torch.int8).argmax(1)[move]
            W, b = W.clone(), b.clone()
            W[move, k], b[move, k] = w_cand[move, best[move]], b_cand[move, best[move]]
            insertions[live[move]] += 1
            Z, H, R, obj = _state(X, Yl, P, W, b, V, lam)
        keep = ~done
        live, Yl, eta, t = live[keep], Yl[keep], eta[keep], t[keep]
        W, b, V, V_prev, Z, H, R, obj = (x[keep] for x in (W, b, V, V_prev, Z, H, R, obj))
    else:
        gaps = ((objective - bound) / objective).tolist()
        raise ConvergenceError(
            f"fit_multitask did not reach tol={tol} in max_steps={max_steps}: relative gaps "
            f"{[f'{g:.2g}' for g in gaps]}; increase max_steps or tol, or raise lam"
        )
    W, b, V = out["W"], out["b"], out["V"]
    H = torch.relu(_preactivation(X, W, b))
    net = ReluNetwork(W, b, V, *_affine_terms(X, Y - H @ V))
    return MultiTaskFit(net, lam, objective, bound, insertions, steps)


def kernel_solution(X: Tensor, y: Tensor, network: ReluNetwork, lam: float) -> ReluNetwork:
    """Fit one task ``y`` (N) by the weighted-l2 problem over ``network``'s neurons ([N24]):

        min_v 1/2 sum_i (y_i - sum_k v_k phi_k(x_i) - a^T x_i - c)^2 + lam/2 sum_k gamma_k v_k^2

    with ``phi_k = relu(w_k^T x + b_k)`` and ``gamma_k = 1 / ||v*_k||`` over the active neurons
    of each of the S networks (the others get ``v_k = 0``). Returns the S one-output networks.
    """
    lam = check_float("lam", lam, low_open=True)
    if y.shape != (X.shape[0],):
        raise ParameterError(f"y must be (N,) with N={X.shape[0]}, got {tuple(y.shape)}")
    P = affine_projector(X)
    norms = network.V.norm(dim=2)  # (S, m)
    Phi = torch.relu(_preactivation(X, network.W, network.b))
    Phi = Phi * (norms > 0)[:, None, :]
    gamma = torch.where(norms > 0, 1 / norms, torch.ones_like(norms))
    G = Phi.transpose(1, 2) @ P @ Phi + lam * torch.diag_embed(gamma)
    v = torch.linalg.solve(G, Phi.transpose(1, 2) @ (P @ y))  # (S, m)
    residual = (y - (Phi @ v[..., None])[..., 0])[..., None]
    return ReluNetwork(network.W, network.b, v[..., None], *_affine_terms(X, residual))
