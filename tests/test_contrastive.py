"""The pseudo-contrastive identity (a proposition of the book) against autograd, in float64."""

import pytest
import torch

import mtrl

T, d, r, m, n1, n2 = 6, 8, 3, 10, 12, 9


def setup(gen, scale=1.0):
    M = mtrl.draw_subspace(d, r, generator=gen, dtype=torch.float64)
    tasks = mtrl.TaskSet(
        M, mtrl.draw_tasks("halfspace", T, r, generator=gen, dtype=torch.float64), "halfspace"
    )
    net = mtrl.init_network(
        d=d, m=m, T=T, tau=scale, beta=0.5 * scale, generator=gen, dtype=torch.float64
    )
    return net, mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=11)


def multitask_gradient(net, batch, loss, eta_a):
    """Autograd of (1/T) sum_t L_t(W, a_t) after the heads step, heads held fixed."""
    stepped = mtrl.alternating_round(net, batch, loss=loss, eta_a=eta_a, lam=0.0, eta_w=1.0)
    # With lam = 0 and eta_w = 1 the round moves W by exactly minus the gradient.
    return net.W - stepped.W


def pc_gradient(net, batch, loss, eta_a):
    W = net.W.clone().requires_grad_(True)
    value = mtrl.pseudo_contrastive_loss(
        W, net.b, batch.X1, batch.y1, batch.X2, batch.y2, eta_a=eta_a, loss=loss
    )
    return torch.autograd.grad(value, W)[0]


def test_identity_is_exact_for_correlation_loss(gen):
    net, batch = setup(gen)
    torch.testing.assert_close(
        pc_gradient(net, batch, "correlation", 0.8),
        multitask_gradient(net, batch, "correlation", 0.8),
        rtol=1e-10,
        atol=1e-14,
    )


@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_identity_holds_to_first_order_for_other_losses(loss, gen):
    errors = []
    for scale in (1.0, 0.1, 0.01):
        net, batch = setup(torch.Generator().manual_seed(5), scale)
        exact, approx = (
            multitask_gradient(net, batch, loss, 1.0),
            pc_gradient(net, batch, loss, 1.0),
        )
        errors.append(((exact - approx).norm() / exact.norm()).item())
    if loss == "hinge":
        # Margins stay below 1 at small scale, where hinge is linear: the identity is exact.
        assert errors[-1] < 1e-12
    else:
        # Relative error of a first-order expansion in the head scale: shrinks with the scale.
        assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-3


def test_kernel_form_averages_the_finite_sample_loss(gen):
    """E over tasks of L_PC with independent S1, S2 equals the kernel form on the same pairs."""
    M = mtrl.draw_subspace(d, r, generator=gen, dtype=torch.float64)
    W = torch.randn(m, d, generator=gen, dtype=torch.float64)
    b = torch.zeros(m, dtype=torch.float64)
    X, X2 = (
        torch.randn(1, 30, d, generator=gen, dtype=torch.float64),
        torch.randn(1, 25, d, generator=gen, dtype=torch.float64),
    )
    K = mtrl.label_kernel(
        "halfspace", (X[0] @ M)[:, None, :].expand(-1, 25, -1), (X2[0] @ M)[None].expand(30, -1, -1)
    )
    kernel_form = mtrl.kernel_contrastive_loss(W, b, X[0], X2[0], K, eta_a=1.0)
    num = 20000
    tasks = mtrl.TaskSet(
        M, mtrl.draw_tasks("halfspace", num, r, generator=gen, dtype=torch.float64), "halfspace"
    )
    y1, y2 = tasks.labels((X @ M).expand(num, -1, -1)), tasks.labels((X2 @ M).expand(num, -1, -1))
    sampled = mtrl.pseudo_contrastive_loss(
        W, b, X.expand(num, -1, -1), y1, X2.expand(num, -1, -1), y2, eta_a=1.0
    )
    assert abs(sampled - kernel_form) < 0.03 * abs(kernel_form)


@pytest.mark.parametrize("loss", ["correlation", "logistic", "hinge"])
def test_pseudo_contrastive_error_is_the_distance_of_the_two_gradients(loss, gen):
    """The error equals ||G - grad L_PC|| / ||G|| with G from a whole round (heads step, then
    the W-gradient) and grad L_PC from autograd: zero for the correlation loss."""
    net, batch = setup(gen, 0.5)
    G = multitask_gradient(net, batch, loss, 2.0)
    expected = ((G - pc_gradient(net, batch, loss, 2.0)).norm() / G.norm()).item()
    error = mtrl.pseudo_contrastive_error(net.W, net.b, batch, eta_a=2.0, loss=loss)
    assert error == pytest.approx(expected, rel=1e-8, abs=1e-14)
    if loss == "correlation":
        assert error < 1e-12
