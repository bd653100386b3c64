"""Integer seeds to ``torch.Generator``s: the one place where a seed becomes randomness.

Every random function of ``mtrl`` takes a generator; this module derives them. One experiment
``seed`` has independent named streams (:func:`stream`: the subspace, the tasks, the
initialisation, the pretraining data, the downstream tasks), so that e.g. changing ``n2`` leaves
``W_0`` unchanged; within the pretraining data, every block of tasks and every round has a stream
of its own (:func:`substream`), so that the data of a task do not depend on how tasks are chunked.
Both go through NumPy's ``SeedSequence``, whose children are statistically independent.
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import check_choice, check_int

__all__ = ["STREAMS", "draw_seed", "stream", "substream"]

STREAMS = ("subspace", "tasks", "init", "data", "downstream", "test")  # append only: the index
# of a name is its stream


def _generator(sequence: np.random.SeedSequence, device) -> torch.Generator:
    state = int(sequence.generate_state(1, np.uint64)[0])
    return torch.Generator(device=device).manual_seed(state)


def stream(seed: int, name: str, device="cpu") -> torch.Generator:
    """Return the generator of the named stream of experiment ``seed`` (one of ``STREAMS``)."""
    check_choice("stream", name, STREAMS)
    seed = check_int("seed", seed, low=0)
    return _generator(np.random.SeedSequence(seed, spawn_key=(STREAMS.index(name),)), device)


def draw_seed(generator: torch.Generator) -> int:
    """Draw a seed from ``generator``: the root of the :func:`substream`s of a computation."""
    return int(torch.randint(2**62, (1,), generator=generator))


def substream(seed: int, *key: int, device="cpu") -> torch.Generator:
    """Return the generator of the sub-stream ``key`` (a tuple of integers) of ``seed``."""
    return _generator(np.random.SeedSequence([seed, *key]), device)
