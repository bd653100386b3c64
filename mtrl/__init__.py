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

Layers (each imports only from itself and the layers listed before it; a test checks it):

1. the math core, on tensors and ``torch.Generator``s: ``tasks``, ``network``, ``losses``,
   ``batches``, ``pretrain`` (its log in ``training_log``), ``contrastive``, ``metrics``,
   ``population``, ``downstream``, ``interpolation``, ``kernel_regime`` ([N24]), with
   ``errors``, ``numerics`` and ``seeds`` (the one module that turns integer seeds into
   generators);
2. the experiment layer, the only one that touches the disk: ``experiments`` (``Config``,
   ``Result``, ``run``, ``run_all``, ``sweep``), ``resources`` (memory and cores), ``fits``
   (cached [N24] training), ``transfer`` (probes of results), ``cache``;
3. the book: ``plotting`` (figures of results) and ``book`` (glue, figure export, the
   Reproduce page's tables, the PDF), outside the cache's code hash.
"""

from .batches import Batches, pretraining_batches
from .cache import ResultCache
from .contrastive import kernel_contrastive_loss, pseudo_contrastive_error, pseudo_contrastive_loss
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
    check_ints,
    check_le,
)
from .experiments import Config, Result, draw_problem, log_grid, run, run_all, sweep, tidy
from .fits import fit_multitask
from .interpolation import (
    PenalizedOptimum,
    alignment,
    connect_the_dots,
    kernel_interpolant,
    penalized_optimum,
    representational_cost,
    sobolev_kernel,
)
from .kernel_regime import (
    MultiTaskFit,
    ReluNetwork,
    certificate,
    init_relu_networks,
    kernel_solution,
    max_correlation,
    sup_spread,
)
from .losses import LOSSES, Loss, get_loss
from .metrics import (
    coverage,
    energy_fraction,
    leakage,
    representation_similarity,
    subspace_distance,
)
from .network import Network, features, init_network
from .population import (
    EnergyMoments,
    copy_coefficient,
    even_task_population_W1,
    expected_energy,
    heuristic_leakage,
    label_mean,
    linear_coefficient,
    odd_task_population_W1,
    population_W1,
    random_heads_energy,
    rho,
)
from .pretrain import (
    ALGORITHMS,
    alternating_round,
    head_gradient,
    pretrain,
    representation_gradient,
)
from .resources import default_executor, process_pool, use_executor
from .seeds import stream
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
from .training_log import PretrainResult
from .transfer import transfer_accuracy

__version__ = "0.1.0"

__all__ = [
    "ALGORITHMS",
    "FAMILIES",
    "LOSSES",
    "PROBES",
    "Batches",
    "Config",
    "ConvergenceError",
    "Downstream",
    "EnergyMoments",
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
    "alignment",
    "alternating_round",
    "certificate",
    "check_choice",
    "check_float",
    "check_int",
    "check_ints",
    "check_le",
    "connect_the_dots",
    "copy_coefficient",
    "coverage",
    "default_executor",
    "downstream_accuracy",
    "draw_problem",
    "draw_subspace",
    "draw_tasks",
    "energy_fraction",
    "even_task_population_W1",
    "expected_energy",
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
    "label_mean",
    "leakage",
    "linear_coefficient",
    "log_grid",
    "max_correlation",
    "odd_task_population_W1",
    "orthogonal_halfspaces",
    "penalized_optimum",
    "population_W1",
    "pretrain",
    "pretraining_batches",
    "probe_features",
    "process_pool",
    "pseudo_contrastive_error",
    "pseudo_contrastive_loss",
    "random_heads_energy",
    "register_family",
    "representation_gradient",
    "representation_similarity",
    "representational_cost",
    "rho",
    "run",
    "run_all",
    "sobolev_kernel",
    "stream",
    "subspace_distance",
    "sup_spread",
    "sweep",
    "tidy",
    "transfer_accuracy",
    "use_executor",
]
