"""Transfer: how well a pretrained representation serves new tasks (Downstream chapter).

The experiment layer's entry to :func:`mtrl.downstream_accuracy`: it takes a :class:`Result`
and the seed of the downstream stream (:mod:`mtrl.seeds`), so that a chapter states every
setting of a downstream evaluation as an argument.
"""

from __future__ import annotations

from .downstream import downstream_accuracy, orthogonal_halfspaces
from .errors import ParameterError, check_int, check_le
from .experiments import Result
from .seeds import stream

__all__ = ["transfer_accuracy"]


def transfer_accuracy(
    result: Result,
    *,
    seed: int,
    family: str = "halfspace",
    n_down: int,
    n_test: int,
    num_tasks: int,
    reg: float,
    method: str = "logistic",
    orthogonal: bool = False,
    resample_bias: bool = False,
    width: int | None = None,
) -> float:
    """Return the mean test accuracy of linear probes of ``num_tasks`` new tasks on the frozen
    first layer of ``result``.

    The new tasks, their samples and any re-sampled biases come from the ``downstream`` stream
    of ``seed``. With ``orthogonal`` the tasks are halfspaces orthogonal to the direction of
    ``result``'s first pretraining task (:func:`mtrl.orthogonal_halfspaces`); ``width`` probes
    only the first ``width`` neurons (all of them when ``None``). ``family``, ``n_down``,
    ``n_test``, ``reg``, ``method`` and ``resample_bias`` are those of
    :func:`mtrl.downstream_accuracy`.
    """
    if orthogonal and family != "halfspace":
        raise ParameterError(f"orthogonal tasks are halfspaces, got family={family!r}")
    if width is not None:
        check_le("width", check_int("width", width), "m", result.W.shape[0])
    generator = stream(seed, "downstream")
    tasks = None
    if orthogonal:
        tasks = orthogonal_halfspaces(result.tasks[0, 0], num_tasks, generator=generator)
    out = downstream_accuracy(
        result.W[:width],
        result.b[:width],
        result.M,
        family=family,
        n_down=n_down,
        n_test=n_test,
        num_tasks=num_tasks,
        reg=reg,
        method=method,
        tasks=tasks,
        resample_bias=resample_bias,
        generator=generator,
    )
    return out.accuracy.mean().item()
