"""The multi-task ReLU networks of [N24] and their kernel regime (Kernel regime chapter).

:mod:`.model` holds the networks, their affine terms and the weighted-l2 kernel problem;
:mod:`.certificate` the exact dual bound; :mod:`.solver` the certified training. The cached
entry point of training is :func:`mtrl.fit_multitask` (experiment layer).
"""

from .certificate import certificate, max_correlation
from .model import (
    ReluNetwork,
    affine_projector,
    init_relu_networks,
    kernel_solution,
    sup_spread,
)
from .solver import MultiTaskFit, train_multitask

__all__ = [
    "MultiTaskFit",
    "ReluNetwork",
    "affine_projector",
    "certificate",
    "init_relu_networks",
    "kernel_solution",
    "max_correlation",
    "sup_spread",
    "train_multitask",
]
