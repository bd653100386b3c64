import math

import pytest
import torch

import mtrl


def test_subspace_is_orthonormal(gen):
    M = mtrl.draw_subspace(30, 4, generator=gen, dtype=torch.float64)
    assert M.shape == (30, 4)
    torch.testing.assert_close(M.T @ M, torch.eye(4, dtype=torch.float64), rtol=0, atol=1e-12)


def test_tasks_are_unit_directions(gen):
    for name, family in mtrl.FAMILIES.items():
        th = mtrl.draw_tasks(name, 50, 3, generator=gen)
        assert th.shape == (50, family.directions, 3)
        torch.testing.assert_close(th.norm(dim=-1), torch.ones(50, family.directions))


@pytest.mark.parametrize("family", sorted(mtrl.FAMILIES))
def test_labels_depend_on_latent_coordinates_only(family, gen):
    d, r = 12, 3
    M = mtrl.draw_subspace(d, r, generator=gen, dtype=torch.float64)
    tasks = mtrl.TaskSet(
        M, mtrl.draw_tasks(family, 5, r, generator=gen, dtype=torch.float64), family
    )
    X, y = tasks.sample(40, generator=gen)
    assert set(y.unique().tolist()) <= {-1.0, 1.0}
    # Moving x orthogonally to span(M) leaves every label unchanged.
    noise = torch.randn(X.shape, generator=gen, dtype=torch.float64)
    X_moved = X + noise - (noise @ M) @ M.T
    torch.testing.assert_close(tasks.labels(X_moved @ M), y)


def test_halfspace_labels_are_signs(gen):
    M = mtrl.draw_subspace(5, 2, generator=gen)
    theta = torch.tensor([[[1.0, 0.0]]])
    z = torch.tensor([[[2.0, 5.0], [-0.5, 1.0]]])
    y = mtrl.TaskSet(M, theta, "halfspace").labels(z)
    assert y.tolist() == [[1.0, -1.0]]


def test_label_noise_flips_at_rate_p(gen):
    M = mtrl.draw_subspace(6, 2, generator=gen)
    theta = mtrl.draw_tasks("halfspace", 4, 2, generator=gen)
    z = torch.randn(4, 20000, 2, generator=gen)
    clean = mtrl.TaskSet(M, theta, "halfspace").labels(z)
    noisy = mtrl.TaskSet(M, theta, "halfspace", p=0.2).labels(z, generator=gen)
    rate = (clean != noisy).double().mean().item()
    assert abs(rate - 0.2) < 4 * math.sqrt(0.2 * 0.8 / clean.numel())


@pytest.mark.parametrize("family", sorted(mtrl.FAMILIES))
def test_closed_form_kernel_matches_monte_carlo(family, gen):
    r, N = 3, 64
    z, z2 = (
        torch.randn(N, r, generator=gen, dtype=torch.float64),
        torch.randn(N, r, generator=gen, dtype=torch.float64),
    )
    z2[:8] = z[:8] * 2.5  # include aligned pairs, where K = 1
    mc = mtrl.label_kernel_monte_carlo(family, z, z2, num_tasks=40000, generator=gen)
    exact = mtrl.label_kernel(family, z, z2)
    torch.testing.assert_close(exact[:8], torch.ones(8, dtype=torch.float64))
    # Each pair within 5 standard errors (plus a floor where the variance vanishes).
    assert ((mc.mean - exact).abs() <= 5 * mc.stderr + 5e-3).all()


def test_halfspace_kernel_formula_values():
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    z2 = torch.tensor([[3.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    torch.testing.assert_close(
        mtrl.label_kernel("halfspace", z, z2), torch.tensor([1.0, 0.0, -1.0])
    )


def test_user_family_without_closed_form(gen):
    family = mtrl.TaskFamily(
        name="test_threshold",
        directions=1,
        label=lambda tasks, z: torch.where(
            torch.einsum("tnr,tjr->tnj", z, tasks)[..., 0] > 0.5, 1.0, -1.0
        ).to(z.dtype),
        kernel=None,
        description="sign(<theta, z> - 1/2)",
    )
    mtrl.register_family(family)
    try:
        z = torch.randn(10, 2, generator=gen)
        with pytest.raises(mtrl.ParameterError, match="no closed-form kernel"):
            mtrl.label_kernel("test_threshold", z, z)
        est = mtrl.label_kernel_monte_carlo("test_threshold", z, z, num_tasks=100, generator=gen)
        torch.testing.assert_close(est.mean, torch.ones(10))
        with pytest.raises(mtrl.ParameterError, match="already registered"):
            mtrl.register_family(family)
    finally:
        del mtrl.FAMILIES["test_threshold"]
