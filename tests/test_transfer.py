"""The transfer accuracy of a result against the downstream probe called by hand."""

import pytest

import mtrl

PROBE = {"n_down": 80, "n_test": 200, "num_tasks": 3, "reg": 1e-2}


@pytest.fixture(scope="module")
def result():
    config = mtrl.Config(d=12, r=2, m=40, T=8, n1=50, n2=50, seed=3)
    return mtrl.run(config, cache=None)


def test_transfer_accuracy_is_the_probe_on_the_downstream_stream(result):
    by_hand = mtrl.downstream_accuracy(
        result.W,
        result.b,
        result.M,
        family="majority",
        **PROBE,
        generator=mtrl.stream(5, "downstream"),
    )
    accuracy = mtrl.transfer_accuracy(result, seed=5, family="majority", **PROBE)
    assert accuracy == by_hand.accuracy.mean().item()


def test_orthogonal_tasks_on_the_first_neurons(result):
    g = mtrl.stream(5, "downstream")
    tasks = mtrl.orthogonal_halfspaces(result.tasks[0, 0], PROBE["num_tasks"], generator=g)
    options = {"method": "ridge", "resample_bias": True}
    by_hand = mtrl.downstream_accuracy(
        result.W[:10],
        result.b[:10],
        result.M,
        family="halfspace",
        tasks=tasks,
        **PROBE,
        **options,
        generator=g,
    )
    accuracy = mtrl.transfer_accuracy(result, seed=5, orthogonal=True, width=10, **PROBE, **options)
    assert accuracy == by_hand.accuracy.mean().item()


def test_transfer_accuracy_validates(result):
    with pytest.raises(mtrl.ParameterError, match="width must be <= m"):
        mtrl.transfer_accuracy(result, seed=0, width=41, **PROBE)
    with pytest.raises(mtrl.ParameterError, match="orthogonal tasks are halfspaces"):
        mtrl.transfer_accuracy(result, seed=0, family="xor", orthogonal=True, **PROBE)
