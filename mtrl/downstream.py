"""Downstream tasks: a linear probe on the frozen representation (Downstream chapter).

The probe sees ``h(x) = relu(W_hat x + b)`` with ``W_hat`` the rows of ``W`` scaled to unit norm:
the scale of a pretrained ``W`` is arbitrary (weight decay sets it), and a regularised probe
should not depend on it. Optionally the biases are re-sampled, ``b_j ~ N(0, bias_scale^2)``.
All downstream tasks share the same inputs, so one feature matrix serves them all.

The probe minimises, for every task, ``(1/n) sum_i l(y_i (nu^T h_i + nu_0)) + (reg/2) ||nu||^2``
(intercept ``nu_0`` not penalised) with the logistic loss, by damped Newton steps until the
gradient norm is below ``tol``; or, with ``method="ridge"``, the squared loss in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .errors import ConvergenceError, ParameterError, check_choice, check_float, check_int
from .network import features
from .numerics import with_ones
from .tasks import TaskSet, draw_tasks

__all__ = [
    "PROBES",
    "Downstream",
    "Probe",
    "downstream_accuracy",
    "fit_probe",
    "kernel_deviation",
    "new_task_samples",
    "orthogonal_halfspaces",
    "probe_features",
]

PROBES = ("logistic", "ridge")
PROBE_TOL = 1e-8  # the gradient norm every logistic probe of downstream_accuracy reaches


@dataclass(frozen=True)
class Probe:
    """Fitted probes of ``k`` tasks: ``weights`` (k, m), ``intercepts`` (k), the Newton
    ``iterations`` used, and the final ``gradient_norm`` (k) of each objective."""

    weights: Tensor
    intercepts: Tensor
    iterations: int
    gradient_norm: Tensor

    def predict(self, H: Tensor) -> Tensor:
        """Return the labels the probes give to features ``H`` (n, m): (k, n) in {-1, +1}."""
        scores = self.weights @ H.T + self.intercepts[:, None]
        return torch.where(scores >= 0, 1.0, -1.0).to(H.dtype)


def probe_features(
    W: Tensor,
    b: Tensor,
    X: Tensor,
    *,
    resample_bias: bool = False,
    bias_scale: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Return ``relu(W_hat x + b)`` for ``X`` (n, d), with unit-norm rows ``W_hat``: (n, m).

    With ``resample_bias`` the biases are drawn afresh, ``b_j ~ N(0, bias_scale^2)``
    (``generator`` required); otherwise ``b`` is scaled with its row.
    """
    norms = W.norm(dim=1)
    if not bool((norms > 0).all()):
        raise ParameterError("W must have no zero row to be probed (a zero row is a dead neuron)")
    if resample_bias:
        if generator is None:
            raise ParameterError("generator is required when resample_bias is True")
        scale = check_float("bias_scale", bias_scale, low_open=True)
        bias = _randn(W.shape[0], generator=generator, like=W) * scale
    else:
        bias = b / norms
    return features(W / norms[:, None], bias, X)


def _logistic_objective(Z: Tensor, y: Tensor, theta: Tensor, reg: float) -> Tensor:
    margins = y * (theta @ Z.T)  # (k, n)
    penalty = 0.5 * reg * theta[:, :-1].square().sum(1)
    return torch.nn.functional.softplus(-margins).mean(1) + penalty


def _randn(*shape: int, generator: torch.Generator, like: Tensor) -> Tensor:
    """Draw N(0, 1) numbers on the generator's device, then move them to ``like``'s: the same
    numbers for a seed whatever the device of the data."""
    out = torch.randn(shape, generator=generator, dtype=like.dtype, device=generator.device)
    return out.to(like.device)


