"""Closed forms of the book for one round on ``halfspace`` tasks (Multi-task theorem chapter).

All are propositions or heuristics of this book, not results of the papers:

- :func:`population_W1`: as ``n1, n2 -> infinity``, with ``b = 0``, the correlation loss and
  ``eta_w * lam = 1``, one heads-first round gives ``W_1 = (eta_a eta_w / 2 pi) W_0 M S_T M^T``
  with ``S_T = (1/T) sum_t theta_t theta_t^T`` (Proposition ``prop-population``).
- :func:`odd_task_population_W1`: for one task whose label function is odd, the same limit is
  ``(eta_a eta_w / 4) W_0 M v v^T M^T`` with ``v = E[f(z) z]``: rank one, whatever the family
  (Proposition ``prop-odd-task``).
- :func:`heuristic_leakage`: counting the sampling noise of the heads and of the gradient gives
  ``1 - E(W_1) ~ rho / (1 + rho)`` with ``rho = pi r d (1 + pi d / n1) / (T n2)`` without label
  noise, and ``rho = pi r d (q^-2 + pi d / (n1 q^4)) / (T n2)``, ``q = 1 - 2p``, with flip
  probability ``p`` (both signals, heads and gradient, shrink by ``q``; the noise does not).
- :func:`random_heads_energy`: with random heads that never adapt (the ``random_heads``
  ablation, Mechanism chapter), signal and noise energies of the gradient both grow like ``T``,
  in the ratio ``1/(2 pi) : d/(2 n2)``, so ``E(W_1) ~ 1/(1 + pi d/n2)`` whatever ``T``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from .errors import ParameterError, check_float, check_int, check_le
from .tasks import TaskSet

__all__ = [
    "heuristic_leakage",
    "linear_coefficient",
    "odd_task_population_W1",
    "population_W1",
    "random_heads_energy",
    "rho",
]


def population_W1(W0: Tensor, M: Tensor, tasks: Tensor, *, eta_a: float, eta_w: float) -> Tensor:
    """Return the population first layer after one round: ``(eta_a eta_w/2pi) W0 M S_T M^T``.

    ``W0`` (m, d), ``M`` (d, r), ``tasks`` (T, 1, r) halfspace directions; returns (m, d).
    """
    if tasks.ndim != 3 or tasks.shape[1] != 1 or tasks.shape[2] != M.shape[1]:
        raise ParameterError(
            f"tasks must be halfspace directions of shape (T, 1, r={M.shape[1]}), "
            f"got {tuple(tasks.shape)}"
        )
    eta_a = check_float("eta_a", eta_a, low_open=True)
    eta_w = check_float("eta_w", eta_w, low_open=True)
    theta = tasks[:, 0, :]  # (T, r)
    S_T = theta.T @ theta / theta.shape[0]  # (r, r)
    return (eta_a * eta_w / (2 * math.pi)) * (W0 @ M) @ S_T @ M.T


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
    """Return the book's noise-to-signal ratio ``pi r d (q^-2 + pi d/(n1 q^4)) / (T n2)``.

    ``q = 1 - 2p``; without label noise this is ``pi r d (1 + pi d/n1) / (T n2)``.
    """
    d, r, T = check_int("d", d), check_int("r", r), check_int("T", T)
    n1, n2 = check_int("n1", n1), check_int("n2", n2)
    q = 1 - 2 * check_float("p", p, high=0.5, high_open=True)
    check_le("r", r, "d", d)
    return math.pi * r * d * (q**-2 + math.pi * d / (n1 * q**4)) / (T * n2)


def heuristic_leakage(rho_value):
    """Return ``rho / (1 + rho)``, the book's heuristic for the leakage ``1 - E(W_1)``.

    Accepts a number (returns a float), a numpy array or a tensor (returns the same kind).
    """
    values = rho_value if isinstance(rho_value, Tensor) else np.asarray(rho_value, dtype=float)
    if not bool((values >= 0).all()) or not bool(np.isfinite(np.asarray(values)).all()):
        raise ParameterError(f"rho must be finite and >= 0, got rho={rho_value!r}")
    out = values / (1 + values)
    return float(out) if isinstance(out, np.ndarray) and out.ndim == 0 else out


def random_heads_energy(*, d: int, n2: int) -> float:
    """Return ``1 / (1 + pi d / n2)``, the book's heuristic for the energy fraction after one
    round with random fixed heads (ablation ``random_heads``), whatever the number of tasks."""
    d, n2 = check_int("d", d), check_int("n2", n2)
    return 1 / (1 + math.pi * d / n2)
