"""The Kernel regime chapter's studies: the Sobolev comparison and the summaries' glue (no fits)."""

import torch

from mtrl.studies import kernel_regime as study


def test_sobolev_comparison_is_connect_the_dots_inside_and_flat_outside():
    Y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.2, -1.0], [1.0, 0.5], [3.0, 2.0]]).double()
    dots, kernel, err_in, err_out, err_flat = study.sobolev_comparison(Y)
    assert dots.shape == kernel.shape == (len(study.WIDE), 2)
    assert err_in < 1e-10 and err_flat < 1e-10
    assert err_out > 1.0  # f_D continues linearly, the kernel interpolant does not


def test_square_summary_glue_is_rounded_and_names_the_grid():
    rows = [
        {"T": T, "steps": 10, "gap": 1e-6 * T, "moves": 0, "active": 5, "fit": 1e-3,
         "spread": 1.0 / T, "kernel": float("nan") if T == 1 else 0.123456789123 / T}
        for T in (1, 3, 10)
    ]  # fmt: skip
    text, glue = study.square_summary(rows)
    assert text.splitlines()[1].split()[0] == "1" and len(text.splitlines()) == 3 + 1 + 3
    assert glue["T_few"] == 3 and glue["T_many"] == 10 and glue["T_grid_txt"] == "1, 3, 10"
    assert glue["kernel_first"] == round(0.123456789123 / 3, 6)
    assert glue["spread_2d_many"] == round(0.1, 9) and glue["gap_2d"] == 1e-5
