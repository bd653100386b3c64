"""The Kernel regime chapter's studies: the Sobolev comparison, the summaries, the square task
on an executor and the bridge."""

import math
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import torch

from mtrl.studies import kernel_bridge, kernel_regime as study


def test_sobolev_comparison_is_connect_the_dots_inside_and_flat_outside():
    Y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.2, -1.0], [1.0, 0.5], [3.0, 2.0]]).double()
    dots, kernel, err_in, err_out, err_flat = study.sobolev_comparison(Y)
    assert dots.shape == kernel.shape == (len(study.WIDE), 2)
    assert err_in < 1e-10 and err_flat < 1e-10
    assert err_out > 1.0  # f_D continues linearly, the kernel interpolant does not


def test_square_summary_glue_is_rounded_summarises_the_draws_and_names_the_grid():
    import pandas as pd

    rows = pd.DataFrame([
        {"draw": draw, "T": T, "steps": 10, "gap": 1e-6 * T, "moves": 0, "active": 5,
         "fit": 1e-3, "spread": (1.0 if T == 1 else 0.2 * (draw - 3)) / T,
         "kernel": float("nan") if T == 1 else 0.123456789123 / T ** (draw - 3),
         "equal": float("nan") if T == 1 else 0.1 * draw}
        for draw in (4, 5, 6) for T in (1, 3, 10)
    ])  # fmt: skip
    rows.loc[(rows.draw == 6) & (rows["T"] == 10), "kernel"] = 0.5  # draw 6 rises at T = 10
    text, glue = study.square_summary(rows)
    lines = text.splitlines()
    assert lines[0].endswith("(seed 4)") and lines[2].split()[0] == "1"
    assert lines[5].startswith("over the draws") and "seeds 4, 5, 6" in lines[5]
    assert lines[10] == "kernel / equal at T = 10, by draw: 0.0309 (4), 0.00247 (5), 0.833 (6)"
    assert lines[7].split() == ["1", "1.0e+00", "1.0e+00", "1.0e+00"]  # no kernel at T = 1
    assert lines[8].split()[-3:] == ["5.0e-01", "4.0e-01", "6.0e-01"]  # equal: median, min, max
    assert max(map(len, lines)) <= study.WIDTH < 80  # within the book's column
    assert glue["T_few"] == 3 and glue["T_many"] == 10 and glue["T_grid_txt"] == "1, 3, 10"
    assert glue["kernel_first"] == 0.0137  # the median over the draws, to 3 significant digits
    assert glue["kernel_first_high"] == 0.0412 and glue["kernel_last_high"] == 0.5
    assert glue["kernel_last"] == 0.0123 and glue["kernel_last_low"] == 0.00123
    assert glue["kernel_falls"] == 2 and glue["spread_2d_single"] == 1.0
    assert glue["spread_2d_few_low"] == 0.0667 and glue["spread_2d_few_high"] == 0.2
    assert glue["few_differ"] == 3 and glue["spread_2d_many"] == 0.06 and glue["gap_2d"] == 1e-5
    assert glue["equal_last_low"] == 0.4 and glue["equal_last_high"] == 0.6
    assert glue["ratio_last_high"] == 0.833  # draw 6: 0.5 / 0.6, the draw of the largest ratio
    assert glue["differ_at"] == study.DIFFER_AT and glue["T_many_txt"] == "10"
    fine = pd.concat([rows, rows.assign(T=rows["T"] * 2 - 1)]).drop_duplicates(["draw", "T"])
    # T = 1, 3, 5, 10, 19: "many" is 10, not the third T (5, where the spread is 0.2)
    _, glue = study.square_summary(fine.sort_values(["draw", "T"], kind="stable"))
    assert glue["T_few"] == 3 and glue["T_many"] == 10 and glue["spread_2d_many"] == 0.06
    assert glue["T_many_txt"] == "10 and 19"


