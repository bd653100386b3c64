"""mtrl: multi-task representation learning with two-layer ReLU networks, the living paper's code.

Notation (the same in the book and in the code):

========  ====================================================================
``d``     ambient dimension; inputs ``x ~ N(0, I_d)``
``r``     latent dimension, ``r <= d``
``M``     (d, r) orthonormal basis of the latent subspace
``T``     number of pretraining tasks; task ``t`` labels ``y = f_t(M^T x)``
``p``     label-flip probability, in [0, 1/2)
``K``     the label-agreement kernel ``K(z, z') = E_t[f_t(z) f_t(z')]``;
          also the number of rounds (``rounds`` in code)
``m``     width (number of hidden neurons)
``W``     (m, d) shared first layer; ``b`` (m) fixed biases
``A``     (T, m) task heads, rows ``a_t``; ``f_t(x) = a_t^T relu(W x + b)``
``n1``    samples per task for the heads step
``n2``    samples per task for the representation step
``tau``   initial scale: rows of ``W_0`` ~ N(0, tau^2/d I)
``beta``  bias scale: ``b_j`` ~ N(0, beta^2)
``eta_a`` heads step size; ``eta_w`` representation step size; ``lam`` weight decay
========  ====================================================================
"""

from .cache import ResultCache, code_version, default_cache
from .contrastive import kernel_contrastive_loss, pseudo_contrastive_loss
from .downstream import (
    PROBES,
    Downstream,
    Probe,
    downstream_accuracy,
    fit_probe,
    kernel_deviation,
    orthogonal_halfspaces,
    probe_features,
)
from .errors import (
    ConvergenceError,
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_le,
)
from .experiments import Config, Result, draw_problem, process_pool, run, stream, sweep
from .interpolation import (
    PenalizedOptimum,
    alignment,
    connect_the_dots,
    kernel_interpolant,
    penalized_optimum,
    representational_cost,
    second_differences,
    sobolev_kernel,
)
from .kernel_regime import (
    MultiTaskFit,
    ReluNetwork,
    affine_projector,
    certificate,
    fit_multitask,
    init_relu_networks,
    kernel_solution,
    max_correlation,
)
from .losses import LOSSES, Loss, get_loss
from .metrics import coverage, energy_fraction, leakage, subspace_distance
from .network import Network, features, init_network
from .plotting import use_theme
from .population import (
    heuristic_leakage,
    linear_coefficient,
    odd_task_population_W1,
    population_W1,
    rho,
)
from .pretrain import (
    ALGORITHMS,
    TASK_BLOCK,
    Batches,
    PretrainResult,
    alternating_round,
    draw_data_seed,
    head_gradient,
    pretrain,
    pretraining_batches,
    representation_gradient,
)
from .tasks import (
    FAMILIES,
    KernelEstimate,
    TaskFamily,
    TaskSet,
    draw_subspace,
    draw_tasks,
    label_kernel,
    label_kernel_monte_carlo,
    register_family,
)

__version__ = "0.1.0"

__all__ = [
    "ALGORITHMS",
    "FAMILIES",
    "LOSSES",
    "PROBES",
    "TASK_BLOCK",
    "Batches",
    "Config",
    "ConvergenceError",
    "Downstream",
    "KernelEstimate",
    "Loss",
    "MultiTaskFit",
    "Network",
    "ParameterError",
    "PenalizedOptimum",
    "PretrainResult",
    "Probe",
    "ReluNetwork",
    "Result",
    "ResultCache",
    "TaskFamily",
    "TaskSet",
    "__version__",
    "affine_projector",
    "alignment",
    "alternating_round",
    "certificate",
    "check_choice",
    "check_float",
    "check_int",
    "check_le",
    "code_version",
    "connect_the_dots",
    "coverage",
    "default_cache",
    "downstream_accuracy",
    "draw_data_seed",
    "draw_problem",
    "draw_subspace",
    "draw_tasks",
    "energy_fraction",
    "features",
    "fit_multitask",
    "fit_probe",
    "get_loss",
    "head_gradient",
    "heuristic_leakage",
    "init_network",
    "init_relu_networks",
    "kernel_contrastive_loss",
    "kernel_deviation",
    "kernel_interpolant",
    "kernel_solution",
    "label_kernel",
    "label_kernel_monte_carlo",
    "leakage",
    "linear_coefficient",
    "max_correlation",
    "odd_task_population_W1",
    "orthogonal_halfspaces",
    "penalized_optimum",
    "population_W1",
    "pretrain",
    "pretraining_batches",
    "probe_features",
    "process_pool",
    "pseudo_contrastive_loss",
    "register_family",
    "representation_gradient",
    "representational_cost",
    "rho",
    "run",
    "second_differences",
    "sobolev_kernel",
    "stream",
    "subspace_distance",
    "sweep",
    "use_theme",
]
