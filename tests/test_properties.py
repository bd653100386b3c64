"""Property-based tests (hypothesis) of the metrics and the data model: bounds, invariances
under rotations and permutations, shapes and dtypes for random valid sizes."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mtrl

settings.register_profile("mtrl", max_examples=40, deadline=None, derandomize=True, database=None)
settings.load_profile("mtrl")


@st.composite
def problems(draw, dtype=torch.float64):
    """A random (W, M, generator) with valid sizes: r <= d, any width."""
    d = draw(st.integers(1, 24))
    r = draw(st.integers(1, d))
    m = draw(st.integers(1, 40))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    M = mtrl.draw_subspace(d, r, generator=g, dtype=dtype)
    scale = draw(st.floats(1e-3, 1e3))
    W = scale * torch.randn(m, d, generator=g, dtype=dtype)
    return W, M, g


def _orthogonal(d, g):
    """A random rotation of R^d: a Haar subspace of full dimension."""
    return mtrl.draw_subspace(d, d, generator=g, dtype=torch.float64)


@given(problems())
def test_metrics_are_bounded(problem):
    W, M, _ = problem
    E, C = mtrl.energy_fraction(W, M), mtrl.coverage(W, M)
    assert 0.0 <= E.item() <= 1.0 + 1e-12
    assert 0.0 <= C.item() <= 1.0 + 1e-12
    assert abs(mtrl.leakage(W, M).item() - (1 - E.item())) < 1e-12
    D = mtrl.subspace_distance(W, M)
    assert torch.isnan(D) or 0.0 <= D.item() <= 1.0


@given(problems())
def test_metrics_are_invariant_under_rotations_and_permutations(problem):
    W, M, g = problem
    d, r = M.shape
    Q = _orthogonal(d, g)  # rotate the ambient space: W -> W Q, M -> Q^T M
    R = _orthogonal(r, g)  # another basis of the same subspace: M -> M R
    perm = torch.randperm(W.shape[0], generator=g)  # relabel the neurons
    scale = 3.7  # and rescale W
    for metric in (mtrl.energy_fraction, mtrl.coverage):
        base = metric(W, M)
        for moved in (metric(W @ Q, Q.T @ M), metric(W, M @ R), metric(scale * W[perm], M)):
            torch.testing.assert_close(moved, base, rtol=1e-9, atol=1e-12)


@given(problems())
def test_subspace_metrics_at_the_extremes(problem):
    W, M, _ = problem
    inside = W @ M @ M.T  # every row in span(M)
    if inside.norm() > 1e-9:
        assert abs(mtrl.energy_fraction(inside, M).item() - 1) < 1e-9
    d = M.shape[0]
    if M.shape[1] < d:
        outside = W - W @ M @ M.T
        if outside.norm() > 1e-9:
            assert mtrl.energy_fraction(outside, M).item() < 1e-9


@given(
    family=st.sampled_from(sorted(mtrl.FAMILIES)),
    T=st.integers(1, 12),
    r=st.integers(1, 6),
    n=st.integers(1, 30),
    p=st.floats(0.0, 0.49),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**31 - 1),
)
def test_task_labels_have_the_right_shape_dtype_and_values(family, T, r, n, p, dtype, seed):
    if family == "xor" and r < 2:
        r = 2
    g = torch.Generator().manual_seed(seed)
    tasks = mtrl.draw_tasks(family, T, r, generator=g, dtype=dtype)
    M = mtrl.draw_subspace(r + 3, r, generator=g, dtype=dtype)
    truth = mtrl.TaskSet(M, tasks, family, p)
    X = torch.randn(T, n, r + 3, generator=g, dtype=dtype)
    y = truth.labels(X @ M, generator=g)
    assert y.shape == (T, n) and y.dtype == dtype
    assert bool(((y == 1) | (y == -1)).all())


@given(
    family=st.sampled_from(sorted(mtrl.FAMILIES)),
    r=st.integers(2, 5),
    seed=st.integers(0, 2**31 - 1),
)
def test_label_kernel_is_symmetric_bounded_and_rotation_invariant(family, r, seed):
    g = torch.Generator().manual_seed(seed)
    Z, Z2 = (torch.randn(6, r, generator=g, dtype=torch.float64) for _ in range(2))
    K = mtrl.label_kernel(family, Z, Z2)
    assert bool((K.abs() <= 1 + 1e-12).all())
    torch.testing.assert_close(mtrl.label_kernel(family, Z2, Z), K)
    if family == "halfspace":  # its task distribution is rotation invariant
        Q = _orthogonal(r, g)
        torch.testing.assert_close(mtrl.label_kernel(family, Z @ Q, Z2 @ Q), K)