def test_univariate_summary_glues_small_numbers_to_three_significant_digits():
    row = dict(cos=0.99876, steps=5, gap=3.456e-7, excess=1e-9, cost=1.0, to_dots=3.26e-6)
    rows = {name: {**row, "spread": spread} for name, spread in
            (("single task", 0.41), ("multi-task", 3.64e-6), ("aligned control", 0.2))}  # fmt: skip
    rows["multi-task, draw 1"] = {**row, "cos": -0.5, "spread": 1.234e-6, "to_dots": 5.678e-6}
    text, glue = study.univariate_summary(rows)
    assert glue["spread_multi"] == 3.64e-6 and glue["to_dots_multi"] == 5.68e-6  # not 4e-6, 6e-6
    assert glue["gap_1d"] == 3.46e-7 and glue["cos_multi_high"] == 0.999  # the worst draw each
    assert glue["cos_multi_low"] == -0.5 and glue["spread_single"] == 0.41
    lines = text.splitlines()
    assert glue["to_dots_aligned"] == 3.26e-6 and lines[-1].endswith("the worst of the seeds")
    assert [line.split()[-1] for line in lines[1:5]] == ["4.1e-01", "3.6e-06", "2.0e-01", "1.2e-06"]
    assert max(map(len, lines)) <= study.WIDTH


def test_univariate_problems_draw_the_random_tasks_per_seed():
    problems, more = study.univariate_problems(3, [4, 7])
    assert list(problems) == ["single task", "multi-task", "aligned control"]
    assert list(more) == ["multi-task, draw 7"] and more["multi-task, draw 7"].shape == (5, 3)
    other, _ = study.univariate_problems(3, [7])
    assert torch.equal(other["multi-task"], more["multi-task, draw 7"])
    assert not torch.equal(problems["multi-task"], other["multi-task"])
    assert torch.equal(problems["multi-task"][:, 0], problems["single task"][:, 0])


def test_bridge_has_a_row_per_T_and_seed_each_with_its_own_inputs_and_summarises_over_seeds():
    import mtrl
    from mtrl.seeds import stream

    base = mtrl.Config(d=12, r=2, m=16, n1=40, n2=40)
    table, rf = kernel_bridge.runs(base, T=[1, 6], points=15, seeds=[0, 1])
    assert list(zip(table["T"], table.seed, strict=True)) == [(1, 0), (6, 0), (1, 1), (6, 1)]
    res = mtrl.run(base.replace(T=6, seed=1))
    X_in, X_other = torch.randn(2, 15, 12, generator=stream(1, "downstream"))
    assert table.deviation.iloc[3] == mtrl.kernel_deviation(res.W, res.b, res.M, X_in, X_other)
    assert table.leakage.iloc[3] == res.leakage[-1].item() and list(rf.index) == [0, 1]
    by_T, text, glue = kernel_bridge.summary(table, rf)
    assert glue["bridge_Tmax_high"] == round(table.deviation[table["T"] == 6].max(), 4)
    assert glue["bridge_rf"] == round(rf.median(), 3) and len(text.splitlines()) == 2 + 2
    assert by_T.low.iloc[0] == table.deviation[table["T"] == 1].min()


def test_square_task_on_an_executor_gives_each_T_its_own_fits():
    # The first call fills the cache; on the executor each fit is found by its inputs, so a
    # main fit and its helper swapped, or two T mixed up, would change the rows.
    _, plane = study.square_grid(5)
    settings = dict(width=20, lam=1e-2, tol=1e-3, seeds=[0, 1], draws=[0])
    serial = study.square_task([1, 3, 5], plane, **settings)
    with ThreadPoolExecutor(2) as pool:
        pooled = study.square_task([1, 3, 5], plane, **settings, executor=pool)
    assert list(pooled[3]["T"]) == [1, 3, 5]
    for got, want in zip(pooled[3].to_dict("records"), serial[3].to_dict("records"), strict=True):
        assert got.keys() == want.keys()  # to rounding: the ridge solve
        assert all(math.isclose(got[k], want[k], rel_tol=1e-12) or got[k] != got[k] for k in got)
    for T in (3, 5):
        assert torch.equal(pooled[1][T], serial[1][T]) and pooled[0][T].network.V.shape[2] == T
        torch.testing.assert_close(pooled[2][T], serial[2][T], rtol=1e-12, atol=1e-14)


def test_square_task_fits_the_draws_together_as_each_alone():
    # Each network of the batch trains on its own draw's labels; pairing the labels with the
    # wrong networks (seed-major instead of draw-major) would mix up the draws' rows.
    _, plane = study.square_grid(5)
    settings = dict(width=20, lam=1e-2, tol=1e-3, seeds=[0, 1])
    both = study.square_task([1, 3], plane, **settings, draws=[0, 1])[3]
    assert both.kernel.iloc[1] != both.kernel.iloc[3]  # the two draws differ at T = 3
    for draw in (0, 1):
        alone = study.square_task([1, 3], plane, **settings, draws=[draw])[3]
        got = both[both.draw == draw].drop(columns="steps").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, alone.drop(columns="steps"), rtol=1e-9)