def _fit_logistic(H: Tensor, y: Tensor, reg: float, tol: float, max_iter: int) -> Probe:
    Z = with_ones(H)  # (n, m + 1)
    n, p = Z.shape
    theta = H.new_zeros(y.shape[0], p)
    penalty = H.new_full((p,), reg)
    penalty[-1] = 0.0  # the intercept is not penalised
    for iteration in range(max_iter + 1):
        margins = y * (theta @ Z.T)
        weight = torch.sigmoid(-margins)  # (k, n)
        grad = -(weight * y) @ Z / n + penalty * theta  # (k, p)
        grad_norm = grad.norm(dim=1)
        if bool((grad_norm < tol).all()) or iteration == max_iter:
            break
        curvature = weight * (1 - weight) / n  # (k, n)
        hessian = (Z.T * curvature[:, None, :]) @ Z + torch.diag(penalty)  # (k, p, p)
        hessian[:, -1, -1] += 1e-12  # keeps the intercept's block invertible on separable data
        step = torch.linalg.solve(hessian, grad)
        # Damped Newton: halve the step until the objective does not increase (per task).
        current = _logistic_objective(Z, y, theta, reg)
        t = H.new_ones(y.shape[0], 1)
        for _ in range(30):
            trial = _logistic_objective(Z, y, theta - t * step, reg)
            worse = trial > current + 1e-15 * current.abs()
            if not bool(worse.any()):
                break
            t = torch.where(worse[:, None], t / 2, t)
        theta = theta - t * step
    return Probe(theta[:, :-1], theta[:, -1], iteration, grad_norm)


def _fit_ridge(H: Tensor, y: Tensor, reg: float) -> Probe:
    n, m = H.shape
    mean_h, mean_y = H.mean(0), y.mean(1)
    Hc = H - mean_h
    gram = Hc.T @ Hc / n + reg * torch.eye(m, dtype=H.dtype, device=H.device)
    weights = torch.linalg.solve(gram, Hc.T @ (y - mean_y[:, None]).T / n).T  # (k, m)
    intercepts = mean_y - weights @ mean_h
    residual = y - (weights @ H.T + intercepts[:, None])
    grad = torch.cat([-(residual @ H) / n + reg * weights, -residual.mean(1, keepdim=True)], 1)
    return Probe(weights, intercepts, 0, grad.norm(dim=1))


def fit_probe(
    H: Tensor,
    y: Tensor,
    *,
    reg: float,
    method: str = "logistic",
    tol: float = 1e-8,
    max_iter: int = 50,
) -> Probe:
    """Fit one regularised linear probe per task on shared features ``H`` (n, m), labels ``y``
    (k, n) in {-1, +1}. ``reg > 0``; logistic probes stop when every gradient norm is below
    ``tol`` (or after ``max_iter`` Newton steps: check ``gradient_norm``). The default ``tol``
    needs float64 inputs; in float32, gradient norms below about 1e-6 are not resolved."""
    check_choice("method", method, PROBES)
    reg = check_float("reg", reg, low_open=True)
    tol = check_float("tol", tol, low_open=True)
    max_iter = check_int("max_iter", max_iter)
    if H.ndim != 2 or y.ndim != 2 or y.shape[1] != H.shape[0]:
        raise ParameterError(
            f"H must be (n, m) and y (k, n), got {tuple(H.shape)} and {tuple(y.shape)}"
        )
    if method == "ridge":
        return _fit_ridge(H, y, reg)
    return _fit_logistic(H, y, reg, tol, max_iter)


@dataclass(frozen=True)
class Downstream:
    """Test ``accuracy`` (k) of the probes on ``k`` new tasks, and the fitted ``probe``."""

    accuracy: Tensor
    probe: Probe


def new_task_samples(
    M: Tensor,
    n: int,
    *,
    family: str,
    num_tasks: int,
    tasks: Tensor | None = None,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor]:
    """Draw ``num_tasks`` new tasks of ``family`` on ``span(M)`` (unless ``tasks``
    (num_tasks, directions, r) are given), then ``n`` inputs shared by them: ``X`` (n, d) and
    the labels ``y`` (num_tasks, n), in this order from ``generator``."""
    num_tasks = check_int("num_tasks", num_tasks)
    if tasks is None:
        tasks = draw_tasks(family, num_tasks, M.shape[1], generator=generator, dtype=M.dtype)
        tasks = tasks.to(M.device)
    truth = TaskSet(M, tasks, family)
    X = _randn(check_int("n", n), M.shape[0], generator=generator, like=M)
    return X, truth.labels((X @ M).expand(truth.T, -1, -1))


