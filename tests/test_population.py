"""The book's population limit and leakage heuristic against simulation (stated tolerances)."""

import pytest
import torch

import mtrl
from mtrl.population import heuristic_leakage, population_W1, rho


def large_sample_config(**changes) -> mtrl.Config:
    """A small problem (d = 4) with 10^6 samples per task per step, correlation loss, float64."""
    base = dict(d=4, r=2, m=6, n1=10**6, n2=10**6, tau=1.0, loss="correlation", dtype="float64")
    return mtrl.Config(**{**base, **changes})


def test_population_W1_matches_a_large_sample_round():
    """Closed-form W_1 against one round with n1 = n2 = 10^6 samples per task (float64).

    The sampling error of W_1 is about sqrt(d / n) times a constant of order 3, so at d = 4 and
    n = 10^6 the relative error is a few 10^-3; the test allows 10^-2.
    """
    config = large_sample_config(T=3, eta_a=0.7, eta_w=1.3, lam=1 / 1.3, seed=3)
    tasks, net = mtrl.draw_problem(config)
    simulated = mtrl.run(config, cache=None).W
    exact = population_W1(net.W, tasks.M, tasks.tasks, eta_a=0.7, eta_w=1.3)
    error = ((simulated - exact).norm() / exact.norm()).item()
    assert error < 1e-2, error


@pytest.mark.parametrize("family", ["halfspace", "majority"])
def test_odd_task_population_W1_matches_a_large_sample_round(family):
    """One task with an odd label function: (eta_a eta_w/4) W0 M v v^T M^T, v = E[f(z) z].

    v is estimated from 4 * 10^6 latent samples (error about 5 * 10^-4); the round uses
    n1 = n2 = 10^6 (error a few 10^-3 at d = 4); the test allows 2 * 10^-2.
    """
    config = large_sample_config(T=1, family=family, seed=5)
    tasks, net = mtrl.draw_problem(config)
    v = mtrl.linear_coefficient(
        family, tasks.tasks[0], samples=4 * 10**6, generator=torch.Generator().manual_seed(1)
    )
    exact = mtrl.odd_task_population_W1(net.W, tasks.M, v, eta_a=1.0, eta_w=1.0)
    simulated = mtrl.run(config, cache=None).W
    assert ((simulated - exact).norm() / exact.norm()).item() < 2e-2
    if family == "halfspace":  # v = sqrt(2/pi) theta, and the two closed forms agree
        theta = tasks.tasks[0, 0]
        torch.testing.assert_close(v, (2 / torch.pi) ** 0.5 * theta, atol=2e-3, rtol=0)
        general = mtrl.population_W1(net.W, tasks.M, tasks.tasks, eta_a=1.0, eta_w=1.0)
        odd = mtrl.odd_task_population_W1(
            net.W, tasks.M, (2 / torch.pi) ** 0.5 * theta, eta_a=1.0, eta_w=1.0
        )
        torch.testing.assert_close(odd, general, rtol=1e-12, atol=1e-14)


def test_population_W1_lies_in_the_subspace_and_covers_like_S_T(gen):
    M = mtrl.draw_subspace(30, 3, generator=gen, dtype=torch.float64)
    W0 = torch.randn(50, 30, generator=gen, dtype=torch.float64)
    one = mtrl.draw_tasks("halfspace", 1, 3, generator=gen, dtype=torch.float64)
    many = mtrl.draw_tasks("halfspace", 5000, 3, generator=gen, dtype=torch.float64)
    W_one = population_W1(W0, M, one, eta_a=1.0, eta_w=1.0)
    W_many = population_W1(W0, M, many, eta_a=1.0, eta_w=1.0)
    assert mtrl.energy_fraction(W_one, M).item() == pytest.approx(1.0, abs=1e-12)
    assert mtrl.coverage(W_one, M).item() < 1e-6  # S_1 has rank one
    # S_T -> I/r: the coverage tends to that of W0 M.
    assert mtrl.coverage(W_many, M).item() == pytest.approx(mtrl.coverage(W0, M).item(), rel=0.05)


@pytest.mark.parametrize(
    "d,r,T,n1,n2",
    # Two configurations that the book does not use; T >> r, where the heuristic is meant to hold.
    [(150, 4, 500, 150, 150), (300, 3, 1000, 300, 100)],
)
def test_heuristic_leakage_against_simulation(d, r, T, n1, n2):
    """The heuristic rho/(1+rho) is within 10% (relative) of the simulated leakage."""
    result = mtrl.run(
        mtrl.Config(d=d, r=r, m=400, T=T, n1=n1, n2=n2, loss="correlation"), cache=None
    )
    predicted = heuristic_leakage(rho(d=d, r=r, T=T, n1=n1, n2=n2))
    assert result.leakage[-1].item() == pytest.approx(predicted, rel=0.10)


def test_heuristic_with_label_noise_against_simulation():
    """With flip probability p the heuristic (q = 1 - 2p) is within 10% at large T."""
    d, r, T, n1, n2, p = 120, 3, 1500, 200, 150, 0.15
    result = mtrl.run(mtrl.Config(d=d, r=r, m=400, T=T, n1=n1, n2=n2, p=p, loss="correlation"))
    predicted = heuristic_leakage(rho(d=d, r=r, T=T, n1=n1, n2=n2, p=p))
    assert result.leakage[-1].item() == pytest.approx(predicted, rel=0.10)


def test_rho_and_heuristic_validate():
    assert heuristic_leakage(0.0) == 0.0 and heuristic_leakage(1.0) == 0.5
    with pytest.raises(mtrl.ParameterError, match="r must be <= d"):
        rho(d=3, r=4, T=1, n1=1, n2=1)
    with pytest.raises(mtrl.ParameterError, match="tasks must be halfspace directions"):
        population_W1(torch.zeros(2, 3), torch.zeros(3, 2), torch.zeros(4, 2, 2), eta_a=1, eta_w=1)


@pytest.mark.parametrize("d,r,m,T,n2", [(60, 2, 200, 40, 150), (80, 3, 300, 50, 80)])
def test_random_heads_energy_against_simulation(d, r, m, T, n2):
    """With random fixed heads the energy fraction after one round is within 10% (relative) of
    1/(1 + pi d/n2), at two configurations that the book does not use."""
    config = mtrl.Config(d=d, r=r, m=m, T=T, n1=50, n2=n2, algorithm="random_heads")
    simulated = mtrl.run(config, cache=None).energy[-1].item()
    assert simulated == pytest.approx(mtrl.random_heads_energy(d=d, n2=n2), rel=0.10)


def test_random_heads_energy_limits_and_validation():
    assert mtrl.random_heads_energy(d=1, n2=10**12) == pytest.approx(1.0)
    assert mtrl.random_heads_energy(d=100, n2=1) < 0.01
    with pytest.raises(mtrl.ParameterError, match="n2 must be an integer"):
        mtrl.random_heads_energy(d=10, n2=0)
