"""B-series: rooted trees, their algebra, Runge–Kutta methods and modified equations on trees.

The tree route to backward error analysis: coefficients are computed once on the trees, exactly,
independent of the vector field, then evaluated on a concrete field (:mod:`.elementary`).
"""

from .algebra import (
    BSeries,
    compose,
    exact_flow,
    lie_derivative,
    modified_equation,
    modifying_integrator,
    substitute,
)
from .energy import energy_preservation_order, free_tree
from .prk import PRK_METHODS, PartitionedRungeKutta
from .relations import (
    LinearRelation,
    adams_bashforth2,
    bdf2,
    heavy_ball,
    leapfrog,
    nesterov,
    relation_modified_equation,
)
from .rk import METHODS, RungeKutta, order_of_accuracy, symplecticity_order
from .trees import (
    butcher_product,
    density,
    elementary_differential_str,
    order,
    symmetry,
    tree_latex,
    tree_str,
    trees,
    trees_up_to,
)

__all__ = [
    "PRK_METHODS",
    "PartitionedRungeKutta",
    "METHODS",
    "BSeries",
    "LinearRelation",
    "adams_bashforth2",
    "bdf2",
    "heavy_ball",
    "leapfrog",
    "nesterov",
    "relation_modified_equation",
    "RungeKutta",
    "butcher_product",
    "compose",
    "density",
    "elementary_differential_str",
    "energy_preservation_order",
    "exact_flow",
    "free_tree",
    "lie_derivative",
    "modified_equation",
    "modifying_integrator",
    "order",
    "order_of_accuracy",
    "substitute",
    "symmetry",
    "symplecticity_order",
    "tree_latex",
    "tree_str",
    "trees",
    "trees_up_to",
]
