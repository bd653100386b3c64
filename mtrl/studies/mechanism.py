"""The experiments of the Mechanism chapter (``book/02_mechanism.ipynb``): the pseudo-contrastive
identity at the chapter's parameters, and the ablations of the heads-first step."""

from __future__ import annotations

import numpy as np

from ..batches import pretraining_batches
from ..contrastive import pseudo_contrastive_error
from ..experiments import Config, draw_problem, sweep, tidy
from ..losses import LOSSES
from ..population import random_heads_energy
from .reports import mechanism as report

__all__ = ["ABLATIONS", "ablations", "identity_errors", "random_heads_summary", "report"]

ABLATIONS = ["heads_first", "random_heads", "random_features", "simultaneous"]


def identity_errors(config: Config, scales):
    """Return, on the first batch of ``config`` (its seed), the relative error of the
    pseudo-contrastive identity for each loss at each heads scale ``eta_a`` of ``scales``; the
    slope of the logistic error in ``eta_a`` over the smaller half of the scales (log-log); and
    the largest hinge error for ``eta_a <= 1``."""
    tasks, net = draw_problem(config)
    batch = pretraining_batches(tasks, n1=config.n1, n2=config.n2, seed=config.seed)
    errors = {
        loss: [pseudo_contrastive_error(net.W, net.b, batch, eta_a=a, loss=loss) for a in scales]
        for loss in LOSSES
    }
    half = len(scales) // 2 + 1
    slope = np.polyfit(np.log(scales[:half]), np.log(errors["logistic"][:half]), 1)[0]
    hinge_small = max(e for a, e in zip(scales, errors["hinge"], strict=True) if a <= 1)
    return errors, float(slope), hinge_small


def ablations(base: Config, *, T, seeds):
    """Return the runs of ``simultaneous`` (with ``lam = 1/2``: from zero heads it only decays
    ``W_0``), the tidy table of every algorithm of ``ABLATIONS`` at every ``T`` and seed, and
    the mean energy fraction and coverage over the seeds (a row per ``T``, a column per
    algorithm)."""
    runs = sweep(base, algorithm=ABLATIONS[:3], T=T, seed=seeds)
    simultaneous = sweep(base.replace(algorithm="simultaneous", lam=0.5), T=T, seed=seeds)
    table = tidy(runs + simultaneous)
    means = table.groupby(["T", "algorithm"])[["energy", "coverage"]].mean().unstack()
    return simultaneous, table, means["energy"][ABLATIONS], means["coverage"][ABLATIONS]


def random_heads_summary(table, energy, *, d: int, r: int, n2: int):
    """Return ``prop-random-heads``'s energy ``(n2 - 1 + pi r)/(n2 - 1 + pi d)``, the mean
    simulated energy over the seeds divided by it at each ``T >= 30``, and each seed's mean
    energy over those ``T`` (the runs of a seed share ``W_0``)."""
    expected = random_heads_energy(d=d, r=r, n2=n2)
    ratio = energy["random_heads"][energy.index >= 30] / expected
    rows = table[(table.algorithm == "random_heads") & (table["T"] >= 30)]
    return expected, ratio, rows.groupby("seed").energy.mean()
