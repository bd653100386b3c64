"""The book's figure style and the plots that more than one cell would otherwise repeat."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

__all__ = ["PALETTE", "colors", "plot_latent_labels", "use_theme"]

PALETTE = "colorblind"


def use_theme() -> None:
    """Set the book's seaborn theme: white grid, colour-blind-safe palette, readable sizes."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 200,
            "axes.titlesize": "medium",
            "figure.constrained_layout.use": True,
            "svg.hashsalt": "mtrl",  # stable SVG ids
        }
    )


def colors(n: int) -> list:
    """Return the first ``n`` colours of the book's colour-blind-safe palette."""
    return sns.color_palette(PALETTE, n)


def plot_latent_labels(ax, z: torch.Tensor, y: torch.Tensor, directions: torch.Tensor) -> None:
    """Scatter latent points ``z`` (N, 2) coloured by labels ``y`` (N), with the task's directions.

    ``directions`` is (k, 2): the unit vectors that define the task, drawn as arrows.
    """
    for label, color in zip((1.0, -1.0), colors(2), strict=True):
        mask = (y == label).numpy()
        ax.scatter(*z[mask].T.numpy(), s=4, color=color, label=f"y = {label:+.0f}", alpha=0.7)
    for v in directions.numpy():
        ax.annotate(
            "",
            xy=2.2 * v,
            xytext=(0, 0),
            arrowprops={"arrowstyle": "->", "lw": 1.5, "color": "black"},
        )
    lim = float(np.abs(z.numpy()).max())
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
