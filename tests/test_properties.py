"""Property-based tests (hypothesis) of the metrics and the data model: bounds, invariances
under rotations and permutations, shapes and dtypes for random valid sizes."""

import torch
from hypothesis import given, settings, strategies as st

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


def _distance_by_projectors(W, M):
    """The sine of the largest principal angle between ``span(M)`` and the top-r right singular
    subspace of ``W``, computed another way than ``mtrl.subspace_distance`` and not clamped:
    ``||P_V - P_M||_2``, with ``V`` the top-r eigenvectors of ``W^T W``; and the relative gap
    ``(s_r^2 - s_{r+1}^2) / s_1^2`` below which that subspace is ill-defined."""
    r = M.shape[1]
    values, vectors = torch.linalg.eigh(W.T @ W)  # ascending
    V = vectors[:, -r:]
    below = values[-r - 1] if r < len(values) else values.new_zeros(())
    gap = (values[-r] - below) / values[-1]
    return torch.linalg.eigvalsh(V @ V.T - M @ M.T).abs().max(), gap


@given(problems())
def test_energy_and_coverage_are_bounded_and_equal_independent_forms(problem):
    W, M, _ = problem
    E, C = mtrl.energy_fraction(W, M), mtrl.coverage(W, M)
    assert 0.0 <= E.item() <= 1.0 + 1e-12  # not clamped: a sum of squares over a larger one
    assert abs(mtrl.leakage(W, M).item() - (1 - E.item())) < 1e-12
    # coverage is sqrt(lambda_min / lambda_max) of the r x r matrix (W M)^T W M, which has rank
    # < r (coverage 0) when m < r; the code instead divides singular values and sets m < r to 0
    lam = torch.linalg.eigvalsh((W @ M).T @ (W @ M))
    assert abs(C.item() - (lam[0].clamp_min(0) / lam[-1]).sqrt().item()) < 1e-6
    assert 0.0 <= C.item() <= 1.0 + 1e-12


@given(problems())
def test_subspace_distance_is_the_unclamped_sine_of_the_largest_principal_angle(problem):
    """``subspace_distance`` clamps to [0, 1]; the bound is tested on a quantity computed
    another way and not clamped, which the clamped value must equal: the clamp only rounds."""
    W, M, _ = problem
    D = mtrl.subspace_distance(W, M)
    if W.shape[0] < M.shape[1]:  # fewer neurons than latent directions: no top-r subspace
        assert torch.isnan(D)
        return
    reference, gap = _distance_by_projectors(W, M)
    assert 0.0 <= reference.item() <= 1.0 + 1e-12
    if gap > 1e-6:  # eigenvectors of W^T W to about 1e-16 / gap
        assert abs(D.item() - reference.item()) < 1e-8, (D, reference)


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
