"""The data model: a latent subspace ``M``, task families on ``M^T x``, label noise, and ``K``.

Inputs are ``x ~ N(0, I_d)``. A task ``t`` labels ``x`` by ``y = f_t(M^T x)`` with
``f_t: R^r -> {-1, +1}`` drawn from a *task family*, and flips the label with probability ``p``.
The families live in a small registry (:data:`FAMILIES`); :func:`register_family` adds one.

The cross-task label-agreement kernel is ``K(z, z') = E_t[f_t(z) f_t(z')]`` (Setup chapter,
Eq. ``eq-kernel``). It has a closed form for the three built-in families; for any family it can be
estimated by Monte Carlo over tasks (:func:`label_kernel_monte_carlo`).
The closed forms for ``xor`` and ``majority`` are propositions of the book (tested against
Monte Carlo in ``tests/test_tasks.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .errors import ParameterError, check_choice, check_float, check_int, check_le

__all__ = [
    "FAMILIES",
    "KernelEstimate",
    "TaskFamily",
    "TaskSet",
    "draw_subspace",
    "draw_tasks",
    "label_kernel",
    "label_kernel_monte_carlo",
    "register_family",
]


@dataclass(frozen=True)
class TaskFamily:
    """A distribution over label functions ``f: R^r -> {-1, +1}``.

    A task is a tensor of ``directions`` unit vectors in ``R^r``; ``label`` maps tasks
    ``(T, directions, r)`` and latent points ``(T, n, r)`` to labels ``(T, n)`` in ``{-1, +1}``.
    ``kernel`` is the closed form of ``K`` on pairs ``(..., r), (..., r) -> (...)``, or ``None``.
    """

    name: str
    directions: int
    label: Callable[[Tensor, Tensor], Tensor]
    kernel: Callable[[Tensor, Tensor], Tensor] | None
    description: str


def _sign(v: Tensor) -> Tensor:
    """Return +1 where ``v >= 0`` and -1 elsewhere (ties have probability zero)."""
    return torch.where(v >= 0, 1.0, -1.0).to(v.dtype)


def _projections(tasks: Tensor, z: Tensor) -> Tensor:
    """Return ``<theta_{t,j}, z_{t,i}>`` as ``(T, n, directions)``."""
    return torch.einsum("tnr,tjr->tnj", z, tasks)


def _halfspace_kernel(z: Tensor, z2: Tensor) -> Tensor:
    """Return ``1 - 2 angle(z, z') / pi`` (the book's proposition on ``K`` for halfspaces)."""
    cos = torch.nn.functional.cosine_similarity(z, z2, dim=-1)
    return 1.0 - 2.0 * torch.arccos(cos.clamp(-1.0, 1.0)) / math.pi


FAMILIES: dict[str, TaskFamily] = {}


def register_family(family: TaskFamily) -> TaskFamily:
    """Add ``family`` to :data:`FAMILIES` under ``family.name`` and return it."""
    if family.name in FAMILIES:
        raise ParameterError(f"family name must be new, got {family.name!r} (already registered)")
    check_int("family.directions", family.directions)
    FAMILIES[family.name] = family
    return family


register_family(
    TaskFamily(
        name="halfspace",
        directions=1,
        label=lambda tasks, z: _sign(_projections(tasks, z)[..., 0]),
        kernel=_halfspace_kernel,
        description="sign(<theta, z>), theta ~ Unif(S^{r-1})",
    )
)
register_family(
    TaskFamily(
        name="xor",
        directions=2,
        label=lambda tasks, z: _sign(_projections(tasks, z)).prod(dim=-1),
        # Two independent halfspace labels multiply, so their agreements multiply: K = K_half^2.
        kernel=lambda z, z2: _halfspace_kernel(z, z2) ** 2,
        description="sign(<theta_1, z>) sign(<theta_2, z>), theta_1, theta_2 iid ~ Unif(S^{r-1})",
    )
)
register_family(
    TaskFamily(
        name="majority",
        directions=3,
        label=lambda tasks, z: _sign(_sign(_projections(tasks, z)).sum(dim=-1)),
        # maj(s) = (s_1 + s_2 + s_3 - s_1 s_2 s_3)/2 for s in {-1,1}^3, and the three halfspace
        # labels are independent with E[s s'] = chi = K_half, so K = (3 chi + chi^3)/4.
        kernel=lambda z, z2: (3.0 * _halfspace_kernel(z, z2) + _halfspace_kernel(z, z2) ** 3) / 4,
        description="majority vote of sign(<theta_j, z>), j = 1, 2, 3, theta_j iid ~ Unif(S^{r-1})",
    )
)


def _family(name: str) -> TaskFamily:
    return FAMILIES[check_choice("family", name, FAMILIES)]


def draw_subspace(d: int, r: int, *, generator: torch.Generator, dtype=torch.float32) -> Tensor:
    """Draw ``M`` (d, r) with orthonormal columns, uniformly (Haar) on the Stiefel manifold."""
    d, r = check_int("d", d), check_int("r", r)
    check_le("r", r, "d", d)
    g = torch.randn(d, r, generator=generator, dtype=torch.float64)
    q, rr = torch.linalg.qr(g)
    # Fixing the signs of diag(R) makes the QR factor exactly Haar-distributed.
    q = q * torch.sign(torch.diagonal(rr)).where(torch.diagonal(rr) != 0, 1.0)
    return q.to(dtype)


def draw_tasks(
    family: str, T: int, r: int, *, generator: torch.Generator, dtype=torch.float32
) -> Tensor:
    """Draw ``T`` tasks of ``family`` as unit directions ``(T, directions, r)``."""
    fam, T, r = _family(family), check_int("T", T), check_int("r", r)
    theta = torch.randn(T, fam.directions, r, generator=generator, dtype=torch.float64)
    return (theta / theta.norm(dim=-1, keepdim=True)).to(dtype)


@dataclass(frozen=True)
class TaskSet:
    """The ground truth of a pretraining problem: subspace, tasks, family and label noise.

    ``M`` is (d, r); ``tasks`` is (T, directions, r); ``p`` in [0, 1/2) is the flip probability.
    """

    M: Tensor
    tasks: Tensor
    family: str
    p: float = 0.0

    def __post_init__(self):
        fam = _family(self.family)
        check_float("p", self.p, low=0.0, high=0.5, high_open=True)
        if self.M.ndim != 2 or self.tasks.ndim != 3:
            raise ParameterError(
                f"M must be (d, r) and tasks (T, directions, r), got shapes "
                f"{tuple(self.M.shape)} and {tuple(self.tasks.shape)}"
            )
        if self.tasks.shape[1:] != (fam.directions, self.M.shape[1]):
            raise ParameterError(
                f"tasks must have shape (T, {fam.directions}, r={self.M.shape[1]}) for family "
                f"{self.family!r}, got {tuple(self.tasks.shape)}"
            )

    @property
    def T(self) -> int:
        return self.tasks.shape[0]

    def subset(self, start: int, stop: int) -> TaskSet:
        """Return the tasks ``start:stop`` as a new ``TaskSet`` (same ``M``)."""
        return TaskSet(self.M, self.tasks[start:stop], self.family, self.p)

    def labels(
        self,
        z: Tensor,
        *,
        generator: torch.Generator | None = None,
        uniforms: Tensor | None = None,
    ) -> Tensor:
        """Label latent points ``z`` (T, n, r) with every task, flipping with probability ``p``.

        Returns (T, n) in ``{-1, +1}``. When ``p > 0`` a label flips where its uniform draw is
        below ``p``: the draws are ``uniforms`` (T, n) if given, else drawn from ``generator``.
        """
        y = FAMILIES[self.family].label(self.tasks.to(z.dtype), z)
        if self.p == 0.0:
            return y
        if uniforms is None:
            if generator is None:
                raise ParameterError("generator is required when p > 0 (label noise is random)")
            uniforms = torch.rand(
                y.shape, generator=generator, dtype=torch.float64, device=y.device
            )
        return torch.where(uniforms < self.p, -y, y)

    def sample(self, n: int, *, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Draw ``n`` fresh inputs per task: ``X`` (T, n, d) ~ N(0, I) and labels ``y`` (T, n)."""
        n = check_int("n", n)
        shape = (self.T, n, self.M.shape[0])
        X = torch.randn(shape, generator=generator, dtype=self.M.dtype, device=self.M.device)
        return X, self.labels(X @ self.M, generator=generator)


