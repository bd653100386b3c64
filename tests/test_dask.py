"""The Reproduce page's Dask example, run for real on a two-worker LocalCluster."""

import importlib.util
from pathlib import Path

import pytest
import torch
from distributed.client import ClientExecutor

import mtrl

EXAMPLE = Path(__file__).resolve().parent.parent / "book" / "examples" / "dask_sweep.py"


def _example():
    spec = importlib.util.spec_from_file_location("dask_sweep", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_sweep_on_dask_matches_in_process_and_shares_the_cache(isolated_cache, monkeypatch):
    executors = []
    sweep = mtrl.sweep

    def recording_sweep(*args, executor=None, **kwargs):
        executors.append(executor)
        return sweep(*args, executor=executor, **kwargs)

    monkeypatch.setattr(mtrl, "sweep", recording_sweep)
    base = mtrl.Config(d=30, r=3, m=40, T=8, n1=20, n2=20)
    # Each point twice: two workers compute and write the same cache entry at the same time.
    grid = {"T": [4, 8], "seed": [0, 0, 1]}
    on_dask = _example().sweep_on_dask(base, workers=2, **grid)
    assert isinstance(executors.pop(), ClientExecutor)  # the points ran on the cluster
    entries = sorted(isolated_cache.glob("*.pt"))
    assert len(entries) == 4  # one entry per distinct point, written by the workers
    assert not list(isolated_cache.glob(".tmp-*"))  # no temporary file left behind
    fresh = mtrl.sweep(base, cache=None, **grid)  # computed again here, in this process
    cached = mtrl.sweep(base, **grid)  # read back from the workers' entries
    for a, b, c in zip(on_dask, fresh, cached, strict=True):
        assert a.config == b.config == c.config
        torch.testing.assert_close(a.W, b.W, rtol=1e-5, atol=1e-6)  # thread counts differ
        torch.testing.assert_close(a.energy, b.energy, rtol=1e-5, atol=1e-6)
        assert torch.equal(a.W, c.W)  # the cache returns exactly what a worker stored
