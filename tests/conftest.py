"""Shared helpers for bea's tests: independent (naive) re-derivations used as oracles."""

from __future__ import annotations

import math

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring


def gradient(expr, params):
    return sp.Matrix([sp.diff(expr, p) for p in params])


def jac(vec, state):
    return sp.Matrix(vec).jacobian(list(state))


def second_derivative(f, state, u, v):
    """f''(u, v) for a vector field f: sum_{i,j} d2 f / dy_i dy_j u_i v_j, computed directly."""
    n = len(state)
    return sp.Matrix(
        [
            sum(sp.diff(fc, state[i], state[j]) * u[i] * v[j] for i in range(n) for j in range(n))
            for fc in f
        ]
    )


def truncate(expr, h, degree):
    """Drop the powers of h above ``degree`` from an expression polynomial in h."""
    poly = sp.Poly(sp.expand(expr), h)
    return sum((c * h**m for (m,), c in poly.terms() if m <= degree), sp.Integer(0))


def naive_flow_expansion(field, state, h, degree):
    """Taylor expansion in h of the exact time-h flow of ``field`` (a Matrix polynomial in h),
    by the plain Lie series y + sum_k h^k/k! Y_k, Y_{k+1} = Y_k' F, truncated at h**degree.
    Written independently of bea's engine, as an oracle (fields polynomial in the state and h
    run in a plain polynomial ring, others in sympy expressions)."""
    gens = (*state, h)
    if all(sp.sympify(e).is_polynomial(*gens) for e in field):
        return _naive_flow_expansion_poly(field, state, h, degree)
    field = field.applyfunc(lambda e: truncate(e, h, degree))
    result = sp.Matrix(state)
    Y = field
    for k in range(1, degree + 1):
        result += (h**k / math.factorial(k)) * Y
        keep = degree - k
        Y = (jac(Y, state) * field).applyfunc(lambda e, keep=keep: truncate(e, h, keep))
    return result.applyfunc(lambda e: truncate(e, h, degree))


def _naive_flow_expansion_poly(field, state, h, degree):
    others = sorted(
        set().union(*(sp.sympify(e).free_symbols for e in field)) - {*state, h}, key=str
    )
    R, *gens = ring([*state, h, *others], QQ)
    X, H = gens[: len(state)], gens[len(state)]
    k_h = len(state)

    def cut(p):
        return R({m: c for m, c in p.terms() if m[k_h] <= degree})

    F = [cut(R(sp.expand(e))) for e in field]
    result = list(X)
    Y = list(F)
    for k in range(1, degree + 1):
        result = [r + H**k * y * QQ(1, math.factorial(k)) for r, y in zip(result, Y, strict=True)]
        Y = [cut(sum((y.diff(x) * f for x, f in zip(X, F, strict=True)), R.zero)) for y in Y]
        Y = [R({m: c for m, c in y.terms() if m[k_h] <= degree - k - 1}) for y in Y]
    return sp.Matrix([cut(r).as_expr() for r in result])
