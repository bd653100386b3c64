"""Run a sweep of mtrl on a Dask cluster: the example of the Reproduce page, run by the tests.

Here the cluster is a ``LocalCluster`` of worker processes on this machine; on a real cluster,
connect to its scheduler instead, ``Client("scheduler-address:8786")``, and point every worker
at one shared result cache (``MTRL_CACHE`` on a shared file system): workers write their
results there atomically, so two of them computing the same point is safe.
"""

from distributed import Client, LocalCluster

import mtrl


def sweep_on_dask(base: mtrl.Config, workers: int = 2, **grid) -> list[mtrl.Result]:
    """Run ``mtrl.sweep(base, **grid)`` on a local Dask cluster of ``workers`` processes."""
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        return mtrl.sweep(base, executor=client.get_executor(), **grid)


if __name__ == "__main__":
    results = sweep_on_dask(mtrl.Config(d=100, r=3, m=400), T=[10, 100], seed=range(5))
    for result in results:
        print(result.config.T, result.config.seed, float(result.energy[-1]))
