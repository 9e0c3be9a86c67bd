"""Each step kind of :mod:`bea.step` compiled for batched iteration, started where its modified
flow is meant to hold.

One rule per kind, registered in one table:

* :class:`~bea.step.StepMap` — the compiled map, iterated as is;
* :class:`~bea.step.ImplicitStep` — batched Newton iterations on the residual, started at θ' = θ;
* :class:`~bea.step.TwoStepMap` — started on the invariant manifold of each truncation order,
  θ₋₁ = φ^{(p)}_{−h}(θ₀) (the transient has died out), then iterated as a two-step recurrence;
* :class:`~bea.step.SlowFastMap` — started on the slow manifold w = Σ h^k W_k(θ) that the
  derivation returns with the flow (``ModifiedFlow.slow_manifold``).

:func:`compile_stepper` returns a function ``run(points, steps, counts, field, n_orders)`` giving
the states after one step and after ``counts`` steps for every (order, step size, point), and the
runs that diverged. A new step kind is one class in :mod:`bea.step` and one rule here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import InputError
from ..flow import ModifiedFlow
from ..step import ImplicitStep, SlowFastMap, Step, StepMap, TwoStepMap
from .compile import compile_expressions, compile_step
from .iterate import iterate, iterate_memory, newton_step
from .reference import integrate_flows

__all__ = ["Runs", "compile_stepper"]


@dataclass(frozen=True)
class Runs:
    """Where a method is after one step and after N steps, for every (order, h, point).

    Attributes
    ----------
    one, many : numpy.ndarray, shape (P, n_h, n_points, d)
        States θ (the fast variables of a slow–fast method are left out); the order axis P
        matters for methods whose start depends on the truncation order.
    diverged : numpy.ndarray of bool, shape (n_h, n_points)
    """

    one: np.ndarray
    many: np.ndarray
    diverged: np.ndarray


Runner = Callable[[np.ndarray, np.ndarray, np.ndarray, Callable, int], Runs]
_RULES: dict[type, Callable[[Step, ModifiedFlow, Mapping | None], Runner]] = {}


def _rule(kind: type):
    def register(compiler):
        _RULES[kind] = compiler
        return compiler

    return register


def compile_stepper(step: Step, flow: ModifiedFlow, values: Mapping | None = None) -> Runner:
    """Compile a step of any kind for batched runs started where its modified flow holds.

    Parameters
    ----------
    step : Step
        The method's step (see :mod:`bea.step`).
    flow : ModifiedFlow
        Its modified flow (for the start of two-step and slow–fast methods).
    values : mapping, optional
        Numeric values of the constants.

    Returns
    -------
    callable
        ``run(points, steps, counts, field, n_orders) -> Runs`` with ``points`` of shape
        (n_points, d), ``steps`` and ``counts`` of shape (n_h,), ``field`` the compiled truncated
        fields of :func:`bea.numeric.compile_flow` for ``n_orders`` orders.

    Examples
    --------
    >>> import numpy as np, sympy as sp, bea
    >>> from bea.optim import GD
    >>> t, h = sp.symbols("t h")
    >>> step = GD().step_map(t**2 / 2, (t,), h)
    >>> run = compile_stepper(step, bea.modified_equation(step, order=0))
    >>> runs = run(np.array([[1.0]]), np.array([0.5]), np.array([2]), None, 1)
    >>> runs.one[0, 0, 0, 0], runs.many[0, 0, 0, 0]
    (np.float64(0.5), np.float64(0.25))
    """
    for kind in type(step).__mro__:
        rule = _RULES.get(kind)
        if rule is not None:
            return rule(step, flow, values)
    raise InputError(f"bea cannot iterate a step of kind {type(step).__name__}")


def _one_step_runs(phi, points, hs, counts, n_orders, d: int) -> Runs:
    shape = (n_orders, hs.size, points.shape[-2], d)
    one = iterate(phi, points, hs, 1)
    many = iterate(phi, points, hs, counts)
    return Runs(
        np.broadcast_to(one.states[..., :d], shape),
        np.broadcast_to(many.states[..., :d], shape),
        many.diverged,
    )


@_rule(StepMap)
def _explicit(step: StepMap, flow, values) -> Runner:
    phi = compile_step(step, values)
    d = len(step.state)

    def run(points, hs, counts, field, n_orders):
        return _one_step_runs(phi, points, hs, counts, n_orders, d)

    return run


@_rule(ImplicitStep)
def _implicit(step: ImplicitStep, flow, values) -> Runner:
    state, new = step.state, step.new
    d = len(state)
    G = compile_expressions(list(step.residual), state + new, step.h, values)
    jac = [sp.diff(g, v) for g in step.residual for v in new]
    J = compile_expressions(jac, state + new, step.h, values)
    # start Newton at θ' = θ: the first Newton step is the linearly implicit step
    phi = newton_step(G, lambda Z, h: J(Z, h).reshape(*Z.shape[:-1], d, d), lambda Y, h: Y)

    def run(points, hs, counts, field, n_orders):
        return _one_step_runs(phi, points, hs, counts, n_orders, d)

    return run


@_rule(TwoStepMap)
def _two_step(step: TwoStepMap, flow, values) -> Runner:
    raw = compile_expressions(list(step.step), step.state + step.prev, step.h, values)

    def psi(Y, Yp, H):
        return raw(np.concatenate([Y, Yp], axis=-1), H)

    def run(points, hs, counts, field, n_orders):
        # on the invariant manifold of each order: θ₋₁ = φ^{(p)}_{−h}(θ₀)
        shape = (n_orders, hs.size, *points.shape)
        start = np.broadcast_to(points, shape)
        back = integrate_flows(lambda Y, H: -field(Y, H), points, hs, n_orders).states
        one, _ = iterate_memory(psi, start, back, hs, np.ones_like(counts))
        many, bad = iterate_memory(psi, start, back, hs, counts)
        return Runs(one, many, bad.any(axis=0))

    return run


@_rule(SlowFastMap)
def _slow_fast(step: SlowFastMap, flow, values) -> Runner:
    if not flow.slow_manifold:
        raise InputError("a slow-fast method needs the slow manifold from its derivation")
    d = len(step.state)
    phi = compile_expressions(list(step.step), step.state + step.fast, step.h, values)
    h = step.h
    manifold = sum(
        (h**k * W for k, W in enumerate(flow.slow_manifold)), sp.zeros(len(step.fast), 1)
    )
    init = compile_expressions(list(manifold), step.state, h, values)

    def run(points, hs, counts, field, n_orders):
        P = np.broadcast_to(points, (hs.size, *points.shape))
        start = np.concatenate([P, init(P, hs[:, None])], axis=-1)
        return _one_step_runs(phi, start, hs, counts, n_orders, d)

    return run
