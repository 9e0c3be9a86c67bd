"""Turn sympy expressions into vectorized NumPy callables on batches of states.

Every compiled function takes a state array ``Y`` of shape ``(..., d)`` (the last axis holds the
state variables) and, where it depends on the step size, an array ``h`` that broadcasts against
``Y[..., 0]``; it returns an array of shape ``(..., k)``. Code is generated once by
:func:`sympy.lambdify` with common-subexpression elimination; there is no Python loop over points
or step sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from .. import codegen
from ..errors import InputError
from ..flow import ModifiedFlow
from ..parsing import as_expression, numeric_values
from ..step import StepMap

__all__ = ["compile_expressions", "compile_flow", "compile_loss", "compile_step"]

Array = np.ndarray


def _substitute(exprs: Sequence[sp.Expr], values: Mapping | None, allowed: set) -> list[sp.Expr]:
    by_name = {s.name: s for e in exprs for s in sp.sympify(e, strict=True).free_symbols}
    given = numeric_values(values, allowed)
    sub = {by_name.get(k.name, k): v for k, v in given.items()}
    out = [sp.sympify(e, strict=True).xreplace(sub) for e in exprs]
    unknown = set().union(*(e.free_symbols for e in out)) - allowed
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise InputError(f"give numeric values for the constant(s) {names} (values={{...}})")
    return out


def _split_integrals(exprs: list[sp.Expr], args: list) -> tuple[list, list[sp.Expr]]:
    """Each ``Integral(g, (t, a, b))`` (a potential's ray integral) replaced by a placeholder,
    paired with a batched Gauss–Legendre evaluation of it (the export's quadrature,
    :data:`bea.codegen.QUADRATURE_NODES` nodes on a leading axis)."""
    found = sorted({i for e in exprs for i in e.atoms(sp.Integral)}, key=sp.default_sort_key)
    if not found:
        return [], exprs
    x, w = np.polynomial.legendre.leggauss(codegen.QUADRATURE_NODES)
    pairs = []
    for k, integral in enumerate(found):
        var, lo, hi = codegen.integral_limits(integral)
        lo, half = float(lo), float((hi - lo) / 2)
        g = sp.lambdify([var, *args], integral.function, modules="numpy", cse=True)

        def quad(*vals, g=g, lo=lo, half=half):
            shape = np.broadcast_shapes(*(np.shape(v) for v in vals))
            t = lo + half * (1 + x.reshape((-1,) + (1,) * len(shape)))
            values = np.broadcast_to(g(t, *vals), (len(x), *shape))
            return half * np.tensordot(w, values, axes=1)

        pairs.append((sp.Dummy(f"integral{k}"), quad))
    slots = {i: s for i, (s, _) in zip(found, pairs, strict=True)}
    return pairs, [e.xreplace(slots) for e in exprs]


def _horner(expr: sp.Expr, state: tuple) -> sp.Expr:
    """Polynomials in the state are evaluated in Horner form (fewer multiplications and powers)."""
    if expr.is_polynomial(*state) and len(expr.free_symbols) > 0:
        return sp.horner(sp.expand(expr), *[s for s in state if expr.has(s)] or state)
    return expr


def compile_expressions(
    exprs: Sequence[sp.Expr],
    state: Sequence[sp.Symbol],
    h: sp.Symbol | None = None,
    values: Mapping | None = None,
) -> Callable[..., Array]:
    """Compile a list of expressions into one batched NumPy function.

    Parameters
    ----------
    exprs : sequence of sympy expressions
        The k outputs.
    state : sequence of sympy Symbol
        The d state variables (read from the last axis of the input).
    h : sympy Symbol, optional
        A step-size symbol; the compiled function then takes ``(Y, h)``.
    values : mapping, optional
        Numeric values of the other symbols (data, hyper-parameters).

    Returns
    -------
    callable
        ``F(Y)`` or ``F(Y, h)`` returning shape ``(..., k)``.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> a, b, x = sp.symbols("a b x")
    >>> F = compile_expressions([a * b * x, a + b], [a, b], values={"x": 2})
    >>> F(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[ 4.,  3.],
           [24.,  7.]])
    """
    state = tuple(state)
    allowed = set(state) | ({h} if h is not None else set())
    exprs = [as_expression(e, allowed, what="expression", check=False) for e in exprs]
    exprs = [_horner(e, state) for e in _substitute(exprs, values, allowed)]
    args = list(state) + ([h] if h is not None else [])
    integrals, exprs = _split_integrals(exprs, args)
    raw = sp.lambdify(args + [s for s, _ in integrals], exprs, modules="numpy", cse=True)
    d = len(state)

    def evaluate(Y: Array, *hs: Array) -> Array:
        Y = np.asarray(Y, dtype=float)
        if Y.shape[-1] != d:
            raise InputError(f"states must have {d} components on the last axis, got {Y.shape}")
        cols = [Y[..., i] for i in range(d)]
        extra = [np.asarray(v, dtype=float) for v in hs]
        shape = np.broadcast_shapes(Y.shape[:-1], *(e.shape for e in extra))
        try:
            ints = [quad(*cols, *extra) for _, quad in integrals]
            outs = raw(*cols, *extra, *ints)
        except OverflowError:
            raise InputError("a constant or value is too large for float64 arithmetic") from None
        return np.stack([np.broadcast_to(np.asarray(o, dtype=float), shape) for o in outs], axis=-1)

    if h is None:
        return lambda Y: evaluate(Y)
    return lambda Y, hv: evaluate(Y, hv)


def compile_flow(
    flow: ModifiedFlow, values: Mapping | None = None, orders: Sequence[int] | None = None
) -> Callable[[Array, Array], Array]:
    """Compile the truncated modified fields of a flow, for several truncation orders at once.

    Parameters
    ----------
    flow : ModifiedFlow
        The derived flow.
    values : mapping, optional
        Numeric values of its constants.
    orders : sequence of int, optional
        Truncation orders p (default ``0..flow.order``).

    Returns
    -------
    callable
        ``F(Y, h)`` with ``Y`` of shape ``(P, ..., d)`` — one slice per order in ``orders`` — and
        ``h`` broadcasting against ``Y[0, ..., 0]``; returns Σ_{j ≤ p} h^j f_j(Y[p]) for each slice.

    Examples
    --------
    >>> import numpy as np, sympy as sp, bea
    >>> t = sp.Symbol("t")
    >>> F = compile_flow(bea.modified_flow(t**2 / 2, [t], order=1))
    >>> F(np.ones((2, 1, 1)), np.array([0.1]))[:, 0, 0]   # -t and -t - h t / 2
    array([-1.  , -1.05])
    """
    orders = tuple(range(flow.order + 1)) if orders is None else tuple(orders)
    if not orders or min(orders) < 0 or max(orders) > flow.order:
        raise InputError(f"orders must lie in 0..{flow.order}, got {orders}")
    d = len(flow.state)
    # one function per order, evaluating just the terms f_0..f_p that order needs
    per_order = {
        p: compile_expressions(
            [e for j in range(p + 1) for e in flow.terms[j]], flow.state, values=values
        )
        for p in set(orders)
    }

    def field(Y: Array, h: Array) -> Array:
        Y = np.asarray(Y, dtype=float)
        if Y.shape[0] != len(orders):
            raise InputError(f"expected {len(orders)} order slices on axis 0, got {Y.shape[0]}")
        h = np.asarray(h, dtype=float)[..., None]
        out = np.empty_like(Y)
        for slot, p in enumerate(orders):  # a handful of orders, not points: Horner in h
            T = per_order[p](Y[slot])
            acc = T[..., p * d : (p + 1) * d]
            for j in range(p - 1, -1, -1):
                acc = T[..., j * d : (j + 1) * d] + h * acc
            out[slot] = acc
        return out

    return field


def compile_loss(
    loss: sp.Expr, params: Sequence[sp.Symbol], values: Mapping | None = None
) -> tuple[Callable[[Array], Array], Callable[[Array], Array], Callable[[Array], Array]]:
    """Compile a loss, its gradient and its Hessian for batches of parameter vectors.

    Returns
    -------
    (E, grad, hess)
        ``E(Y)`` has shape ``(...)``, ``grad(Y)`` shape ``(..., m)``, ``hess(Y)`` shape
        ``(..., m, m)``.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> E, g, H = compile_loss(a**2 * b, [a, b])
    >>> E(np.array([1.0, 2.0])), g(np.array([1.0, 2.0])), H(np.array([1.0, 2.0]))[0]
    (array(2.), array([4., 1.]), array([4., 2.]))
    """
    params = tuple(params)
    loss = as_expression(loss, params, what="loss", check=False)
    m = len(params)
    grad = [sp.diff(loss, p) for p in params]
    hess = [sp.diff(g, p) for g in grad for p in params]
    E = compile_expressions([loss], params, values=values)
    G = compile_expressions(grad, params, values=values)
    Hf = compile_expressions(hess, params, values=values)
    return (
        lambda Y: E(Y)[..., 0],
        G,
        lambda Y: Hf(Y).reshape(*np.shape(Y)[:-1], m, m),
    )


def compile_step(step: StepMap, values: Mapping | None = None) -> Callable[[Array, Array], Array]:
    """Compile a one-step map Φ_h for batches of states and step sizes.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> from bea.optim import GD
    >>> t, h = sp.symbols("t h")
    >>> phi = compile_step(GD().step_map(t**2 / 2, (t,), h))
    >>> phi(np.array([[1.0], [2.0]]), np.array([0.1, 0.5]))
    array([[0.9],
           [1. ]])
    """
    return compile_expressions(list(step.step), step.state, step.h, values)
