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


def test_accuracy_by_width_is_the_ridge_probe_at_each_width(result):
    """One Gram matrix for all prefixes gives the accuracy of a probe fitted at each width
    (float64 solves of the same problem: a test label could only flip on a score of ~1e-12)."""
    options = {**PROBE, "seed": 5, "family": "majority"}
    widths = [1, 7, 40]
    by_width = mtrl.transfer.transfer_accuracy_by_width(result, widths, **options)
    one_by_one = [
        mtrl.transfer_accuracy(result, width=w, method="ridge", **options) for w in widths
    ]
    assert by_width == pytest.approx(one_by_one, abs=1e-12)
    default_seed = mtrl.transfer.transfer_accuracy_by_width(result, [40], **PROBE)
    by_hand = mtrl.transfer_accuracy(result, seed=3, method="ridge", **PROBE)  # result's seed
    assert default_seed == pytest.approx([by_hand], abs=1e-12)
    with pytest.raises(mtrl.ParameterError, match="width must be <= m"):
        mtrl.transfer.transfer_accuracy_by_width(result, [41], **PROBE)


def _prefix_error(loss: str, width: int = 10, **schedule) -> float:
    """Train a network and, from the first ``width`` rows of its initialisation and the same
    data, a narrow one; return ``||W_wide[:width] - W_narrow|| / ||W_narrow||`` after the
    ``schedule`` of :func:`mtrl.pretrain` (one round by default; biases of scale ``beta``)."""
    beta, dtype = schedule.pop("beta", 0.0), schedule.pop("dtype", "float32")
    config = mtrl.Config(d=20, r=2, m=60, T=16, n1=100, n2=100, seed=4, loss=loss, beta=beta,
                         dtype=dtype)  # fmt: skip
    tasks, net = mtrl.draw_problem(config)

    def train(network):
        generator = mtrl.stream(config.seed, "data")
        return mtrl.pretrain(network, tasks, n1=100, n2=100, loss=loss, generator=generator,
                             **schedule)  # fmt: skip

    narrow = net.replace(W=net.W[:width], b=net.b[:width], A=net.A[:, :width])
    W_wide, W_narrow = train(net).network.W[:width], train(narrow).network.W
    return ((W_wide - W_narrow).norm() / W_narrow.norm()).item()


def test_a_prefix_of_a_wide_network_is_exact_for_the_correlation_loss():
    """With the correlation loss, l' is constant: in one round a neuron's heads and its
    gradient depend only on its own initial row and the shared data, so the first neurons of a
    wide network are the network trained from their initial rows (up to float32 rounding,
    ~1e-7). With the logistic loss l' depends on the output, hence on every neuron: the prefix
    is not exact (the Downstream chapter's width experiment therefore uses the correlation
    loss)."""
    assert _prefix_error("correlation") < 1e-5
    assert _prefix_error("logistic") > 1e-3


def test_the_prefix_is_exact_with_biases_and_for_several_rounds_and_heads_steps():
    """The remark after prop-prefix: with the correlation loss every step updates neuron j from
    neuron j alone, with biases and for any number of rounds and heads steps; in float64 the
    prefix agrees to rounding (~1e-16)."""
    schedule = dict(beta=0.3, dtype="float64", rounds=3, head_steps=2, lam=0.1, eta_w=0.5)
    assert _prefix_error("correlation", **schedule) < 1e-12
    assert _prefix_error("logistic", **schedule) > 1e-3


def test_tables_of_transfer_and_of_widths(result):
    """The tidy tables hold the accuracies of the probes they name, and the width needed is the
    first width at or above the target (NaN when none is)."""
    curves = {"a": ("x", {}), "b": ("x", {"family": "majority"})}
    probe = {k: v for k, v in PROBE.items() if k != "n_down"}
    points = [(12, 30), (12, 80)]
    table = mtrl.transfer.transfer_table(lambda name, d, s: result, [3], curves, points, **probe)
    assert list(table.curve) == ["a", "a", "b", "b"] and list(table.n_down) == [30, 80, 30, 80]
    by_hand = mtrl.transfer_accuracy(result, family="majority", **PROBE)
    assert table.accuracy.iloc[3] == by_hand
    memo = {}
    for options in {}, {"family": "halfspace", "resample_bias": False}:  # the same settings
        again = mtrl.transfer.transfer_table(
            lambda name, d, s: result, [3], {"a": ("x", options)}, [(12, 30)], memo=memo, **probe
        )
        assert len(memo) == 1  # the second table took its one evaluation from the memo
        assert again.accuracy.item() == mtrl.transfer_accuracy(result, n_down=30, **probe)
    probe = {k: v for k, v in PROBE.items() if k != "reg"}
    widths = mtrl.transfer.width_table({("x", 12, 3): result}, [1, 4, 40, 80], reg=1.0, **probe)
    assert list(widths.width) == [1, 4, 40]  # up to the result's width
    expected = mtrl.transfer.transfer_accuracy_by_width(result, [1, 4, 40], reg=1.0, **probe)
    assert list(widths.accuracy) == expected
    for target in expected:
        needed = mtrl.transfer.needed_width(widths, target)
        first = next(w for w, a in zip([1, 4, 40], expected, strict=True) if a >= target)
        assert needed.width.item() == first and needed.grid_max.item() == 40
    assert mtrl.transfer.needed_width(widths, 1.01).width.isna().all()