def label_kernel(family: str, z: Tensor, z2: Tensor) -> Tensor:
    """Return the closed-form ``K(z, z')`` of ``family`` on pairs ``(..., r), (..., r)``."""
    fam = _family(family)
    if fam.kernel is None:
        raise ParameterError(
            f"family {family!r} has no closed-form kernel; use label_kernel_monte_carlo"
        )
    return fam.kernel(z, z2)


@dataclass(frozen=True)
class KernelEstimate:
    """A Monte Carlo estimate of ``K`` on pairs: its ``mean`` and ``stderr``, both (...)."""

    mean: Tensor
    stderr: Tensor


def label_kernel_monte_carlo(
    family: str, z: Tensor, z2: Tensor, *, num_tasks: int, generator: torch.Generator
) -> KernelEstimate:
    """Estimate ``K(z, z') = E_t[f_t(z) f_t(z')]`` from ``num_tasks`` tasks, on pairs ``(N, r)``."""
    fam, num_tasks = _family(family), check_int("num_tasks", num_tasks, low=2)
    if z.ndim != 2 or z.shape != z2.shape:
        raise ParameterError(
            f"z and z2 must both be (N, r), got {tuple(z.shape)} and {tuple(z2.shape)}"
        )
    tasks = draw_tasks(family, num_tasks, z.shape[1], generator=generator, dtype=z.dtype)
    both = torch.cat([z, z2]).expand(num_tasks, -1, -1)  # (tasks, 2N, r)
    y = fam.label(tasks, both)
    agree = y[:, : len(z)] * y[:, len(z) :]  # (tasks, N)
    return KernelEstimate(agree.mean(0), agree.std(0) / math.sqrt(num_tasks))
