"""The Taylor route: the modified equation of an explicit one-step map, by matching Lie series.

Let Φ_h(y) = y + h d₁(y) + h² d₂(y) + … be a one-step map and f̃ = f₀ + h f₁ + h² f₂ + … the
unknown modified field. The exact time-h flow of f̃ is the Lie series

    φ_h(y) = y + Σ_{k≥1} (h^k / k!) Y_k,   Y₁ = f̃,   Y_{k+1} = Y_k′ f̃,

(Hairer, Lubich & Wanner, *Geometric Numerical Integration*, 2nd ed., IX.1). Write c[k][m] for the
coefficient of h^m in Y_k; then c[1][m] = f_m and c[k+1][m] = Σ_{i+j=m} c[k][i]′ f_j. Matching the
coefficient of h^n in φ_h = Φ_h gives

    f_{n-1} = d_n − Σ_{k=2}^{n} c[k][n−k] / k!,

whose right-hand side only involves f₀ … f_{n−2}. Each f_j is derived once, each Jacobian of a
c[k][m] is computed once and reused, and all arithmetic is exact in a :class:`~bea.diffring.DiffRing`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import PolyElement

from ._checks import check_order, check_step_symbol, check_symbols
from ._progress import progress
from .diffring import DiffRing
from .errors import InputError
from .flow import ModifiedFlow
from .parsing import as_matrix

__all__ = ["step_coefficients", "taylor_modified_equation"]

Vec = list[PolyElement]


def step_coefficients(step: sp.Matrix, h: sp.Symbol, n_max: int) -> list[sp.Matrix]:
    """Taylor coefficients ``d_0, …, d_{n_max}`` of a one-step map in the step size.

    Parameters
    ----------
    step : sympy Matrix
        The map Φ_h(y) as a column of sympy expressions.
    h : sympy Symbol
        The step size.
    n_max : int
        Highest power of ``h`` wanted.

    Returns
    -------
    list of sympy Matrix
        ``d_n`` is the coefficient of ``h**n``.

    Examples
    --------
    >>> import sympy as sp
    >>> y, h = sp.symbols("y h")
    >>> step_coefficients(sp.Matrix([y + h * y**2]), h, 2)
    [Matrix([[y]]), Matrix([[y**2]]), Matrix([[0]])]
    """
    h = check_step_symbol(h)
    step = as_matrix(step, (h,), what="step map", check=False)
    coeffs: list[list[sp.Expr]] = [[] for _ in range(n_max + 1)]
    for comp in step:
        slope = sp.diff(comp, h)
        if not slope.has(h):  # affine in h (gradient descent): no polynomial in h to build
            coeffs[0].append(sp.expand(comp.subs(h, 0)))
            for n in range(1, n_max + 1):
                coeffs[n].append(slope if n == 1 else sp.Integer(0))
        elif comp.is_polynomial(h):
            poly = sp.Poly(comp, h)
            for n in range(n_max + 1):
                coeffs[n].append(poly.coeff_monomial(h**n))
        else:  # a map non-polynomial in h (e.g. a Runge-Kutta stage inside f): differentiate
            deriv = comp
            for n in range(n_max + 1):
                coeffs[n].append(sp.expand(deriv.subs(h, 0) / math.factorial(n)))
                deriv = sp.diff(deriv, h)
    return [sp.Matrix(c) for c in coeffs]


def _modified_terms(ring: DiffRing, d: Sequence[Vec], order: int) -> list[Vec]:
    """Run the Lie-series recurrence of the module docstring in the ring.

    The work is in the products P(k, i, j) = c[k][i]′ f_j, with c[k][m] = Σ_i P(k−1, i, m−i).
    Those with k = 2 are never formed from a Jacobian: the matching condition at order i + 2,
    solved for c[2][i], is linear, so

        P(2, i, j) = 2 d_{i+2}′ f_j − 2 P(1, i+1, j) − 2 Σ_{k=3}^{i+2} P(k, i+2−k, j) / k!,

    and every product on the right is one the recurrence needs anyway (each is a term of some
    c[k][m] with k + m ≤ order + 1). This saves the Jacobians of the c[2][i], which are among the
    largest elements (for gradient descent at order 2 one of four products, the largest).
    """
    dim = len(ring.state)
    one = QQ(1)
    terms: list[Vec] = [list(d[1])]
    c: dict[tuple[int, int], Vec] = {(1, 0): terms[0]}
    jac: dict[tuple, list[list[PolyElement]]] = {}
    # every product is kept as a linear form over the products formed from a Jacobian, so the
    # products of the second kind cost nothing until a term is summed
    formed: dict[object, Vec] = {}
    forms: dict[tuple[int, int, int], dict[object, object]] = {}

    def add_form(out: dict, form: dict, q) -> None:
        for key, r in form.items():
            out[key] = out.get(key, 0) + q * r

    def form(k: int, i: int, j: int) -> dict[object, object]:
        key = (k, i, j)
        if key not in forms:
            out: dict[object, object] = {}
            if k == 2:
                add_form(out, form(1, i + 1, j), QQ(-2))
                for kk in range(3, i + 3):
                    add_form(out, form(kk, i + 2 - kk, j), QQ(-2, math.factorial(kk)))
                if any(d[i + 2]):
                    if ("d", i + 2) not in jac:
                        jac[("d", i + 2)] = ring.jacobian(d[i + 2])
                    formed[("d", i + 2, j)] = [ring.dot(row, terms[j]) for row in jac[("d", i + 2)]]
                    out[("d", i + 2, j)] = QQ(2)
            else:
                if (k, i) not in jac:
                    jac[(k, i)] = ring.jacobian(c[(k, i)])
                formed[key] = [ring.dot(row, terms[j]) for row in jac[(k, i)]]
                out[key] = one
            forms[key] = out
        return forms[key]

    def evaluate(total: dict[object, object], start: Vec | None = None) -> Vec:
        pieces = [(q, formed[key]) for key, q in total.items() if q]
        if start is not None:
            pieces.insert(0, (one, start))
        return [ring.combine([(q, vec[r]) for q, vec in pieces]) for r in range(dim)]

    for n in progress(range(2, order + 2), "modified flow, order", total=order):
        total: dict[object, object] = {}
        for k in range(2, n + 1):
            m = n - k
            part: dict[object, object] = {}
            for i in range(m + 1):
                add_form(part, form(k - 1, i, m - i), one)
            add_form(total, part, QQ(-1, math.factorial(k)))
            if k != 2 and n <= order:  # c[2][m] is never differentiated (see above)
                c[(k, m)] = evaluate(part)
        terms.append(evaluate(total, d[n]))
        c[(1, n - 1)] = terms[-1]
    return terms


def taylor_modified_equation(
    step, state: Sequence[sp.Symbol], h: sp.Symbol, order: int, *, max_order: int | None = None
) -> ModifiedFlow:
    """Modified vector field of an explicit one-step map, by the recurrence of the module docstring.

    Parameters
    ----------
    step : sympy Matrix
        The one-step map Φ_h(y) as a column of expressions in ``state`` and ``h``; other free
        symbols are constants. It must be consistent: Φ_0(y) = y.
    state : sequence of sympy Symbol
        The state variables y.
    h : sympy Symbol
        The step-size symbol.
    order : int
        Highest power of ``h`` kept: the result has terms f_0, …, f_order.
    max_order : int, optional
        Raise the bound on ``order`` (default :data:`bea._checks.MAX_ORDER`).

    Returns
    -------
    ModifiedFlow
        ``terms[j]`` is the coefficient of ``h**j`` in the modified field.

    Raises
    ------
    InputError
        On a map of the wrong shape, an inconsistent map, or a map that is not smooth in h.

    Examples
    --------
    Explicit Euler on y' = y² (Hairer, Lubich & Wanner IX.1): ỹ′ = ỹ² − h ỹ³ + (3/2) h² ỹ⁴ − …

    >>> y, h = sp.symbols("y h")
    >>> taylor_modified_equation(sp.Matrix([y + h * y**2]), [y], h, 3).vector_field()
    Matrix([[-8*h**3*y**5/3 + 3*h**2*y**4/2 - h*y**3 + y**2]])
    """
    order = check_order(order, **({} if max_order is None else {"maximum": max_order}))
    state = check_symbols(state, "state")
    h = check_step_symbol(h)
    if h in state:
        raise InputError(f"the step size {h} cannot also be a state variable")
    step = as_matrix(step, (*state, h), what="step map", check=False)
    if step.shape != (len(state), 1):
        raise InputError(
            f"step must be a column of {len(state)} expressions (one per state variable), "
            f"got shape {step.shape}"
        )
    d = step_coefficients(step, h, order + 1)
    drift = (d[0] - sp.Matrix(state)).applyfunc(sp.expand)
    if any(e != 0 for e in drift):
        raise InputError(f"the step map is not consistent: at h = 0 it must return {list(state)}")
    rest = [e for n in range(1, order + 2) for e in d[n]]
    if any(e.has(h) or e.has(sp.zoo, sp.oo, -sp.oo, sp.nan) for e in rest):
        raise InputError("the step map is not smooth in h at h = 0")
    ring = DiffRing(rest, state)
    d_ring = [None] + [[ring.to_ring(e) for e in d[n]] for n in range(1, order + 2)]
    ring_terms = _modified_terms(ring, d_ring, order)
    return ModifiedFlow.from_ring(ring, ring_terms, state=state, h=h, method="map")
