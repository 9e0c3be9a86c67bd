"""The relation route: modified equations of methods defined by an equation between iterates.

Implicit methods (θ_{n+1} = θ_n − h∇E(θ_{n+1})) and methods with memory (heavy ball:
θ_{n+1} = θ_n − h∇E(θ_n) + β(θ_n − θ_{n−1})) are not explicit one-step maps. After the transient,
their iterates lie on the flow of a modified field F = F₀ + hF₁ + …: θ_{n+s} = φ_{sh}(θ_n) for
every shift s (Kovachki & Stuart 2021 call this the invariant-manifold, or memoryless, view).
Writing every iterate through the Lie series

    φ_{sh}(θ) = θ + Σ_{k≥1} h^k c_k(s),   c_k(s) = Σ_{j=1}^{k} s^j/j! C[j][k−j],

(C[j][m] is the coefficient of h^m in L_F^j θ), and expanding the method's relation
R(θ_{n+s}, …, h) = 0 in powers of h, the coefficient of h^m is linear in F_{m−1}:

    M F_{m−1} + K_m = 0,   M = Σ_s s ∂R/∂θ_{n+s} at θ_{n+s} = θ, h = 0,

with K_m involving F₀ … F_{m−2} only. So F is solved order by order, exactly (sympy), and returned
as a :class:`~bea.flow.ModifiedFlow`. Time is counted in steps of size h: one iteration advances
t by h.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import sympy as sp

from .diffring import DiffRing
from .errors import InputError
from .flow import ModifiedFlow
from .series import _check_order, _check_symbols

__all__ = ["relation_modified_equation"]


def _compositions(m: int, parts: int):
    """Ordered tuples of ``parts`` positive integers summing to m."""
    if parts == 1:
        yield (m,)
        return
    for first in range(1, m - parts + 2):
        for rest in _compositions(m - first, parts - 1):
            yield (first, *rest)


def relation_modified_equation(
    relation: Sequence[sp.Expr],
    state: Sequence[sp.Symbol],
    shifted: Mapping[int, Sequence[sp.Symbol]],
    h: sp.Symbol,
    order: int,
    *,
    method: str = "relation",
) -> ModifiedFlow:
    """Modified field of a method given by a relation between iterates (see the module docstring).

    Parameters
    ----------
    relation : sequence of sympy expressions
        R = 0, one component per state variable, in ``state`` (θ_n), the shifted iterates and h.
    state : sequence of sympy Symbol
        θ_n.
    shifted : mapping int → sequence of sympy Symbol
        For each shift s ≠ 0 (1 for θ_{n+1}, −1 for θ_{n−1}, …) the symbols standing for θ_{n+s}.
    h : sympy Symbol
        The step size.
    order : int
        Highest power of h kept.
    method : str
        Name recorded in the result.

    Returns
    -------
    ModifiedFlow

    Examples
    --------
    The proximal point method θ' = θ − h∇E(θ') on E = θ²/2 (implicit Euler; f₁ = +½ f′f):

    >>> t, t1, h = sp.symbols("t t1 h")
    >>> flow = relation_modified_equation([t1 - t + h * t1], [t], {1: [t1]}, h, 2)
    >>> flow.vector_field()
    Matrix([[-h**2*t/3 + h*t/2 - t]])
    """
    order = _check_order(order)
    state = _check_symbols(state, "state")
    d = len(state)
    R = [sp.sympify(r) for r in relation]
    if len(R) != d:
        raise InputError(f"the relation needs {d} components (one per state variable)")
    shifts = {}
    for s, syms in shifted.items():
        syms = _check_symbols(syms, f"shift {s}")
        if s == 0 or len(syms) != d:
            raise InputError(f"shift {s} must be non-zero with {d} symbols")
        shifts[int(s)] = syms
    variables = [v for s in sorted(shifts) for v in shifts[s]] + [h]
    if len(set(variables) | set(state)) != len(variables) + d:
        raise InputError("the shifted iterates, the state and h must be different symbols")
    base = {v: state[i] for s in shifts for i, v in enumerate(shifts[s])}
    base[h] = sp.Integer(0)
    if any(sp.simplify(r.xreplace(base)) != 0 for r in R):
        raise InputError("the relation must hold at h = 0 with every iterate equal to θ_n")
    M = sp.Matrix(
        d,
        d,
        lambda r, c: sum(s * sp.diff(R[r], shifts[s][c]) for s in shifts).xreplace(base),
    )
    M = M.applyfunc(sp.simplify)
    if M.det() == 0:
        raise InputError("the relation does not determine the modified field (M is singular)")
    Minv = M.inv()

    derivs: dict[tuple, sp.Expr] = {}

    def D(r: int, idx: tuple) -> sp.Expr:  # ∂R_r/∂z_idx at the base point (Schwarz: sorted idx)
        key = (r, idx)
        if key not in derivs:
            e = R[r]
            for i in idx:
                e = sp.diff(e, variables[i])
            derivs[key] = sp.expand(e.xreplace(base))
        return derivs[key]

    F: list[sp.Matrix] = []
    C: dict[tuple[int, int], sp.Matrix] = {}
    X = sp.Matrix(state)
    for m in range(1, order + 2):
        trial = [*F, sp.zeros(d, 1)]  # F_{m-1} = 0: K_m is the rest
        # Lie-series coefficients C[j][k] of L_F^j θ for j + k <= m (C[1][k] = F_k)
        for k in range(m):
            C[(1, k)] = trial[k]
        for j in range(2, m + 1):
            for k in range(0, m - j + 1):
                acc = sp.zeros(d, 1)
                for a in range(k + 1):
                    acc += C[(j - 1, a)].jacobian(X) * trial[k - a]
                C[(j, k)] = acc.applyfunc(sp.expand)
        # displacement of each variable: δ_{v, k} for k = 1..m
        delta: dict[int, dict[int, sp.Expr]] = {}
        col = 0
        for s in sorted(shifts):
            for i in range(d):
                delta[col] = {
                    k: sp.expand(
                        sum(
                            (
                                sp.Rational(s) ** j / math.factorial(j) * C[(j, k - j)][i]
                                for j in range(1, k + 1)
                            ),
                            sp.Integer(0),
                        )
                    )
                    for k in range(1, m + 1)
                }
                col += 1
        delta[col] = {1: sp.Integer(1)}  # h itself
        K = []
        for r in range(d):
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
            K.append(sp.expand(total))
        F.append((-Minv * sp.Matrix(K)).applyfunc(lambda e: sp.factor_terms(sp.expand(e))))
    F = F[: order + 1]
    exprs = _common_denominator(F, state)
    ring = DiffRing([e for f in exprs for e in f], state)
    ring_terms = [[ring.to_ring(e) for e in f] for f in exprs]
    return ModifiedFlow._from_ring(ring, ring_terms, state=state, h=h, method=method)


def _common_denominator(F, state) -> list[list[sp.Expr]]:
    """Write every component as N/D with one denominator D free of the state (e.g. a power of
    1 − β), so that the ring holds the single constant atom 1/D and stays canonical."""
    parts = []
    for f in F:
        row = []
        for e in f:
            num, den = sp.fraction(sp.cancel(sp.together(sp.expand(e))))
            if den.free_symbols & set(state):
                raise InputError(f"a modified-field term has a state-dependent denominator: {den}")
            row.append((num, den))
        parts.append(row)
    D = sp.Integer(1)
    for row in parts:
        for _, den in row:
            D = sp.lcm(D, den)
    out = []
    for row in parts:
        cells = []
        for num, den in row:
            N = sp.expand(num * sp.cancel(D / den))
            cells.append(N if D == 1 else sp.Mul(N, sp.Pow(D, -1), evaluate=False))
        out.append(cells)
    return out