def downstream_accuracy(
    W: Tensor,
    b: Tensor,
    M: Tensor,
    *,
    family: str,
    n_down: int,
    n_test: int,
    num_tasks: int,
    reg: float,
    method: str = "logistic",
    resample_bias: bool = False,
    tasks: Tensor | None = None,
    generator: torch.Generator,
) -> Downstream:
    """Fit probes on ``n_down`` samples of ``num_tasks`` new tasks and test on ``n_test`` more.

    The new tasks are drawn from ``family`` with ``generator`` unless ``tasks``
    (num_tasks, directions, r) are given (e.g. directions orthogonal to what was pretrained).
    A logistic probe that does not reach the gradient norm ``PROBE_TOL`` raises
    :class:`ConvergenceError`: every accuracy it returns is that of a converged probe.
    """
    n_down, n_test = check_int("n_down", n_down), check_int("n_test", n_test)
    X, y = new_task_samples(
        M, n_down + n_test, family=family, num_tasks=num_tasks, tasks=tasks, generator=generator
    )
    # The probe is small: fit it in float64, where a gradient tolerance of 1e-8 is attainable.
    H = probe_features(W, b, X, resample_bias=resample_bias, generator=generator).double()
    y = y.double()
    probe = fit_probe(H[:n_down], y[:, :n_down], reg=reg, method=method, tol=PROBE_TOL)
    if method == "logistic" and not bool((probe.gradient_norm < PROBE_TOL).all()):
        raise ConvergenceError(
            f"a logistic probe did not reach a gradient norm below {PROBE_TOL:g} in "
            f"{probe.iterations} Newton steps (largest {probe.gradient_norm.max().item():.1e}); "
            f"increase reg (got {reg})"
        )
    accuracy = (probe.predict(H[n_down:]) == y[:, n_down:]).double().mean(1)
    return Downstream(accuracy, probe)


def orthogonal_halfspaces(direction: Tensor, num_tasks: int, *, generator) -> Tensor:
    """Draw halfspace tasks (num_tasks, 1, r) uniformly among directions orthogonal to
    ``direction`` (r)."""
    if direction.shape[0] < 2:
        raise ParameterError(f"orthogonal directions need r >= 2, got r={direction.shape[0]}")
    u = direction / direction.norm()
    theta = _randn(check_int("num_tasks", num_tasks), u.shape[0], generator=generator, like=u)
    theta = theta - (theta @ u)[:, None] * u
    return (theta / theta.norm(dim=1, keepdim=True))[:, None, :]


def kernel_deviation(W: Tensor, b: Tensor, M: Tensor, X: Tensor, X_other: Tensor) -> float:
    """Return how much of the probe kernel's variation is due to more than ``M^T x``.

    ``K`` is the kernel matrix ``<h(x_i), h(x_j)>`` of the inputs ``X`` (n, d), with ``h`` as in
    :func:`probe_features` (biases kept), and ``K'`` that of the same inputs with their
    components orthogonal to ``span(M)`` taken from ``X_other`` (n, d). Over the pairs
    ``i != j`` the result is ``||K - K'|| / ||K - mean(K)||``: zero when the kernel depends on
    the inputs through ``M^T x`` only, about ``sqrt(2)`` when it does not depend on it at all.
    """
    if X.shape != X_other.shape or X.ndim != 2 or X.shape[1] != M.shape[0]:
        raise ParameterError(
            f"X and X_other must both be (n, d) with d={M.shape[0]}, got {tuple(X.shape)} "
            f"and {tuple(X_other.shape)}"
        )
    X_swapped = X @ M @ M.T + X_other - X_other @ M @ M.T
    H, H_swapped = probe_features(W, b, X), probe_features(W, b, X_swapped)
    pairs = ~torch.eye(X.shape[0], dtype=torch.bool, device=X.device)
    K, K_swapped = (H @ H.T)[pairs], (H_swapped @ H_swapped.T)[pairs]
    return float((K - K_swapped).norm() / (K - K.mean()).norm())
