"""Closed forms of the book for one round on ``halfspace`` tasks (Multi-task theorem chapter).

All are propositions or heuristics of this book, not results of the papers:

- :func:`population_W1`: as ``n1, n2 -> infinity``, with ``b = 0``, the correlation loss and
  ``eta_w * lam = 1``, one heads-first round gives ``W_1 = (eta_a eta_w / 2 pi) W_0 M Sigma_T M^T``
  with ``Sigma_T = (1/T) sum_t theta_t theta_t^T`` (Proposition ``prop-population``).
- :func:`odd_task_population_W1`: for one task whose label function is odd, the same limit is
  ``(eta_a eta_w / 4) W_0 M v v^T M^T`` with ``v = E[f(z) z]``: rank one, whatever the family
  (Proposition ``prop-odd-task``).
- :func:`expected_energy`: the exact expectations ``E||W_1 M||^2`` and ``E||W_1||^2`` over the
  samples of one round, given ``W_0`` and the tasks (Proposition ``prop-moments``).
- :func:`rho` and :func:`heuristic_leakage`: their leading order for ``T >> r``, ``d >> r``,
  ``1 - E(W_1) ~ rho / (1 + rho)``, where ``rho`` counts the gradient's noise outside
  ``span(M)`` against the signal plus the noise inside it (the heads' noise times the mean
  gradient, and a share ``r/d`` of the gradient's noise).
- :func:`random_heads_energy`: with random heads that never adapt (the ``random_heads``
  ablation, Mechanism chapter), signal and noise energies both grow like ``T``, and
  ``E||W_1 M||^2 / E||W_1||^2 = (n2 - 1 + pi r) / (n2 - 1 + pi d)`` whatever ``T``.
- :func:`label_mean` and :func:`copy_coefficient`: for even label functions (``xor``) one round
  gives ``W_1 ~ c W_0`` with ``c = (eta_a eta_w / 2 pi) mean_t E_z[f_t]^2``: it copies the
  initialisation (Proposition ``prop-even-task``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .errors import ParameterError, check_float, check_int, check_le
from .tasks import TaskSet

__all__ = [
    "EnergyMoments",
    "copy_coefficient",
    "even_task_population_W1",
    "expected_energy",
    "heuristic_leakage",
    "label_mean",
    "linear_coefficient",
    "odd_task_population_W1",
    "population_W1",
    "random_heads_energy",
    "rho",
]


def _check_halfspace_tasks(tasks: Tensor, M: Tensor) -> None:
    if tasks.ndim != 3 or tasks.shape[1] != 1 or tasks.shape[2] != M.shape[1]:
        raise ParameterError(
            f"tasks must be halfspace directions of shape (T, 1, r={M.shape[1]}), "
            f"got {tuple(tasks.shape)}"
        )


def population_W1(W0: Tensor, M: Tensor, tasks: Tensor, *, eta_a: float, eta_w: float) -> Tensor:
    """Return the population first layer after one round: ``(eta_a eta_w/2pi) W0 M Sigma_T M^T``.

    ``W0`` (m, d), ``M`` (d, r), ``tasks`` (T, 1, r) halfspace directions; returns (m, d).
    """
    _check_halfspace_tasks(tasks, M)
    eta_a = check_float("eta_a", eta_a, low_open=True)
    eta_w = check_float("eta_w", eta_w, low_open=True)
    theta = tasks[:, 0, :]  # (T, r)
    Sigma_T = theta.T @ theta / theta.shape[0]  # (r, r)
    return (eta_a * eta_w / (2 * math.pi)) * (W0 @ M) @ Sigma_T @ M.T


def linear_coefficient(
    family: str, task: Tensor, *, samples: int, generator: torch.Generator
) -> Tensor:
    """Estimate ``v = E[f(z) z]`` (z ~ N(0, I_r)) for one task (directions, r) by Monte Carlo."""
    samples = check_int("samples", samples, low=2)
    z = torch.randn(1, samples, task.shape[-1], generator=generator, dtype=task.dtype)
    y = TaskSet(torch.eye(task.shape[-1], dtype=task.dtype), task[None], family).labels(z)
    return (y[0, :, None] * z[0]).mean(0)


def odd_task_population_W1(
    W0: Tensor, M: Tensor, v: Tensor, *, eta_a: float, eta_w: float
) -> Tensor:
    """Return ``(eta_a eta_w / 4) W0 M v v^T M^T``: one round on one task with an odd label
    function in the population limit (``b = 0``, correlation loss, ``eta_w lam = 1``)."""
    eta_a = check_float("eta_a", eta_a, low_open=True)
    eta_w = check_float("eta_w", eta_w, low_open=True)
    u = M @ v  # (d,)
    return (eta_a * eta_w / 4) * (W0 @ u)[:, None] * u[None, :]


def rho(*, d: int, r: int, T: int, n1: int, n2: int, p: float = 0.0) -> float:
    """Return the book's noise-to-signal ratio ``rho``: leakage ``~ rho / (1 + rho)``.

    ``rho = g (1 - r/d) / (1 + g r/d + h)`` is the energy of the noise outside ``span(M)`` over
    the energy inside it (signal and in-span noise), with ``q = 1 - 2p``,
    ``g = pi r d (q^-2 + pi d/(n1 q^4)) / (T n2)`` (the gradient's noise) and
    ``h = pi r d / (T n1 q^2)`` (the heads' noise times the mean gradient, inside ``span(M)``).
    """
    d, r, T = check_int("d", d), check_int("r", r), check_int("T", T)
    n1, n2 = check_int("n1", n1), check_int("n2", n2)
    q = 1 - 2 * check_float("p", p, high=0.5, high_open=True)
    check_le("r", r, "d", d)
    g = math.pi * r * d * (q**-2 + math.pi * d / (n1 * q**4)) / (T * n2)
    h = math.pi * r * d / (T * n1 * q**2)
    return g * (1 - r / d) / (1 + g * r / d + h)


def heuristic_leakage(rho_value):
    """Return ``rho / (1 + rho)``, the book's heuristic for the leakage ``1 - E(W_1)``.

    Accepts a number (returns a float), a numpy array or a tensor (returns the same kind).
    """
    values = rho_value if isinstance(rho_value, Tensor) else np.asarray(rho_value, dtype=float)
    if not bool((values >= 0).all()) or not bool(np.isfinite(np.asarray(values)).all()):
        raise ParameterError(f"rho must be finite and >= 0, got rho={rho_value!r}")
    out = values / (1 + values)
    return float(out) if isinstance(out, np.ndarray) and out.ndim == 0 else out


@dataclass(frozen=True)
class EnergyMoments:
    """Expectations over the samples of one round: ``inside = E||W_1 M||_F^2`` and
    ``total = E||W_1||_F^2`` (0-d tensors)."""

    inside: Tensor
    total: Tensor

    @property
    def leakage(self) -> Tensor:
        """``1 - inside / total``: the ratio of expectations, not the expected leakage."""
        return 1 - self.inside / self.total


def expected_energy(
    W0: Tensor,
    M: Tensor,
    tasks: Tensor,
    *,
    n1: int,
    n2: int,
    p: float = 0.0,
    eta_a: float = 1.0,
    eta_w: float = 1.0,
    lam: float = 1.0,
) -> EnergyMoments:
    """Return the exact ``E||W_1 M||^2`` and ``E||W_1||^2`` of one heads-first round on
    ``halfspace`` tasks with ``b = 0``, the correlation loss and ``A = 0`` (Proposition
    ``prop-moments``); the expectation is over the samples, given ``W0`` (m, d), ``M`` (d, r)
    and ``tasks`` (T, 1, r).

    Row ``j`` of ``W_1`` is ``(1 - eta_w lam) w_j + eta_w mean_t a_tj g_tj`` with the head
    ``a_tj = eta_a mean_{S1} y relu(w_j.x)`` and ``g_tj = mean_{S2} y 1(w_j.x > 0) x``,
    independent. Their moments are exact Gaussian integrals: ``E a = eta_a q u.w / sqrt(2 pi)``,
    ``Var a = eta_a^2 (|w|^2/2 - (E a / eta_a)^2) / n1``, ``E g = q u / sqrt(2 pi)`` and
    ``Cov g = (I/2 - E g E g^T) / n2``.
    """
    _check_halfspace_tasks(tasks, M)
    n1, n2 = check_int("n1", n1), check_int("n2", n2)
    q = 1 - 2 * check_float("p", p, high=0.5, high_open=True)
    eta_a = check_float("eta_a", eta_a, low_open=True)
    eta_w = check_float("eta_w", eta_w, low_open=True)
    decay = check_float("eta_w*lam", eta_w * check_float("lam", lam), high=1.0)
    T, r, d = tasks.shape[0], M.shape[1], M.shape[0]
    U = tasks[:, 0, :] @ M.T  # (T, d) unit directions u_t
    c = q / math.sqrt(2 * math.pi)
    head = eta_a * c * (W0 @ U.T)  # (m, T): E a_tj
    head_sq = head**2 + (eta_a**2 * (W0**2).sum(1, keepdim=True) / 2 - head**2) / n1  # E a^2
    mean = (1 - decay) * W0 + (eta_w * c / T) * head @ U  # (m, d): E W_1
    # E|P g|^2 - |P E g|^2 = (tr P / 2 - |P E g|^2) / n2, with |P E g|^2 = c^2 for P = MM^T, I.
    g_sq = {size: c**2 + (size / 2 - c**2) / n2 for size in (r, d)}

    def moment(P_mean: Tensor, size: int) -> Tensor:
        noise = (head_sq * g_sq[size] - head**2 * c**2).sum()
        return (P_mean**2).sum() + (eta_w / T) ** 2 * noise

    return EnergyMoments(inside=moment(mean @ M, r), total=moment(mean, d))


def random_heads_energy(*, d: int, r: int, n2: int) -> float:
    """Return ``(n2 - 1 + pi r) / (n2 - 1 + pi d)``: the ratio ``E||W_1 M||^2 / E||W_1||^2``
    after one round with random fixed heads (ablation ``random_heads``), halfspace tasks,
    ``b = 0`` and the correlation loss, whatever the number of tasks (Mechanism chapter)."""
    d, r, n2 = check_int("d", d), check_int("r", r), check_int("n2", n2)
    check_le("r", r, "d", d)
    return (n2 - 1 + math.pi * r) / (n2 - 1 + math.pi * d)


def label_mean(family: str, tasks: Tensor, *, samples: int, generator: torch.Generator) -> Tensor:
    """Estimate ``E_z[f_t(z)]`` (z ~ N(0, I_r)) for every task of ``tasks`` (T, directions, r)
    by Monte Carlo with ``samples`` latent points per task; returns (T,)."""
    return _label_moments(family, tasks, samples, generator)[0]


def _label_moments(family, tasks, samples, generator) -> tuple[Tensor, Tensor]:
    """Monte Carlo ``E_z[f_t]`` (T,) and ``E_z[f_t z z^T]`` (T, r, r)."""
    samples = check_int("samples", samples, low=2)
    T, _, r = tasks.shape
    z = torch.randn(T, samples, r, generator=generator, dtype=tasks.dtype)
    y = TaskSet(torch.eye(r, dtype=tasks.dtype), tasks, family).labels(z)  # (T, n)
    return y.mean(1), torch.einsum("tn,tni,tnj->tij", y, z, z) / samples


def even_task_population_W1(
    W0: Tensor,
    M: Tensor,
    family: str,
    tasks: Tensor,
    *,
    samples: int,
    generator: torch.Generator,
    eta_a: float = 1.0,
    eta_w: float = 1.0,
) -> Tensor:
    """Return the leading order of one round on tasks with even label functions (Proposition
    ``prop-even-task``): ``W0 [c_T (I - M M^T) + M C_T M^T]`` with
    ``c_T = (eta_a eta_w / 2 pi) mean_t m_t^2``, ``C_T = (eta_a eta_w / 2 pi) mean_t m_t
    E[f_t z z^T]`` and ``m_t = E_z[f_t]``, the label moments estimated from ``samples`` points
    per task. The remainder is of order ``|M^T w_j|^2 / |w_j|^2`` per row."""
    eta_a = check_float("eta_a", eta_a, low_open=True)
    eta_w = check_float("eta_w", eta_w, low_open=True)
    means, second = _label_moments(family, tasks, samples, generator)
    scale = eta_a * eta_w / (2 * math.pi)
    c_T = scale * (means**2).mean()
    C_T = scale * (means[:, None, None] * second).mean(0)  # (r, r)
    WM = W0 @ M
    return c_T * (W0 - WM @ M.T) + WM @ C_T @ M.T


def copy_coefficient(means: Tensor, *, eta_a: float, eta_w: float) -> float:
    """Return ``c = (eta_a eta_w / 2 pi) mean_t m_t^2`` for the label means ``m_t = E_z[f_t]``
    (T,): as ``T`` grows, one round on even, scale-free label functions (``xor``) gives
    ``W_1 ~ c W_0`` (Proposition ``prop-even-task``)."""
    eta_a = check_float("eta_a", eta_a, low_open=True)
    eta_w = check_float("eta_w", eta_w, low_open=True)
    return eta_a * eta_w / (2 * math.pi) * float((means**2).mean())
