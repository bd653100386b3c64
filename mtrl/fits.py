"""The cached entry point of [N24]'s certified training (experiment layer).

:func:`fit_multitask` is :func:`mtrl.kernel_regime.train_multitask` with a result cache, keyed
(as for :func:`mtrl.run`) by a hash of every input tensor, the settings and the code.
"""

from __future__ import annotations

from torch import Tensor

from .cache import ResultCache, resolve_cache, tensor_digest
from .kernel_regime import MultiTaskFit, ReluNetwork
from .kernel_regime.solver import check_training, train

__all__ = ["fit_multitask"]

_NETWORK = ("W", "b", "V", "J", "c")


def fit_multitask(
    X: Tensor,
    Y: Tensor,
    lam: float,
    network: ReluNetwork,
    *,
    cache: ResultCache | str | None = "default",
    **settings,
) -> MultiTaskFit:
    """Return :func:`~mtrl.kernel_regime.train_multitask` of the same arguments (``settings``:
    ``tol``, ``max_steps``, ``check_every``), loaded from ``cache`` when the same inputs and
    code ran before (``"default"``, a ``ResultCache`` or ``None``); nothing is stored when
    training fails."""
    problem = check_training(X, Y, lam, network, **settings)
    cache = resolve_cache(cache)
    net = problem.network
    tensors = {"X": problem.X, "Y": problem.Y, "W": net.W, "b": net.b, "V": net.V}
    key = {
        "fit_multitask": {name: tensor_digest(t) for name, t in tensors.items()},
        "lam": problem.lam, "tol": problem.tol, "max_steps": problem.max_steps,
        "check_every": problem.check_every,
    }  # fmt: skip
    if cache is not None and (hit := cache.get(key)) is not None:
        net = ReluNetwork(*(hit[name] for name in _NETWORK))
        return MultiTaskFit(net, hit["objective"], hit["bound"], hit["insertions"], hit["steps"])
    fit = train(problem)
    if cache is not None:
        entry = {name: getattr(fit.network, name) for name in _NETWORK}
        entry.update(objective=fit.objective, bound=fit.bound, insertions=fit.insertions,
                     steps=fit.steps)  # fmt: skip
        cache.put(key, entry)
    return fit
