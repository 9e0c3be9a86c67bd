"""Shared helpers for bea's tests: independent (naive) re-derivations used as oracles."""

from __future__ import annotations

import math

import sympy as sp


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
    Written independently of bea's engine, as an oracle."""
    field = field.applyfunc(lambda e: truncate(e, h, degree))
    result = sp.Matrix(state)
    Y = field
    for k in range(1, degree + 1):
        result += (h**k / math.factorial(k)) * Y
        keep = degree - k
        Y = (jac(Y, state) * field).applyfunc(lambda e, keep=keep: truncate(e, h, keep))
    return result.applyfunc(lambda e: truncate(e, h, degree))
