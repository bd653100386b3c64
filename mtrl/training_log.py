"""The log of a pretraining run: the metrics of ``W`` and the held-out loss and accuracy of
the logged rounds, gathered as the rounds go (:func:`mtrl.pretrain`), instead of every ``W``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from . import metrics
from .errors import check_int
from .network import Network

__all__ = ["PretrainResult", "TrainingLog", "without_training"]


@dataclass(frozen=True)
class PretrainResult:
    """The pretrained ``network`` and a log of the logged rounds ``logged`` (0, log_every,
    2 log_every, ..., and the last round), each (L,).

    ``energy``, ``coverage`` and ``distance`` are the metrics of ``W`` after round ``k``
    (:mod:`mtrl.metrics`; ``k = 0`` the initialisation); ``loss`` and ``accuracy`` are the mean
    loss and the fraction of correct signs, over tasks and samples, of the network that round
    ``k`` differentiates (its ``W`` before the step and the heads it uses) on that round's
    representation batch, fresh samples it has not trained on: a held-out estimate (with
    ``resample=False`` every round reuses round 0's batches, and the estimate is not held out).
    They are ``nan`` at ``k = 0``.
    """

    network: Network
    logged: Tensor
    energy: Tensor
    coverage: Tensor
    distance: Tensor
    loss: Tensor
    accuracy: Tensor


class TrainingLog:
    """The metrics of the logged rounds, gathered as the rounds go."""

    def __init__(self, W: Tensor, M: Tensor):
        self.M, self.rows = M, []
        self.add(0, W, math.nan, math.nan)

    def add(self, k: int, W: Tensor, loss: float, accuracy: float) -> None:
        M = self.M
        geometry = [f(W, M).item() for f in metrics.GEOMETRY]
        self.rows.append((k, *geometry, loss, accuracy))

    def tensors(self, dtype) -> dict:
        k, *columns = zip(*self.rows, strict=True)
        names = ("energy", "coverage", "distance", "loss", "accuracy")
        out = {n: torch.tensor(c, dtype=dtype) for n, c in zip(names, columns, strict=True)}
        return {"logged": torch.tensor(k), **out}


def without_training(network: Network, M: Tensor, *, rounds: int, log_every: int = 1):
    """Return the :class:`PretrainResult` of no pretraining (random features): ``network``
    unchanged, with the log that ``rounds`` rounds would have, every entry that of ``W_0``."""
    rounds, log_every = check_int("rounds", rounds, low=0), check_int("log_every", log_every)
    log = TrainingLog(network.W, M)
    for k in range(log_every, rounds + 1, log_every):
        log.rows.append((k, *log.rows[0][1:]))
    if rounds % log_every:
        log.rows.append((rounds, *log.rows[0][1:]))
    return PretrainResult(network, **log.tensors(network.W.dtype))
