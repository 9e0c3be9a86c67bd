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
from typing import NamedTuple

import sympy as sp
from sympy.polys.domains import QQ

from ._checks import check_order, check_step_symbol, check_symbols
from ._progress import progress
from .diffring import DiffRing
from .errors import InputError
from .flow import ModifiedFlow
from .parsing import as_expression

__all__ = ["relation_modified_equation"]


def _compositions(m: int, parts: int):
    """Ordered tuples of ``parts`` positive integers summing to m."""
    if parts == 1:
        yield (m,)
        return
    for first in range(1, m - parts + 2):
        for rest in _compositions(m - first, parts - 1):
            yield (first, *rest)


class Prepared(NamedTuple):
    """A relation checked and solved at h = 0 (what both the ring recurrence and the benchmark's
    sympy baseline start from)."""

    order: int
    state: tuple
    h: sp.Symbol
    shifts: dict
    fasts: dict
    d: int
    e: int
    R: list
    variables: list
    base: dict
    W0: sp.Matrix | None
    Minv: sp.Matrix
    Ninv: sp.Matrix | None


def prepare(relation, state, shifted, h, order, fast=None, max_order=None) -> Prepared:
    """Check the arguments of :func:`relation_modified_equation`, find W₀ and the base point, and
    invert M (and N for fast variables).

    Examples
    --------
    >>> t, t1, h = sp.symbols("t t1 h")
    >>> prepare([t1 - t + h * t1], [t], {1: [t1]}, h, 2).Minv   # M = Σ_s s ∂R/∂θ_{n+s}
    Matrix([[1]])
    """
    order = check_order(order, **({} if max_order is None else {"maximum": max_order}))
    state = check_symbols(state, "state")
    h = check_step_symbol(h)
    d = len(state)
    fast = {} if fast is None else fast
    if isinstance(relation, str | sp.Basic):
        raise InputError("the relation must be a sequence of expressions, one per component")
    R = [as_expression(r, what="relation") for r in relation]
    shifts = {}
    for s, syms in shifted.items():
        syms = check_symbols(syms, f"shift {s}")
        if s == 0 or len(syms) != d:
            raise InputError(f"shift {s} must be non-zero with {d} symbols")
        shifts[int(s)] = syms
    fasts = {int(s): check_symbols(syms, f"fast shift {s}") for s, syms in fast.items()}
    e = len(next(iter(fasts.values()))) if fasts else 0
    if any(len(v) != e for v in fasts.values()):
        raise InputError("every fast shift needs the same number of symbols")
    if len(R) != d + e:
        raise InputError(f"the relation needs {d + e} components (state, then fast variables)")
    slow_vars = [v for s in sorted(shifts) for v in shifts[s]]
    fast_vars = [v for s in sorted(fasts) for v in fasts[s]]
    variables = slow_vars + fast_vars + [h]
    if len(set(variables) | set(state)) != len(variables) + d:
        raise InputError("the shifted iterates, the state and h must be different symbols")
    # W₀ from the fast relations at h = 0, every iterate equal to θ
    base = {v: state[i] for s in shifts for i, v in enumerate(shifts[s])}
    base[h] = sp.Integer(0)
    W: list[sp.Matrix] = []
    if e:
        w0 = sp.symbols(f"w0_0:{e}", cls=sp.Dummy)
        at0 = {**base, **{v: w0[i] for s in fasts for i, v in enumerate(fasts[s])}}
        sols = sp.solve([r.xreplace(at0) for r in R[d:]], w0, dict=True)
        if len(sols) != 1:
            raise InputError("the fast relations must fix the fast variables at h = 0 uniquely")
        W.append(sp.Matrix([sp.simplify(sols[0][w]) for w in w0]))
        for s in fasts:
            for i, v in enumerate(fasts[s]):
                base[v] = W[0][i]
    if any(sp.simplify(r.xreplace(base)) != 0 for r in R[:d]):
        raise InputError("the relation must hold at h = 0 with every iterate equal to θ_n")
    M = sp.Matrix(
        d, d, lambda r, c: sum(s * sp.diff(R[r], shifts[s][c]) for s in shifts).xreplace(base)
    ).applyfunc(sp.simplify)
    if M.det() == 0:
        raise InputError("the relation does not determine the modified field (M is singular)")
    Minv = M.inv()
    if e:
        if any(
            sp.simplify(sp.diff(R[r], v).xreplace(base)) != 0 for r in range(d) for v in fast_vars
        ):
            raise InputError("the state relation may use the fast variables only with a factor h")
        N = sp.Matrix(
            e, e, lambda r, c: sum(sp.diff(R[d + r], fasts[s][c]) for s in fasts).xreplace(base)
        ).applyfunc(sp.simplify)
        if N.det() == 0:
            raise InputError("the fast relations do not determine the fast variables")
        Ninv = N.inv()
    return Prepared(
        order,
        state,
        h,
        shifts,
        fasts,
        d,
        e,
        R,
        variables,
        base,
        W[0] if e else None,
        Minv,
        Ninv if e else None,
    )


