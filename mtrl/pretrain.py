"""Multi-task pretraining: heads-first alternating gradient descent and its ablations.

One round (Setup chapter, Algorithm ``alg-pretrain``), for every task ``t`` at once:

1. draw ``S1_t`` (n1 samples) and ``S2_t`` (n2 samples);
2. heads step, ``W`` frozen: ``a_t <- a_t - eta_a grad_{a_t} L_t(W, a_t; S1_t)`` (``head_steps``
   times on the same ``S1_t``);
3. representation step, heads frozen:
   ``W <- (1 - eta_w lam) W - eta_w grad_W (1/T) sum_t L_t(W, a_t; S2_t)``.

Many rounds with small steps are alternating minibatch SGD with fresh samples at every step
(the Training chapter); :func:`pretrain` logs the metrics of ``W`` and the loss and accuracy of
every ``log_every``-th round instead of keeping every ``W`` (:mod:`mtrl.training_log`).

All tasks of a chunk go through one GEMM: the data are ``(Tc*n) x d`` against ``d x m``, and the
``W``-gradient is ``C^T X`` with ``C`` the ``(Tc*n) x m`` matrix of coefficients. Tasks are
streamed in chunks so memory stays bounded in ``T``; the data of a task come from the random
stream of its block of ``TASK_BLOCK`` tasks, so they do not depend on the chunk size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .batches import TASK_BLOCK, Batches, fill_batches, new_buffers
from .errors import ParameterError, check_choice, check_float, check_int
from .losses import Loss, get_loss
from .network import Network
from .seeds import draw_seed, substream
from .tasks import TaskSet
from .training_log import PretrainResult, TrainingLog

__all__ = [
    "ALGORITHMS",
    "alternating_round",
    "head_gradient",
    "pretrain",
    "representation_gradient",
]

ALGORITHMS = ("heads_first", "simultaneous", "random_heads")
_CHUNK_BYTES = 16 * 2**20  # working memory of one chunk by default: small chunks stay in cache


@dataclass(frozen=True)
class _Layer:
    """What every chunk of a round needs of the first layer, prepared once per round.

    ``Wt`` is ``W^T`` made contiguous, ``b`` is ``None`` when all biases are zero, and
    ``workspace`` (optional) receives the pre-activations, which saves the page faults of a
    fresh large allocation for every chunk.
    """

    Wt: Tensor
    b: Tensor | None
    workspace: Tensor | None = None

    @classmethod
    def of(cls, W: Tensor, b: Tensor, workspace: Tensor | None = None) -> _Layer:
        return cls(W.T.contiguous(), b if b.any() else None, workspace)

    def features(self, X: Tensor) -> Tensor:
        """Return ``relu(X W^T + b)`` for ``X`` (T, n, d), as (T, n, m), one GEMM."""
        T, n, d = X.shape
        m = self.Wt.shape[1]
        out = None if self.workspace is None else self.workspace[: T * n * m].view(T * n, m)
        pre = torch.mm(X.reshape(T * n, d), self.Wt, out=out)
        if self.b is not None:
            pre.add_(self.b)
        return pre.relu_().view(T, n, m)


def _margins(H: Tensor, A: Tensor, y: Tensor) -> Tensor:
    """Return the margins ``y a_t^T h(x)`` (T, n) of features ``H`` (T, n, m)."""
    # As a_t^T H_t^T: MKL's batched products are 2-3x faster in this orientation than as H_t a_t
    # (measured at the benchmark's sizes).
    return y * torch.bmm(A.unsqueeze(1), H.transpose(1, 2)).squeeze(1)


def _head_gradient_of(H: Tensor, A: Tensor, y: Tensor, loss: Loss) -> Tensor:
    g = loss.derivative(_margins(H, A, y)) * y / H.shape[1]  # per-sample weights l'(u) y / n
    return torch.bmm(g.unsqueeze(1), H).squeeze(1)  # (T, m)


def _head_gradient(layer: _Layer, A: Tensor, X: Tensor, y: Tensor, loss: Loss) -> Tensor:
    return _head_gradient_of(layer.features(X), A, y, loss)


def _heads_steps(layer: _Layer, A, X, y, loss: Loss, eta_a: float, steps: int) -> Tensor:
    """Return the heads after ``steps`` gradient steps on the batch ``X``, ``y`` (W frozen)."""
    H = layer.features(X)  # the same features for every step
    for _ in range(steps):
        A = A - eta_a * _head_gradient_of(H, A, y, loss)
    return A


def _representation_gradient(layer: _Layer, A: Tensor, X: Tensor, y: Tensor, loss: Loss):
    """Return ``grad_W sum_t L_t`` (as a transposed view) and the margins ``u`` (T, n)."""
    H = layer.features(X)
    u = _margins(H, A, y)
    g = loss.derivative(u) * y / X.shape[1]
    # C = mask * a * g with mask = 1(pre > 0); relu(pre) > 0 exactly where pre > 0, so sign_()
    # turns the features into the mask, in place. C^T X = (mask * a)^T (g * X): scaling X
    # (d wide) by g is cheaper than scaling the m-wide buffer. It is computed as
    # ((g * X)^T (mask * a))^T: MKL runs this product 10-18% faster in that orientation
    # (measured at the benchmark's sizes).
    mask_a = H.sign_().mul_(A.unsqueeze(1))  # (T, n, m)
    gX = X * g.unsqueeze(-1)  # (T, n, d)
    return (gX.reshape(-1, X.shape[-1]).T @ mask_a.reshape(-1, H.shape[-1])).T, u  # (m, d) view


def head_gradient(W: Tensor, b: Tensor, A: Tensor, X: Tensor, y: Tensor, loss: Loss) -> Tensor:
    """Return ``grad_{a_t} L_t`` for every task: ``A`` (T, m), ``X`` (T, n, d), ``y`` (T, n)."""
    return _head_gradient(_Layer.of(W, b), A, X, y, loss)


def representation_gradient(
    W: Tensor, b: Tensor, A: Tensor, X: Tensor, y: Tensor, loss: Loss
) -> Tensor:
    """Return ``grad_W sum_t L_t(W, a_t)`` over the given tasks, as (m, d).

    All tasks go through two GEMMs, ``(T n) x d`` by ``d x m`` and back; the ``(T n) x m``
    buffer of pre-activations is reused in place for the features, the mask and ``C``.
    """
    return _representation_gradient(_Layer.of(W, b), A, X, y, loss)[0].contiguous()


def _update(layer: _Layer, A, batch: Batches, loss: Loss, algorithm: str, eta_a: float,
            head_steps: int = 1):  # fmt: skip
    """Return the heads after the round, ``grad_W sum_t L_t`` for the tasks of ``batch`` and
    the margins of its representation batch."""
    A_next = A
    if algorithm != "random_heads":
        A_next = _heads_steps(layer, A, batch.X1, batch.y1, loss, eta_a, head_steps)
    A_used = A_next if algorithm == "heads_first" else A
    return A_next, *_representation_gradient(layer, A_used, batch.X2, batch.y2, loss)


def memory_needed(
    *, d: int, m: int, T: int, n1: int, n2: int, itemsize: int, noisy: bool = False
) -> int:
    """Return the bytes that :func:`pretrain` allocates at its peak, about: the first layer
    three times (before, after, its transpose) and the gradient, the heads twice, one chunk's
    data (and label-noise uniforms), its workspace and the features of its larger step (see
    ``_chunk_tasks``)."""
    chunk = min(_chunk_tasks(None, n1, n2, d, m, itemsize), T)
    n = max(n1, n2)
    data = chunk * (n1 + n2) * d * itemsize + (chunk * (n1 + n2) * 8 if noisy else 0)
    work = 2 * chunk * n * m * itemsize + chunk * n * d * itemsize  # workspace, mask * a, g * X
    return 4 * m * d * itemsize + 2 * T * m * itemsize + data + work


def _chunk_tasks(chunk_tasks: int | None, n1: int, n2: int, d: int, m: int, itemsize: int) -> int:
    if chunk_tasks is None:
        per_task = (n1 + n2) * (d + 3 * m) * itemsize  # X, pre-activations, features, C
        chunk_tasks = max(1, _CHUNK_BYTES // per_task)
    chunk_tasks = check_int("chunk_tasks", chunk_tasks)
    return TASK_BLOCK * math.ceil(chunk_tasks / TASK_BLOCK)


def check_steps(eta_a: float, eta_w: float, lam: float) -> float:
    """Check the step sizes and the weight decay of a round; return the decay ``eta_w * lam``,
    which must lie in [0, 1] (1 erases the initialisation)."""
    check_float("eta_a", eta_a, low_open=True)
    check_float("eta_w", eta_w, low_open=True)
    check_float("lam", lam)
    return check_float("eta_w*lam", eta_w * lam, high=1.0)


def _check_round(loss, algorithm, eta_a, eta_w, lam) -> tuple[Loss, float]:
    lossf = get_loss(loss)
    check_choice("algorithm", algorithm, ALGORITHMS)
    return lossf, check_steps(eta_a, eta_w, lam)


def _step_W(W: Tensor, grad: Tensor, decay: float, eta_w: float, eta_a: float, k: int) -> Tensor:
    W = (1.0 - decay) * W - eta_w * grad
    if not torch.isfinite(W).all():
        raise ParameterError(
            f"pretraining diverged in round {k}: W has non-finite entries; "
            f"reduce eta_w (got {eta_w}) or eta_a (got {eta_a})"
        )
    return W


def alternating_round(
    network: Network,
    batches: Batches,
    *,
    loss: str = "logistic",
    algorithm: str = "heads_first",
    eta_a: float = 1.0,
    eta_w: float = 1.0,
    lam: float = 1.0,
    head_steps: int = 1,
) -> Network:
    """Return the network after one round on in-memory ``batches`` for all its ``T`` tasks."""
    lossf, decay = _check_round(loss, algorithm, eta_a, eta_w, lam)
    head_steps = check_int("head_steps", head_steps)
    W, b = network.W, network.b
    layer = _Layer.of(W, b)
    A, grad, _ = _update(layer, network.A, batches, lossf, algorithm, eta_a, head_steps)
    T = network.A.shape[0]
    return network.replace(W=_step_W(W, grad / T, decay, eta_w, eta_a, 1), A=A)


def pretrain(
    network: Network,
    tasks: TaskSet,
    *,
    n1: int,
    n2: int,
    loss: str = "logistic",
    algorithm: str = "heads_first",
    rounds: int = 1,
    head_steps: int = 1,
    eta_a: float = 1.0,
    eta_w: float = 1.0,
    lam: float = 1.0,
    resample: bool = True,
    reset_heads: bool = False,
    log_every: int = 1,
    chunk_tasks: int | None = None,
    generator: torch.Generator,
) -> PretrainResult:
    """Run ``rounds`` rounds of multi-task pretraining from ``network`` on ``tasks``.

    ``algorithm`` is ``heads_first`` (the algorithm of the book), ``simultaneous`` (heads and
    ``W`` both step from the same point) or ``random_heads`` (heads drawn N(0, 1/m) and never
    adapted). Each round takes ``head_steps`` heads steps on its ``S1``, then one representation
    step. Round ``k`` uses ``pretraining_batches(..., seed=s, data_round=k)`` with
    ``s = mtrl.seeds.draw_seed(generator)``, so the first ``k`` rounds of a longer run are the
    same as a run of ``k`` rounds; with ``resample=False`` every round reuses round 0's. With
    ``reset_heads`` every round's heads step starts from the initial heads, not from the heads
    of the round before (the returned heads are the last round's). Every
    ``log_every``-th round (and the last) is logged in the result (see :class:`PretrainResult`).
    ``chunk_tasks`` bounds how many tasks are held in memory at once (rounded up to a multiple
    of ``TASK_BLOCK``); by default a chunk uses about 16 MiB (at least one block).
    """
    n1, n2 = check_int("n1", n1), check_int("n2", n2)
    lossf, decay = _check_round(loss, algorithm, eta_a, eta_w, lam)
    rounds = check_int("rounds", rounds, low=0)
    head_steps, log_every = check_int("head_steps", head_steps), check_int("log_every", log_every)
    W, b, A = network.W, network.b, network.A
    m, d = W.shape
    if tasks.M.shape[0] != d or A.shape != (tasks.T, m) or tasks.M.dtype != W.dtype:
        raise ParameterError(
            f"network and tasks must agree: W is {tuple(W.shape)} {W.dtype}, A is "
            f"{tuple(A.shape)}, M is {tuple(tasks.M.shape)} {tasks.M.dtype}, T={tasks.T}"
        )
    chunk = _chunk_tasks(chunk_tasks, n1, n2, d, m, W.element_size())

    seed = draw_seed(generator)
    if algorithm == "random_heads":
        g = substream(seed, 1, device=W.device)  # the heads' stream, apart from the data's
        A = torch.randn(A.shape, generator=g, dtype=W.dtype, device=W.device) / math.sqrt(m)
    # Buffers reused by every chunk: fresh large allocations would page-fault each time.
    workspace = torch.empty(min(chunk, tasks.T) * max(n1, n2) * m, dtype=W.dtype, device=W.device)
    A_init = A
    buffers = new_buffers(tasks, min(chunk, tasks.T), n1, n2)
    log = TrainingLog(W, tasks.M)
    for k in range(rounds):
        # The chunks' gradients come transposed (see _representation_gradient): the sum is
        # kept in the same layout, (d, m) in memory.
        grad, A_next = W.new_zeros(d, m).T, torch.empty_like(A)
        layer = _Layer.of(W, b, workspace)
        logged = (k + 1) % log_every == 0 or k + 1 == rounds
        loss_sum = correct = 0.0
        for start in range(0, tasks.T, chunk):
            stop = min(start + chunk, tasks.T)
            batch = fill_batches(tasks, buffers, seed, k if resample else 0, start, stop)
            A_from = (A_init if reset_heads else A)[start:stop]
            A_next[start:stop], g_chunk, u = _update(
                layer, A_from, batch, lossf, algorithm, eta_a, head_steps
            )
            grad += g_chunk
            if logged:
                loss_sum += lossf.value(u).sum().item()
                correct += (u > 0).sum().item()
        W = _step_W(W, grad / tasks.T, decay, eta_w, eta_a, k + 1)
        A = A_next
        if logged:
            log.add(k + 1, W, loss_sum / (tasks.T * n2), correct / (tasks.T * n2))
    return PretrainResult(network.replace(W=W, A=A), **log.tensors(W.dtype))
