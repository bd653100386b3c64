import pytest
import torch


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Give every test its own empty result cache."""
    path = tmp_path / "cache"
    monkeypatch.setenv("MTRL_CACHE", str(path))
    return path


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)
