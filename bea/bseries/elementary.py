"""Elementary differentials F(τ) of a concrete vector field, and B-series turned into fields.

F(•) = f and F([τ₁, …, τ_k]) = f^{(k)}(F(τ₁), …, F(τ_k)), computed exactly in bea's
differential polynomial ring. Each mixed partial ∂^k fᵢ/∂y_{j₁}…∂y_{j_k} is computed once, for
the sorted index tuple (Schwarz), and reused by every tree that needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import product

import sympy as sp

from .._checks import check_order, check_step_symbol, check_symbols
from ..diffring import DiffRing
from ..errors import InputError
from ..flow import ModifiedFlow
from ..parsing import as_expression
from .algebra import BSeries, as_sympy
from .trees import Tree, order, symmetry, trees_up_to

__all__ = ["elementary_differentials", "evaluate"]


class _Partials:
    """∂^k fᵢ / ∂y_J for sorted multi-indices J, memoised (a bounded set: one per J up to order)."""

    def __init__(self, ring: DiffRing, field):
        self.ring, self.memo = ring, {(i, ()): f for i, f in enumerate(field)}

    def get(self, i: int, idx: tuple) -> object:
        key = (i, idx)
        out = self.memo.get(key)
        if out is None:
            out = self.ring.diff(self.get(i, idx[:-1]), idx[-1])
            self.memo[key] = out
        return out


def elementary_differentials(
    field: Sequence[sp.Expr], state: Sequence[sp.Symbol], n: int, *, extra: Sequence = ()
) -> tuple[DiffRing, dict[Tree, list]]:
    """F(τ) for every tree with at most n nodes, as ring elements (one per component).

    Parameters
    ----------
    field : sequence of sympy expressions
        f(y), one component per state variable.
    state : sequence of sympy Symbol
    n : int
        Largest tree order.
    extra : sequence of sympy expressions
        Other expressions the ring must hold (e.g. symbolic B-series coefficients).

    Returns
    -------
    (DiffRing, dict)
        The ring and tree → list of its elements; ``ring.to_sympy`` converts back.

    Examples
    --------
    >>> import sympy as sp
    >>> u = sp.Symbol("u")
    >>> ring, F = elementary_differentials([u**2], [u], 3)
    >>> [ring.to_sympy(F[t][0]) for t in [(), ((),), (((),),), ((), ())]]
    [u**2, 2*u**3, 4*u**4, 2*u**4]
    """
    state = check_symbols(state, "state")
    field = [as_expression(e, state, what="vector field") for e in field]
    if len(field) != len(state):
        raise InputError(f"the field needs {len(state)} components, got {len(field)}")
    ring = DiffRing([*field, *extra], state)
    f = [ring.to_ring(e) for e in field]
    partials = _Partials(ring, f)
    d = len(state)
    F: dict[Tree, list] = {}
    for t in trees_up_to(n):
        if not t:
            F[t] = f
            continue
        args = [F[c] for c in t]
        comps = []
        for i in range(d):
            total = ring.ring.zero
            for idx in product(range(d), repeat=len(t)):
                term = None
                for a, j in zip(args, idx, strict=True):
                    if not a[j]:
                        term = None
                        break
                    term = a[j] if term is None else term * a[j]
                if term is not None:
                    total += partials.get(i, tuple(sorted(idx))) * term
            comps.append(total)
        F[t] = comps
    return ring, F


def evaluate(
    b: BSeries,
    field: Sequence[sp.Expr],
    state: Sequence[sp.Symbol],
    h: sp.Symbol,
    order_: int | None = None,
    *,
    method: str = "B-series",
) -> ModifiedFlow:
    """The field Σ_τ h^{∣τ∣−1} b(τ)/σ(τ) F(τ) of a concrete ``field``, as a :class:`ModifiedFlow`
    with terms f_j collecting the trees with j + 1 nodes (j = 0..order_).

    Examples
    --------
    Explicit Euler on y′ = y² (HLW IX.1): ỹ′ = y² − h y³ + (3/2) h² y⁴.

    >>> import sympy as sp
    >>> from bea.bseries import modified_equation
    >>> from bea.bseries.rk import EXPLICIT_EULER
    >>> u, h = sp.symbols("u h")
    >>> flow = evaluate(modified_equation(EXPLICIT_EULER.bseries(3)), [u**2], [u], h, 2)
    >>> flow.vector_field()
    Matrix([[3*h**2*u**4/2 - h*u**3 + u**2]])
    """
    order_ = b.order - 1 if order_ is None else check_order(order_, maximum=None)
    if order_ + 1 > b.order:
        raise InputError(f"a field of order {order_} needs a B-series to order {order_ + 1}")
    h = check_step_symbol(h)
    symbolic = [as_sympy(v) for v in b.coefficients.values() if not isinstance(v, Fraction)]
    ring, F = elementary_differentials(field, state, order_ + 1, extra=symbolic)
    d = len(F[()])
    terms = [[ring.ring.zero] * d for _ in range(order_ + 1)]
    for t, comps in F.items():
        coeff = b.raw(t)
        if coeff == 0:
            continue
        scale = ring.to_ring(as_sympy(coeff) / symmetry(t))  # exact; symbols become constants
        j = order(t) - 1
        for i in range(d):
            if comps[i]:
                terms[j][i] += comps[i] * scale
    return ModifiedFlow.from_ring(ring, terms, state=tuple(state), h=h, method=method)
