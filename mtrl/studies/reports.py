"""The lines that chapters print under their computations: tables of the summaries of
:mod:`mtrl.studies`, formatted for the book's column (each function takes a section's name and
the values that its summary returned)."""

from __future__ import annotations

import textwrap

__all__ = ["WIDTH", "mechanism", "theorem", "training"]

WIDTH = 78  # characters per printed line: what the book's column shows without scrolling


def theorem(section: str, *values, **options) -> str:
    """Return the lines that the Theorem chapter prints for ``section`` (``population``,
    ``leakage``, ``collapse``, ``variants``, ``even``, ``coverage`` or ``rounds``) from the
    tables that the section's ``*_summary`` (or :func:`even_task_copy`) returned, in order (the
    collapse also takes its glue, for the worst point)."""
    return "\n".join(_THEOREM[section](*values, **options))


def _population_lines(error, slope, n_from):
    yield from (f"n1 = n2 = {n:6d}: relative distance to the population W_1 = {e:.3f}"
                for n, e in error.items())  # fmt: skip
    yield f"fitted slope in n over n >= {n_from}: {slope:.2f}"


def _leakage_lines(fits, *, T):
    for dim, x in fits.iterrows():
        yield (f"d = {dim:3d}, T = {T}: leakage {x.leakage:.4f} ({x.heuristic:.4f}), "
               f"slope {x.slope:.2f} ({x.heuristic_slope:.2f})")  # fmt: skip
    yield from textwrap.wrap("in parentheses: the heuristic's; slope: of the odds leakage / "
                             "(1 - leakage) against T, fitted over T >= 30", WIDTH)  # fmt: skip


def _collapse_lines(points, glue):
    ratio, to_exact, ok = points.ratio, points.to_exact, points.ok
    yield f"simulation / heuristic, mean over seeds, {len(points)} points:"
    yield (f"  all points: {ratio.min():.3f} to {ratio.max():.3f}; rho <= 0.1: "
           f"{ratio[ok].min():.3f} to {ratio[ok].max():.3f}")  # fmt: skip
    yield (f"  the lowest, at (d, r, n1, n2, T) = ({glue['collapse_worst_txt']}): "
           f"{ratio.min():.3f}")  # fmt: skip
    yield f"simulation / exact ratio of expectations: {to_exact.min():.3f} to {to_exact.max():.3f}"


def _variants_lines(at_max, bias, *, T):
    yield f"leakage at T = {T}, mean over the seeds (their range)"
    width = at_max.label.str.len().max()
    for x in at_max.itertuples():
        yield f"{x.label:{width}s} {x.leakage:.3f} ({x.low:.3f} to {x.high:.3f})"
    yield (f"biases / base, T >= 100: {bias['bias_low']:.2f} to {bias['bias_high']:.2f}; "
           f"slope over the last three T: {bias['bias_slope']:.2f}")  # fmt: skip


def _even_lines(cosines, ratios, *, T):
    yield (f"xor, T = {T}: median row cosine of W_1 and W_0 {cosines.min():.3f} to "
           f"{cosines.max():.3f};")  # fmt: skip
    yield f"  fitted c / predicted c {ratios.min():.3f} to {ratios.max():.3f}"


def _coverage_lines(mean):
    for T, cov, limit, dist in mean.itertuples():
        yield (f"T = {T:5d}: coverage {cov:.3f} (population {limit:.3f}), subspace distance "
               f"{dist:.3f}")  # fmt: skip


def _rounds_lines(rows, *, seeds):
    yield f"energy, coverage and subspace distance, mean over {seeds} seeds"
    yield "limit: the population coverage"
    for x in rows.itertuples():
        line = f"T = {x.T:4d}, {x.label:28s}: {x.energy:.3f}  {x.coverage:.3f}  {x.distance:.3f}"
        yield line + (f"  limit {x.population:.3f}" if x.population == x.population else "")


_THEOREM = {"population": _population_lines, "leakage": _leakage_lines,
            "collapse": _collapse_lines, "variants": _variants_lines, "even": _even_lines,
            "coverage": _coverage_lines, "rounds": _rounds_lines}  # fmt: skip


def mechanism(section: str, *values, **options) -> str:
    """Return the lines that the Mechanism chapter prints for ``section`` (``ablations``:
    ``moved`` and the energy table ``E`` of :func:`mtrl.studies.mechanism.ablations`;
    ``random_heads``: the formula's energy and the ratios of the simulation to it)."""
    return "\n".join(_MECHANISM[section](*values, **options))


def _ablations_lines(moved, E):
    yield f"simultaneous: largest |W_1 - W_0/2| over all runs = {moved:.1e}"
    yield f"{'T':>6s} " + " ".join(f"{a:>16s}" for a in E)
    yield from (f"{t:6d} " + " ".join(f"{v:16.3f}" for v in row) for t, row in E.iterrows())
    yield "(energy fraction after one round, mean over seeds)"


def _random_heads_lines(expected, ratio):
    formula = "(n2 - 1 + pi r)/(n2 - 1 + pi d)"
    yield f"random heads, {formula} = {expected:.3f};"
    yield "simulated / that, T >= 30:"
    yield "  " + ", ".join(f"{v:.3f}" for v in ratio)


_MECHANISM = {"ablations": _ablations_lines, "random_heads": _random_heads_lines}


def training(section: str, *values, **options) -> str:
    """Return the lines that the Training chapter prints for ``section`` (``final``: the medians
    of :func:`~mtrl.studies.training.training_summary`, with the ``steps`` and the number of
    ``seeds``; ``budget``: a dict of titled tables and the heuristic's best share;
    ``transfer``: the accuracy table and the ratios of the error rates at the largest and the
    smallest ``d``)."""
    return "\n".join(_TRAINING[section](*values, **options))


def _final_lines(medians, *, steps: int, seeds: int):
    yield from textwrap.wrap(
        f"median over {seeds} seeds after {steps} steps, against T (columns); _one: one round "
        f"with {steps}x the samples; found: the fraction of seeds with a distance below 1/2; "
        f"closer: of seeds whose training ends closer than their one round; coverage_init: "
        f"of W_0", WIDTH)  # fmt: skip
    yield medians.T.round(3).to_string(line_width=WIDTH)


def _budget_lines(tables: dict, best: float):
    for name, table in tables.items():
        yield f"{name}, median over the seeds:\n{table.round(4).to_string(line_width=WIDTH)}"
    yield f"the heuristic's best share for one round (fine grid): {best:.3f}"


def _transfer_lines(accuracy, error_ratio, *, dims):
    yield f"probe accuracy, median over the seeds:\n{accuracy.round(3).to_string(line_width=WIDTH)}"
    yield f"error rate at d = {dims[-1]} over that at d = {dims[0]}, against k:"
    yield "  " + ", ".join(f"{v:.2f}" for v in error_ratio)


_TRAINING = {"final": _final_lines, "budget": _budget_lines, "transfer": _transfer_lines}
