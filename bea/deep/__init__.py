"""bea.deep — backward error analysis of neural networks by automatic differentiation (JAX).

Needs the optional extra: ``pip install 'bea[deep]'`` (JAX and scikit-learn). ``import bea`` never
imports this package; importing it without JAX raises :class:`~bea.InputError` with the pip
command.

Layers, data path top-down: :mod:`.backend` (import guard, float64 scope, versions, pinning) →
:mod:`.data` (offline datasets) → :mod:`.problem` (a loss on flat θ) → :mod:`.differentials`
(HVPs, nested jvp, tree differentials, Taylor in h, λ_max) → :mod:`.flow` (modified flows, tree and
Lie routes) → :mod:`.regularizers` → :mod:`.train` → :mod:`.verify`; :mod:`.sweep` (runs on an
executor) → :mod:`.study` (the Section-5 grid and its claims) → :mod:`.plots` → :mod:`.report`.
"""

from __future__ import annotations

from .backend import require

require()

from .backend import deep_versions, scope  # noqa: E402
from .data import Dataset, dataset, digits, teacher_student  # noqa: E402
from .differentials import derivative, hvp, taylor_in_h, top_eigenvalue, tree_differentials  # noqa: E402
from .flow import Epoch, NumericModifiedFlow, modified_flow  # noqa: E402
from .problem import MLP, Problem, mlp, problem  # noqa: E402
from .regularizers import (  # noqa: E402
    egr_gradient,
    first_order_loss,
    igr_loss,
    penalty_coefficients,
    r_ig,
    sgd_loss,
    stability_edge,
)
from .train import TrainResult, train  # noqa: E402
from .verify import verify  # noqa: E402

__all__ = [
    "MLP",
    "Dataset",
    "Epoch",
    "NumericModifiedFlow",
    "Problem",
    "TrainResult",
    "dataset",
    "deep_versions",
    "derivative",
    "digits",
    "egr_gradient",
    "first_order_loss",
    "igr_loss",
    "penalty_coefficients",
    "r_ig",
    "sgd_loss",
    "stability_edge",
    "verify",
    "hvp",
    "mlp",
    "modified_flow",
    "problem",
    "scope",
    "taylor_in_h",
    "teacher_student",
    "top_eigenvalue",
    "train",
    "tree_differentials",
]