def relation_modified_equation(
    relation: Sequence[sp.Expr],
    state: Sequence[sp.Symbol],
    shifted: Mapping[int, Sequence[sp.Symbol]],
    h: sp.Symbol,
    order: int,
    *,
    fast: Mapping[int, Sequence[sp.Symbol]] | None = None,
    method: str = "relation",
    max_order: int | None = None,
) -> ModifiedFlow:
    """Modified field of a method given by a relation between iterates (see the module docstring).

    Parameters
    ----------
    relation : sequence of sympy expressions
        R = 0: first one component per state variable, then (with ``fast``) one per fast
        variable; in ``state`` (θ_n), the shifted iterates, the fast variables and h.
    state : sequence of sympy Symbol
        θ_n.
    shifted : mapping int → sequence of sympy Symbol
        For each shift s ≠ 0 (1 for θ_{n+1}, −1 for θ_{n−1}, …) the symbols standing for θ_{n+s}.
    h : sympy Symbol
        The step size.
    order : int
        Highest power of h kept.
    fast : mapping int → sequence of sympy Symbol, optional
        Fast variables w (moment estimates): for each shift s (0 included) the symbols of w_{n+s}.
        They are slaved to the slow ones, w_n = W₀(θ_n) + h W₁(θ_n) + …, and solved with them.
    method : str
        Name recorded in the result.
    max_order : int, optional
        Raise the bound on ``order`` (default :data:`bea._checks.MAX_ORDER`).

    Returns
    -------
    ModifiedFlow
        With fast variables, its ``slow_manifold`` holds W₀, …, W_order (sympy columns): the
        fast variables' expansion w = Σ h^k W_k(θ) after the transient.

    Examples
    --------
    The proximal point method θ' = θ − h∇E(θ') on E = θ²/2 (implicit Euler; f₁ = +½ f′f):

    >>> t, t1, h = sp.symbols("t t1 h")
    >>> flow = relation_modified_equation([t1 - t + h * t1], [t], {1: [t1]}, h, 2)
    >>> flow.vector_field()
    Matrix([[-h**2*t/3 + h*t/2 - t]])

    RMSProp on E = t²/2 with ε inside the root: the moment v is slaved, v = t² + O(h):

    >>> v0, v1, rho, eps = sp.symbols("v0 v1 rho epsilon", positive=True)
    >>> rel = [t1 - t + h * t / sp.sqrt(v1 + eps), v1 - rho * v0 - (1 - rho) * t**2]
    >>> flow = relation_modified_equation(rel, [t], {1: [t1]}, h, 0, fast={0: [v0], 1: [v1]})
    >>> flow.terms[0]
    Matrix([[-t/sqrt(epsilon + t**2)]])
    """
    prepared = prepare(relation, state, shifted, h, order, fast, max_order)
    order, state, h, shifts, fasts, d, e, R, variables, base, W0, Minv, Ninv = prepared

    # From here on every quantity is a function of θ_n alone, computed exactly in a DiffRing:
    # Z differentiates the relation along the iterates and h; Θ holds the functions of θ_n, and
    # the base point (every iterate θ_n, w = W₀(θ_n), h = 0) maps Z into Θ.
    Z = DiffRing(R, variables)
    images_of = [sp.expand(g.xreplace(base)) for g in Z.generators]
    extra = [*Minv, *Ninv, *W0] if e else [*Minv]
    ring = DiffRing([*images_of, *extra, *state], state)
    zero = ring.ring.zero
    images = [ring.to_ring(x) for x in images_of]
    Rz = [Z.to_ring(r) for r in R]
    nv = len(variables)
    derivs: dict[tuple, object] = {}
    at_base: dict[tuple, object] = {}

    def Dz(r: int, idx: tuple):  # ∂R_r/∂z_idx in Z (Schwarz: sorted idx, prefixes reused)
        key = (r, idx)
        if key not in derivs:
            derivs[key] = Rz[r] if not idx else Z.diff(Dz(r, idx[:-1]), idx[-1])
        return derivs[key]

    def D(r: int, idx: tuple):  # the same at the base point, in Θ
        key = (r, idx)
        if key not in at_base:
            at_base[key] = DiffRing.substitute(Dz(r, idx), images, zero)
        return at_base[key]

    def lie_table(u_coeffs: list, Fs: list, m: int) -> dict:
        """T[(j, r)] = [h^r] of L_F^j u for u = Σ_k h^k u_k, F = Σ_i h^i F_i (j + r ≤ m).

        Then [h^k] u(φ_{sh}(θ)) = Σ_j s^j/j! T[(j, k − j)]: one table serves every shift and
        every order k, and each gradient is taken once.
        """
        T = {(0, r): (u_coeffs[r] if r < len(u_coeffs) else zero) for r in range(m + 1)}
        for j in range(1, m + 1):
            grads = {a: [ring.diff(T[(j - 1, a)], x) for x in range(d)] for a in range(m - j + 1)}
            for r in range(m - j + 1):
                acc = zero
                for a in range(r + 1):
                    if r - a < len(Fs):
                        for g, f in zip(grads[a], Fs[r - a], strict=True):
                            if g and f:
                                acc += g * f
                T[(j, r)] = acc
        return T

    def along(T: dict, s: int, k: int):
        """[h^k] of u(φ_{sh}(θ)), k ≥ 1, from u's Lie table."""
        total = zero
        for j in range(k + 1):
            if T[(j, k - j)]:
                total += T[(j, k - j)] * QQ(s**j, math.factorial(j))
        return total

    def coefficient(rows: range, m: int, Fs, Ws) -> list:
        """[h^m] of the relation rows, with the current F and W (missing ones count as 0)."""
        delta: dict[int, dict[int, object]] = {}
        col = 0
        slow = [lie_table([ring.ring.gens[i]], Fs, m) for i in range(d)]
        quick = [lie_table([w[i] for w in Ws], Fs, m) for i in range(e)]
        for s in sorted(shifts):
            for i in range(d):
                delta[col] = {k: along(slow[i], s, k) for k in range(1, m + 1)}
                col += 1
        for s in sorted(fasts):
            for i in range(e):
                delta[col] = {k: along(quick[i], s, k) for k in range(1, m + 1)}
                col += 1
        delta[col] = {1: ring.ring.one}  # h itself
        out = []
        for r in rows:
            total = zero
            for n in range(1, m + 1):
                for ks in _compositions(m, n):
                    for vs in itertools.product(range(nv), repeat=n):
                        term = ring.ring.one
                        for v, k in zip(vs, ks, strict=True):
                            x = delta[v].get(k)
                            if not x:
                                term = None
                                break
                            term *= x
                        if term is None:
                            continue
                        dv = D(r, tuple(sorted(vs)))
                        if dv:
                            total += dv * term * QQ(1, math.factorial(n))
            out.append(total)
        return out

    def in_ring(matrix: sp.Matrix) -> list[list]:
        return [
            [ring.to_ring(matrix[i, j]) for j in range(matrix.cols)] for i in range(matrix.rows)
        ]

    def solve(inverse: list[list], rhs: list) -> list:
        """−inverse · rhs in Θ."""
        return [
            -sum((c * x for c, x in zip(row, rhs, strict=True) if c and x), zero) for row in inverse
        ]

    Minv_r = in_ring(Minv)  # converted once, used at every order
    Ninv_r = in_ring(Ninv) if e else None

    Wr = [[ring.to_ring(x) for x in W0]] if e else []
    F: list[list] = []
    for m in progress(range(order + 1), "modified flow, order", total=order + 1):
        F.append(solve(Minv_r, coefficient(range(d), m + 1, F, Wr)))  # F_m absent: K is the rest
        if e and m < order:
            Wr.append(solve(Ninv_r, coefficient(range(d, d + e), m + 1, F, Wr)))  # W_{m+1} absent
    manifold = tuple(sp.Matrix([ring.to_sympy(x) for x in w]) for w in Wr) if e else None
    if ring.depends_on_atoms:  # state-dependent atoms (adaptive methods): the ring's own form
        return ModifiedFlow.from_ring(
            ring, F, state=state, h=h, method=method, slow_manifold=manifold
        )
    # polynomials in θ whose coefficients may hold 1/(1 − β), 1/(1 + β), …: over one common
    # denominator, where (1 − β)·1/(1 − β) = 1 is applied (a ring in 1/(1 − β) does not know it)
    terms = [[ring.to_sympy(x) for x in f] for f in F]
    return ModifiedFlow.from_exprs(terms, state, h, method=method, slow_manifold=manifold)
