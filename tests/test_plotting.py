"""The figures are reproducible: drawing one twice from the same table gives the same marks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mtrl.plotting.single_task import plot_coverage_draws


def test_the_jittered_draws_are_drawn_the_same_every_time():
    table = pd.DataFrame({"setting": ["one task"] * 20 + ["ten tasks"] * 20,
                          "coverage": np.linspace(0.01, 0.9, 40),
                          "ratio": [1.0] * 20 + [np.nan] * 20})  # fmt: skip
    marks = []
    for _ in range(2):
        np.random.uniform()  # noqa: NPY002 -- whatever state the global generator had
        fig = plot_coverage_draws(table)
        marks.append(np.concatenate([c.get_offsets() for a in fig.axes for c in a.collections]))
        plt.close(fig)
    np.testing.assert_array_equal(*marks)
