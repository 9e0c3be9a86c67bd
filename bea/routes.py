"""One dispatch from a method to the route that derives its modified equation.

* an explicit step map (:class:`~bea.step.StepMap`, or a column of expressions) → the Taylor
  route (:mod:`bea.taylor`);
* an :class:`~bea.step.ImplicitStep`, a :class:`~bea.step.TwoStepMap` or a
  :class:`~bea.step.SlowFastMap` → the relation route (:mod:`bea.relation`), from the kind's
  :meth:`~bea.step.Step.relation`;
* a Runge–Kutta tableau → the tree route (:mod:`bea.bseries`).

The three routes are siblings that never import each other; this module is the only place that
chooses between them. :func:`bea.modified_equation` is this module's function.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ._checks import check_order, check_step_symbol, check_symbols
from .bseries.algebra import modified_equation as tree_modified_equation
from .bseries.elementary import evaluate
from .bseries.relations import LinearRelation
from .bseries.relations import relation_modified_equation as relation_tree_equation
from .bseries.rk import RungeKutta
from .errors import InputError
from .flow import ModifiedFlow
from .parsing import as_expression
from .relation import relation_modified_equation
from .step import Step, StepMap
from .taylor import taylor_modified_equation

__all__ = ["derive_step", "modified_equation"]


def derive_step(
    step: Step, order: int, *, route: str = "auto", max_order: int | None = None
) -> ModifiedFlow:
    """The modified flow of a step of any kind (see :mod:`bea.step`).

    Parameters
    ----------
    step : Step
        A :class:`~bea.step.StepMap`, :class:`~bea.step.ImplicitStep`,
        :class:`~bea.step.TwoStepMap` or :class:`~bea.step.SlowFastMap`.
    order : int
        Highest power of the step size kept.
    route : {"auto", "taylor", "relation"}
        ``"auto"``: the Taylor route for explicit maps, the relation route otherwise.
        ``"relation"`` also works for explicit maps (a cross-check of the Taylor route).
    max_order : int, optional
        Raise the bound on ``order``.

    Returns
    -------
    ModifiedFlow
        With the step's name as ``method`` and its loss as ``loss``.

    Examples
    --------
    >>> import sympy as sp
    >>> from bea.step import StepMap
    >>> t, h = sp.symbols("t h")
    >>> step = StepMap(sp.Matrix([t - h * t]), (t,), h, "gd")
    >>> derive_step(step, 2).vector_field() == derive_step(step, 2, route="relation").vector_field()
    True
    """
    if not isinstance(step, Step):
        raise InputError(f"expected a step (bea.step.StepMap, ...), got {type(step).__name__}")
    if route not in ("auto", "taylor", "relation"):
        raise InputError(f"route must be 'auto', 'taylor' or 'relation', got {route!r}")
    bound = {} if max_order is None else {"max_order": max_order}
    if isinstance(step, StepMap) and route in ("auto", "taylor"):
        flow = taylor_modified_equation(step.step, step.state, step.h, order, **bound)
    elif route == "taylor":
        raise InputError(f"the Taylor route needs an explicit map, not {type(step).__name__}")
    else:
        rel = step.relation()
        flow = relation_modified_equation(
            rel.equations,
            step.state,
            rel.shifted,
            step.h,
            order,
            fast=rel.fast or None,
            **bound,
        )
    return flow.with_method(step.name, step.loss)


def modified_equation(
    step,
    state: Sequence[sp.Symbol] | None = None,
    h: sp.Symbol | None = None,
    order: int = 1,
    *,
    field=None,
    max_order: int | None = None,
) -> ModifiedFlow:
    """Modified vector field of a one-step method, to a given order in the step size.

    Parameters
    ----------
    step : sympy Matrix, sequence of expressions, Step, or bea.bseries.RungeKutta
        The method:

        * a one-step map Φ_h(y) as a column of expressions in ``state`` and ``h`` (strings are read
          by the safe parser); other free symbols are constants; it must be consistent, Φ_0(y) = y;
        * a step of any kind from :mod:`bea.step` (its own state and step size are used);
        * a Runge–Kutta method (explicit or implicit), applied to ``field``: the modified equation
          is then computed on rooted trees (B-series) and evaluated on the field;
        * a linear multistep method (:class:`bea.bseries.relations.LinearRelation`: leapfrog,
          Adams–Bashforth, BDF, …) applied to ``field``: the modified equation of its underlying
          one-step method (Hairer, Lubich & Wanner XV.2), on trees. The parasitic solutions are
          not in it: they are the transient that starting values on that method's flow avoid,
          and for a weakly stable method such as leapfrog they are not damped.
    state : sequence of sympy Symbol
        The state variables y (not with a :class:`~bea.step.Step`).
    h : sympy Symbol
        The step-size symbol (not with a :class:`~bea.step.Step`).
    order : int
        Highest power of ``h`` kept: the result has terms f_0, …, f_order.
    field : sequence of sympy expressions, optional
        The vector field f(y) (only with a Runge–Kutta ``step``).
    max_order : int, optional
        Raise the bound on ``order`` (default 12).

    Returns
    -------
    ModifiedFlow
        ``terms[j]`` is the coefficient of ``h**j`` in the modified field.

    Raises
    ------
    InputError
        On a bad order, a map of the wrong shape, an inconsistent map, or a non-smooth map.

    Examples
    --------
    Explicit Euler on y' = y² (Hairer, Lubich & Wanner IX.1): ỹ′ = ỹ² − h ỹ³ + (3/2) h² ỹ⁴ − …

    >>> import sympy as sp
    >>> y, h = sp.symbols("y h")
    >>> flow = modified_equation(sp.Matrix([y + h * y**2]), [y], h, order=3)
    >>> flow.vector_field()
    Matrix([[-8*h**3*y**5/3 + 3*h**2*y**4/2 - h*y**3 + y**2]])

    The same from the method's tableau, on rooted trees; the implicit midpoint rule has only even
    powers of h:

    >>> from bea.bseries.rk import EXPLICIT_EULER, IMPLICIT_MIDPOINT
    >>> modified_equation(EXPLICIT_EULER, [y], h, 3, field=[y**2]).vector_field()
    Matrix([[-8*h**3*y**5/3 + 3*h**2*y**4/2 - h*y**3 + y**2]])
    >>> modified_equation(IMPLICIT_MIDPOINT, [y], h, 3, field=[y**2]).vector_field()
    Matrix([[h**2*y**4/4 + y**2]])

    A linear multistep method: leapfrog y_{n+1} − y_{n−1} = 2h f(y_n), f₂ = −(f″(f,f) + f′f′f)/6:

    >>> from bea.bseries.relations import leapfrog
    >>> modified_equation(leapfrog(), [y], h, 3, field=[y**2]).vector_field()
    Matrix([[-h**2*y**4 + y**2]])
    """
    bound = {} if max_order is None else {"maximum": max_order}
    if isinstance(step, Step):
        if state is not None or h is not None or field is not None:
            raise InputError("a step carries its own state and step size: give only the order")
        return derive_step(step, order, max_order=max_order)
    if isinstance(step, RungeKutta | LinearRelation):
        order = check_order(order, **bound)
        state = check_symbols(state if state is not None else (), "state")
        h = check_step_symbol(h)
        if field is None:
            raise InputError(
                f"the {step.name} method needs the vector field: field=[f_1, ..., f_d]"
            )
        if isinstance(field, str) or len(field) != len(state):
            raise InputError(f"the field needs {len(state)} components, one per state variable")
        if isinstance(step, RungeKutta):
            b = tree_modified_equation(step.bseries(order + 1))
        else:  # a linear multistep (or momentum) method: its underlying one-step method
            b = relation_tree_equation(step, order + 1)
        return evaluate(b, field, state, h, order, method=step.name)
    if field is not None:
        raise InputError("field= is only used with a Runge-Kutta or linear multistep method")
    state = check_symbols(state if state is not None else (), "state")
    h = check_step_symbol(h)
    if isinstance(step, str):
        raise InputError("the step map must be a column of expressions, one per state variable")
    if isinstance(step, sp.MatrixBase):
        entries = list(step)
        shape = step.shape
    else:
        try:
            entries = list(step)
        except TypeError:
            raise InputError(
                f"the step map must be a column of expressions, got {type(step).__name__}"
            ) from None
        shape = (len(entries), 1)
    if shape != (len(state), 1):
        raise InputError(
            f"step must be a column of {len(state)} expressions (one per state variable), "
            f"got shape {shape}"
        )
    column = sp.Matrix([as_expression(e, (*state, h), what="step map") for e in entries])
    return taylor_modified_equation(column, state, h, order, max_order=max_order)
