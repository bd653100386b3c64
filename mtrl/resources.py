"""What a run needs of the machine: its memory, checked before any work, and its cores.

:func:`memory_estimate` counts the arrays that :func:`mtrl.run` allocates for a ``Config``;
:func:`check_memory` refuses a config that needs more than the machine has available, before
anything is allocated. :func:`process_pool` shares the cores among the workers of a sweep, and
:func:`use_executor` makes a pool the default of every sweep (the chapters use one).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TYPE_CHECKING

import torch

from .errors import ParameterError, check_int
from .pretrain import memory_needed

if TYPE_CHECKING:
    from .experiments import Config

__all__ = [
    "check_memory",
    "default_executor",
    "map_on",
    "memory_estimate",
    "process_pool",
    "use_executor",
]

_default_executor: Executor | None = None  # set by use_executor


def memory_estimate(config: Config) -> int:
    """Return about how many bytes :func:`mtrl.run` needs for ``config`` at its peak: the problem
    (subspace, tasks, initial network), the pretraining (:func:`mtrl.pretrain.memory_needed`)
    and the result."""
    c, itemsize = config, getattr(torch, config.dtype).itemsize  # Config checked the name
    T, n1, n2 = c.T, c.n1, c.n2
    if c.algorithm == "single_task":
        T, n1, n2 = 1, n1 * c.T, n2 * c.T
    problem = (c.d * c.r + c.T * 3 * c.r + c.m * c.d + c.m + c.T * c.m) * itemsize
    result = (2 * c.m * c.d + c.d * c.r + c.m + c.T * c.m) * itemsize
    if c.algorithm == "random_features":
        return problem + result
    steps = memory_needed(d=c.d, m=c.m, T=T, n1=n1, n2=n2, itemsize=itemsize, noisy=c.p > 0)
    return problem + steps + result


def _available_memory() -> int:
    """Return the memory this machine has available now (Linux: MemAvailable), in bytes."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(config: Config, available: int | None = None) -> None:
    """Raise :class:`ParameterError` before any work when ``config`` needs more memory than the
    machine has available (:func:`memory_estimate`), naming the sizes that drive it."""
    need = memory_estimate(config)
    available = _available_memory() if available is None else available
    if need > available:
        c = config
        raise ParameterError(
            f"this run needs about {need / 2**30:.3g} GiB (d={c.d}, m={c.m}, T={c.T}, "
            f"n1={c.n1}, n2={c.n2}, rounds={c.rounds}), more than the "
            f"{available / 2**30:.3g} GiB available: lower T, m, d or the sample sizes"
        )


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Return a process pool for :func:`sweep` whose ``workers`` share this machine's cores.

    Each worker runs torch with ``cores // workers`` threads. Results agree with in-process
    runs to float rounding, not bit for bit: the reduction order of a GEMM depends on its
    thread count.
    """
    cores = os.cpu_count() or 1
    workers = check_int("workers", workers if workers is not None else cores)
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),  # fork and torch threads do not mix
        initializer=_start_worker,
        initargs=(max(1, cores // workers),),
    )


def _start_worker(threads: int) -> None:
    """Give a pool worker its torch threads; leave Ctrl-C (and the interrupt that a Jupyter
    kernel receives when it shuts down) to the parent, which stops the pool."""
    torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def use_executor(executor: Executor | None) -> Executor | None:
    """Make ``executor`` (e.g. :func:`process_pool`) where :func:`mtrl.run_all`, and so
    :func:`mtrl.sweep` and every study built on them, run their points when they are given no
    executor; ``None`` runs them in this process again. Return the previous default."""
    global _default_executor
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise ParameterError(
            f"executor must be a concurrent.futures.Executor (with submit) or None, "
            f"got {executor!r}"
        )
    previous, _default_executor = _default_executor, executor
    return previous


def default_executor() -> Executor | None:
    """Return the executor that :func:`use_executor` set, or ``None`` (run in this process)."""
    return _default_executor


def map_on(function, items, *, executor: Executor | None = None, wrap=iter) -> list:
    """Return ``[function(item) for item in items]``, in their order: on ``executor`` (its
    ``submit``, then each future's ``result``), else on :func:`default_executor`, else in this
    process. ``wrap`` wraps what is waited on (the items or the futures), e.g. a progress bar."""
    executor = default_executor() if executor is None else executor
    if executor is None:
        return [function(item) for item in wrap(items)]
    futures = [executor.submit(function, item) for item in items]
    return [future.result() for future in wrap(futures)]
