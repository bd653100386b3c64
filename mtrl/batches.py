"""The data of pretraining: per-task batches drawn from streams that do not depend on chunking.

Each block of ``TASK_BLOCK`` tasks has its own random stream, keyed by the data seed, the round
and the block (:func:`mtrl.seeds.substream`), so that the data of a task are the same however
the tasks are chunked in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .errors import ParameterError
from .seeds import substream
from .tasks import TaskSet

__all__ = ["TASK_BLOCK", "Batches", "fill_batches", "new_buffers", "pretraining_batches"]

TASK_BLOCK = 16  # tasks that share one random stream; chunks are whole blocks


@dataclass(frozen=True)
class Batches:
    """The batches of one round: ``X1`` (T, n1, d), ``y1`` (T, n1), ``X2`` (T, n2, d), ``y2``."""

    X1: Tensor
    y1: Tensor
    X2: Tensor
    y2: Tensor


def pretraining_batches(
    tasks: TaskSet,
    *,
    n1: int,
    n2: int,
    seed: int,
    data_round: int = 0,
    start: int = 0,
    stop: int | None = None,
) -> Batches:
    """Return the batches of round ``data_round`` of :func:`mtrl.pretrain` for tasks ``start:stop``.

    Each block of ``TASK_BLOCK`` tasks has its own random stream, keyed by ``(seed, data_round,
    block)``, so the data of a task do not depend on how the tasks are chunked. ``start`` must be
    a multiple of ``TASK_BLOCK``.
    """
    stop = tasks.T if stop is None else stop
    if start % TASK_BLOCK or not 0 <= start < stop <= tasks.T:
        raise ParameterError(
            f"start must be a multiple of {TASK_BLOCK} with 0 <= start < stop <= T={tasks.T}, "
            f"got start={start}, stop={stop}"
        )
    return fill_batches(
        tasks, new_buffers(tasks, stop - start, n1, n2), seed, data_round, start, stop
    )


def new_buffers(tasks: TaskSet, T: int, n1: int, n2: int) -> list:
    """Allocate the data of ``T`` tasks: X1, X2 and (with label noise) the uniforms U1, U2."""
    M, noisy = tasks.M, tasks.p > 0
    X1 = torch.empty(T, n1, M.shape[0], dtype=M.dtype, device=M.device)
    X2 = torch.empty(T, n2, M.shape[0], dtype=M.dtype, device=M.device)
    U1 = torch.empty(T, n1, dtype=torch.float64, device=M.device) if noisy else None
    U2 = torch.empty(T, n2, dtype=torch.float64, device=M.device) if noisy else None
    return [X1, X2, U1, U2]


def fill_batches(tasks, buffers, seed: int, data_round: int, start: int, stop: int) -> Batches:
    """Draw the batches of tasks ``start:stop`` into (views of) ``buffers``, block by block."""
    M = tasks.M
    views = [None if v is None else v[: stop - start] for v in buffers]
    draws = (torch.randn, torch.randn, torch.rand, torch.rand)
    for lo in range(start, stop, TASK_BLOCK):
        g = substream(seed, 0, data_round, lo // TASK_BLOCK, device=M.device)
        # Always draw the whole block, so that its stream is consumed the same way whatever stop.
        size, keep = min(TASK_BLOCK, tasks.T - lo), min(TASK_BLOCK, stop - lo)
        for view, draw in zip(views, draws, strict=True):
            if view is None:
                continue
            target = view[lo - start : lo - start + keep]
            shape = (size, *view.shape[1:])
            if keep == size:
                draw(shape, generator=g, dtype=view.dtype, device=M.device, out=target)
            else:
                target.copy_(draw(shape, generator=g, dtype=view.dtype, device=M.device)[:keep])
    X1, X2, U1, U2 = views
    chunk = tasks.subset(start, stop)
    return Batches(X1, chunk.labels(X1 @ M, uniforms=U1), X2, chunk.labels(X2 @ M, uniforms=U2))
