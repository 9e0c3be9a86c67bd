"""Baseline for benchmarks/bench_relation.py: the relation route's recurrence as bea ran it before
it moved into the exact ring (commit d470a2e) — every intermediate a general sympy expression,
expanded after each product, ``factor_terms`` on the result. The checks and the solution at h = 0
are bea's own (:func:`bea.relation.prepare`). Kept only to time against and to cross-check.
"""

from __future__ import annotations

import itertools
import math

import sympy as sp

from bea.flow import ModifiedFlow
from bea.relation import _compositions, prepare


def relation_modified_equation(
    relation, state, shifted, h, order, *, fast=None, method="relation", max_order=None
) -> ModifiedFlow:
    """Same arguments and result as :func:`bea.relation.relation_modified_equation`."""
    prepared = prepare(relation, state, shifted, h, order, fast, max_order)
    order, state, h, shifts, fasts, d, e, R, variables, base, W0, Minv, Ninv = prepared
    W = [W0] if e else []

    derivs: dict[tuple, sp.Expr] = {}

    def D(r: int, idx: tuple) -> sp.Expr:  # ∂R_r/∂z_idx at the base point (Schwarz: sorted idx)
        key = (r, idx)
        if key not in derivs:
            ex = R[r]
            for i in idx:
                ex = sp.diff(ex, variables[i])
            derivs[key] = sp.expand(ex.xreplace(base))
        return derivs[key]

    def lie_table(u_coeffs: list[sp.Expr], Fs: list[sp.Matrix], m: int) -> dict:
        """T[(j, r)] = [h^r] of L_F^j u for u = Σ_k h^k u_k, F = Σ_i h^i F_i (j + r ≤ m).

        Then [h^k] u(φ_{sh}(θ)) = Σ_j s^j/j! T[(j, k − j)]: one table serves every shift and
        every order k, and each gradient is taken once.
        """
        T = {(0, r): (u_coeffs[r] if r < len(u_coeffs) else sp.Integer(0)) for r in range(m + 1)}
        for j in range(1, m + 1):
            grads = {a: [sp.diff(T[(j - 1, a)], x) for x in state] for a in range(m - j + 1)}
            for r in range(m - j + 1):
                acc = sp.Integer(0)
                for a in range(r + 1):
                    if r - a < len(Fs):
                        acc += sum(g * f for g, f in zip(grads[a], Fs[r - a], strict=True))
                T[(j, r)] = sp.expand(acc)
        return T

    def along(T: dict, s: int, k: int) -> sp.Expr:
        """[h^k] of u(φ_{sh}(θ)), k ≥ 1, from u's Lie table."""
        total = sum(
            (sp.Rational(s) ** j / math.factorial(j) * T[(j, k - j)] for j in range(k + 1)),
            sp.Integer(0),
        )
        return sp.expand(total)

    def coefficient(rows: range, m: int, Fs, Ws) -> list[sp.Expr]:
        """[h^m] of the relation rows, with the current F and W (missing ones count as 0)."""
        delta: dict[int, dict[int, sp.Expr]] = {}
        col = 0
        slow = [lie_table([state[i]], Fs, m) for i in range(d)]
        quick = [lie_table([w[i] for w in Ws], Fs, m) for i in range(e)]
        for s in sorted(shifts):
            for i in range(d):
                delta[col] = {k: along(slow[i], s, k) for k in range(1, m + 1)}
                col += 1
        for s in sorted(fasts):
            for i in range(e):
                delta[col] = {k: along(quick[i], s, k) for k in range(1, m + 1)}
                col += 1
        delta[col] = {1: sp.Integer(1)}  # h itself
        out = []
        for r in rows:
            total = sp.Integer(0)
            for n in range(1, m + 1):
                for ks in _compositions(m, n):
                    for vs in itertools.product(range(len(variables)), repeat=n):
                        term = sp.Integer(1)
                        for v, k in zip(vs, ks, strict=True):
                            x = delta[v].get(k, 0)
                            if x == 0:
                                term = 0
                                break
                            term *= x
                        if term == 0:
                            continue
                        dv = D(r, tuple(sorted(vs)))
                        if dv != 0:
                            total += dv * term / math.factorial(n)
            out.append(sp.expand(total))
        return out

    F: list[sp.Matrix] = []
    for m in range(order + 1):
        K = coefficient(range(d), m + 1, F, W)  # F_m absent: K is the rest
        F.append((-Minv * sp.Matrix(K)).applyfunc(lambda ex: sp.factor_terms(sp.expand(ex))))
        if e and m < order:
            Kw = coefficient(range(d, d + e), m + 1, F, W)  # W_{m+1} absent
            W.append((-Ninv * sp.Matrix(Kw)).applyfunc(sp.expand))
    return ModifiedFlow.from_exprs(
        F, state, h, method=method, slow_manifold=tuple(W) if e else None
    )
