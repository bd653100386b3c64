"""The cached entry point of [N24]'s certified training (experiment layer).

:func:`fit_multitask` is :func:`mtrl.kernel_regime.train_multitask` with a result cache, keyed
(as for :func:`mtrl.run`) by a hash of every input tensor, the settings and the code.
"""

from __future__ import annotations

from torch import Tensor

from .cache import ResultCache, resolve_cache, tensor_digest
from .kernel_regime import MultiTaskFit, ReluNetwork, train_multitask
from .kernel_regime.solver import check_training

__all__ = ["fit_multitask"]

_NETWORK = ("W", "b", "V", "A", "c")


def fit_multitask(
    X: Tensor,
    Y: Tensor,
    lam: float,
    network: ReluNetwork,
    *,
    tol: float = 1e-5,
    max_steps: int = 100_000,
    check_every: int = 100,
    cache: ResultCache | str | None = "default",
) -> MultiTaskFit:
    """Return :func:`~mtrl.kernel_regime.train_multitask` of the same arguments, loaded from
    ``cache`` when the same inputs and code ran before (``"default"``, a ``ResultCache`` or
    ``None``); nothing is stored when training fails."""
    X, Y, lam, tol, max_steps, check_every = check_training(
        X, Y, lam, network, tol=tol, max_steps=max_steps, check_every=check_every
    )
    cache = resolve_cache(cache)
    tensors = {"X": X, "Y": Y, "W": network.W, "b": network.b, "V": network.V}
    key = {
        "fit_multitask": {name: tensor_digest(t) for name, t in tensors.items()},
        "lam": lam, "tol": tol, "max_steps": max_steps, "check_every": check_every,
    }  # fmt: skip
    if cache is not None and (hit := cache.get(key)) is not None:
        net = ReluNetwork(*(hit[name] for name in _NETWORK))
        return MultiTaskFit(net, hit["objective"], hit["bound"], hit["insertions"], hit["steps"])
    fit = train_multitask(X, Y, lam, network, tol=tol, max_steps=max_steps, check_every=check_every)
    if cache is not None:
        entry = {name: getattr(fit.network, name) for name in _NETWORK}
        entry.update(objective=fit.objective, bound=fit.bound, insertions=fit.insertions,
                     steps=fit.steps)  # fmt: skip
        cache.put(key, entry)
    return fit
