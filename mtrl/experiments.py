"""Experiments: a frozen :class:`Config`, a pure :func:`run`, :func:`sweep` over configs.

This is the experiment layer: it turns seeds into generators (:mod:`mtrl.seeds`: independent
streams for the subspace, the tasks, the initialisation and the pretraining data, so that e.g.
changing ``n2`` leaves ``W_0`` unchanged) and caches results on disk under a hash of the config
and of the code (:mod:`mtrl.cache`). The math core below it never touches seeds or the disk.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import torch
from torch import Tensor

from .cache import ResultCache, resolve_cache
from .errors import ParameterError, check_choice, check_float, check_int, check_le
from .losses import LOSSES
from .network import Network, init_network
from .pretrain import ALGORITHMS, check_steps, pretrain
from .resources import check_memory, map_on
from .seeds import stream
from .tasks import FAMILIES, TaskSet, draw_subspace, draw_tasks
from .training_log import PretrainResult, without_training

__all__ = [
    "Config",
    "Result",
    "draw_problem",
    "log_grid",
    "run",
    "run_all",
    "sweep",
    "tidy",
]

EXPERIMENT_ALGORITHMS = (*ALGORITHMS, "single_task", "random_features")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_LOG = ("logged", "energy", "coverage", "distance", "loss", "accuracy")


@dataclass(frozen=True)
class Config:
    """Every parameter of one pretraining experiment (notation of the Setup chapter).

    ``rounds`` is the number ``kappa`` of rounds (of steps, in the Training chapter), each with
    ``head_steps`` heads steps (each round's from the initial heads with ``reset_heads``);
    ``algorithm`` is one of ``heads_first``, ``simultaneous``,
    ``random_heads``, ``single_task`` (one task with the budget of all ``T``: ``T*n1`` and
    ``T*n2`` samples per round) or ``random_features`` (no pretraining: ``W = W_0``). The result
    logs every ``log_every``-th round and the last.
    """

    d: int = 100
    r: int = 3
    m: int = 400
    T: int = 100
    n1: int = 200
    n2: int = 200
    family: str = "halfspace"
    p: float = 0.0
    tau: float = 0.1
    beta: float = 0.0
    loss: str = "logistic"
    algorithm: str = "heads_first"
    rounds: int = 1
    head_steps: int = 1
    eta_a: float = 1.0
    eta_w: float = 1.0
    lam: float = 1.0
    resample: bool = True
    reset_heads: bool = False
    log_every: int = 1
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self):
        for name in ("d", "r", "m", "T", "n1", "n2"):
            check_int(name, getattr(self, name))
        check_le("r", self.r, "d", self.d)
        check_choice("family", self.family, FAMILIES)
        check_choice("loss", self.loss, LOSSES)
        check_choice("algorithm", self.algorithm, EXPERIMENT_ALGORITHMS)
        check_choice("dtype", self.dtype, _DTYPES)
        check_float("p", self.p, high=0.5, high_open=True)
        check_float("tau", self.tau, low_open=True)
        check_float("beta", self.beta)
        check_int("rounds", self.rounds, low=0)
        check_int("head_steps", self.head_steps)
        check_int("log_every", self.log_every)
        check_steps(self.eta_a, self.eta_w, self.lam)
        check_int("seed", self.seed, low=0)
        for name in ("resample", "reset_heads"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def replace(self, **changes) -> Config:
        """Return a copy with some fields changed (validated again)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ParameterError(f"unknown Config fields {sorted(unknown)}")
        return replace(self, **changes)


@dataclass(frozen=True)
class Result:
    """What :func:`run` returns.

    ``M`` (d, r), ``tasks`` (T, directions, r), ``b`` (m), the initial ``W_0`` and the final
    ``W`` (m, d), the final heads ``A`` (one row per task trained on: one for ``single_task``,
    zeros for ``random_features``), and the log of the logged rounds ``logged`` (0, log_every,
    ..., rounds): the metrics of ``W`` after each, and the held-out ``loss`` and ``accuracy`` of
    each round (:class:`mtrl.PretrainResult`; ``nan`` at round 0 and without pretraining; not
    held out with ``resample=False``).
    """

    config: Config
    M: Tensor
    tasks: Tensor
    b: Tensor
    W_0: Tensor
    W: Tensor
    A: Tensor
    logged: Tensor
    energy: Tensor
    coverage: Tensor
    distance: Tensor
    loss: Tensor
    accuracy: Tensor

    @property
    def leakage(self) -> Tensor:
        return 1.0 - self.energy

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["config"] = asdict(self.config)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        return cls(**{**data, "config": Config(**data["config"])})


def draw_problem(config: Config, device="cpu") -> tuple[TaskSet, Network]:
    """Draw the ground truth and the initial network of ``config`` from its seed.

    They are drawn on the CPU and then moved to ``device``, so a seed gives the same problem on
    every device.
    """
    dtype, s = _DTYPES[config.dtype], config.seed
    M = draw_subspace(config.d, config.r, generator=stream(s, "subspace"), dtype=dtype)
    tasks = draw_tasks(config.family, config.T, config.r, generator=stream(s, "tasks"), dtype=dtype)
    net = init_network(
        d=config.d,
        m=config.m,
        T=config.T,
        tau=config.tau,
        beta=config.beta,
        generator=stream(s, "init"),
        dtype=dtype,
    )
    net = net.replace(W=net.W.to(device), b=net.b.to(device), A=net.A.to(device))
    return TaskSet(M.to(device), tasks.to(device), config.family, config.p), net


def _pretrained(config: Config, tasks: TaskSet, net: Network) -> PretrainResult:
    """Return the pretraining of ``config`` for any algorithm of the experiment layer."""
    if config.algorithm == "random_features":
        return without_training(net, tasks.M, rounds=config.rounds, log_every=config.log_every)
    n1, n2 = config.n1, config.n2
    if config.algorithm == "single_task":
        tasks, net = tasks.subset(0, 1), net.replace(A=net.A[:1])
        n1, n2 = n1 * config.T, n2 * config.T
    algorithm = "heads_first" if config.algorithm == "single_task" else config.algorithm
    return pretrain(
        net,
        tasks,
        n1=n1,
        n2=n2,
        loss=config.loss,
        algorithm=algorithm,
        rounds=config.rounds,
        head_steps=config.head_steps,
        eta_a=config.eta_a,
        eta_w=config.eta_w,
        lam=config.lam,
        resample=config.resample,
        reset_heads=config.reset_heads,
        log_every=config.log_every,
        generator=stream(config.seed, "data"),  # CPU: only draws the seed of the block streams
    )


def _compute(config: Config, device) -> Result:
    tasks, net = draw_problem(config, device)
    out = _pretrained(config, tasks, net)
    cpu = {"M": tasks.M, "tasks": tasks.tasks, "b": net.b, "W_0": net.W, "W": out.network.W,
           "A": out.network.A}  # fmt: skip
    cpu.update({name: getattr(out, name) for name in _LOG})
    return Result(config=config, **{k: v.cpu().contiguous() for k, v in cpu.items()})


def run(config: Config, *, cache: ResultCache | str | None = "default", device=None) -> Result:
    """Run one experiment, or load it from ``cache`` when the same config and code ran before.

    ``cache="default"`` uses :func:`mtrl.cache.default_cache`; ``None`` disables caching.
    ``device`` defaults to CUDA when it is available, else the CPU.
    """
    if not isinstance(config, Config):
        raise ParameterError(f"config must be a Config, got {type(config).__name__}")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cache = resolve_cache(cache)
    key = {"config": asdict(config), "device": device.type}
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return Result.from_dict(hit)
    check_memory(config)
    result = _compute(config, device)
    if cache is not None:
        cache.put(key, result.to_dict())
    return result


def sweep(
    base: Config,
    *,
    executor: Executor | None = None,
    cache: ResultCache | str | None = "default",
    progress: bool | None = None,
    **grid,
) -> list[Result]:
    """Run ``base`` at every point of the Cartesian ``grid`` (field name -> list of values).

    Results come back in ``itertools.product`` order of the grid. All configs are built (and so
    validated) before anything runs. The points run as :func:`run_all` runs them. ``progress``
    shows a progress bar (``tqdm``, a widget in notebooks); by default only when
    ``$MTRL_PROGRESS`` is ``1``, so that executed chapters store no progress output.
    """
    names = list(grid)
    values = [list(grid[n]) for n in names]
    for name, vals in zip(names, values, strict=True):
        if not vals:
            raise ParameterError(f"grid values of {name} must be a non-empty list, got {vals!r}")
    configs = [base.replace(**dict(zip(names, c, strict=True))) for c in itertools.product(*values)]
    return run_all(configs, executor=executor, cache=cache, progress=progress)


def run_all(
    configs,
    *,
    executor: Executor | None = None,
    cache: ResultCache | str | None = "default",
    progress: bool | None = None,
) -> list[Result]:
    """Return :func:`run` of every config of ``configs``, in their order, each first checked
    against this machine's memory: on ``executor`` (a ``concurrent.futures.Executor`` or an object
    with its ``submit``, see the Reproduce page), else on the default of :func:`mtrl.use_executor`,
    else one after another here, where each run's GEMMs already use every core."""
    configs = list(configs)
    for config in configs:  # refuse a point this machine cannot hold, before any run
        if not isinstance(config, Config):
            raise ParameterError(f"configs must hold mtrl.Config objects, got {config!r}")
        check_memory(config)
    if progress is None:
        progress = os.environ.get("MTRL_PROGRESS") == "1"
    if progress:
        from tqdm.auto import tqdm

        bar = functools.partial(tqdm, total=len(configs), desc="sweep", unit="run")
    else:
        bar = iter
    return map_on(functools.partial(run, cache=cache), configs, executor=executor, wrap=bar)


def log_grid(low: float, high: float, points: int) -> list[int]:
    """Return about ``points`` distinct integers, log-spaced from ``low`` to ``high``, sorted
    (values that round to the same integer are kept once)."""
    check_float("low", low, low_open=True)
    check_le("low", low, "high", high)
    points = check_int("points", points)
    grid = np.logspace(math.log10(low), math.log10(high), points)
    return sorted({int(v) for v in np.round(grid)})


def tidy(results: list[Result], *, rounds: bool = False):
    """Return a tidy table (a pandas DataFrame) of ``results``: a row per result with every
    ``Config`` field and the last logged ``energy``, ``leakage``, ``coverage``, ``distance``,
    ``loss`` and ``accuracy``; with ``rounds``, a row per result and logged round ``k`` (0 the
    initialisation) instead."""
    import pandas as pd

    rows = []
    for result in results:
        columns = {name: getattr(result, name) for name in (*_LOG[1:], "leakage")}
        for i in range(len(result.logged)) if rounds else [-1]:
            row = {**asdict(result.config), **{n: float(v[i]) for n, v in columns.items()}}
            rows.append({**row, "k": int(result.logged[i])} if rounds else row)
    return pd.DataFrame(rows)
