"""B-series and their algebra: composition, substitution, Lie derivative, modified equations.

Normalisation (used everywhere in bea, as in Hairer, Lubich & Wanner, *Geometric Numerical
Integration*, ch. III and IX):

* an integrator's B-series is  B(a, y) = a(∅) y + Σ_τ h^{∣τ∣} a(τ)/σ(τ) F(τ)(y);
* a modified vector field is   f̃(y) = Σ_τ h^{∣τ∣−1} b(τ)/σ(τ) F(τ)(y)   (b(∅) = 0);
* the exact flow has e(τ) = 1/γ(τ); a Runge–Kutta method has a(τ) = Φ(τ), its elementary weight.

With this normalisation the composition and substitution laws are sums over the *labelled*
subtrees and edge partitions of one labelled instance of τ (Chartier, Hairer & Vilmart 2010).
Coefficients are exact: Python fractions for rational series (fast), sympy expressions for
symbolic ones (a tableau with a free parameter).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import factorial

import sympy as sp

from ..errors import InputError
from ..parsing import as_expression, parse_expression
from .trees import Tree, canonical, density, order, tree_str, trees, trees_up_to

__all__ = [
    "BSeries",
    "compose",
    "exact_flow",
    "lie_derivative",
    "modified_equation",
    "modifying_integrator",
    "substitute",
]


def exact_coefficient(x):
    """A coefficient as an exact number: Fraction if rational, else a sympy expression.

    Strings are read by bea's safe parser (never evaluated); floats are refused.

    Examples
    --------
    >>> exact_coefficient("1/3"), exact_coefficient(sp.Symbol("c") / 2)
    (Fraction(1, 3), c/2)
    """
    if isinstance(x, bool):
        raise InputError(f"B-series coefficients must be numbers or expressions, got {x!r}")
    if isinstance(x, Fraction | int):
        return Fraction(x)
    if isinstance(x, float):
        raise InputError(f"B-series coefficients must be exact, got the float {x!r}")
    if isinstance(x, str):
        x = parse_expression(x, what="coefficient")
    elif not isinstance(x, sp.Basic):
        raise InputError(f"B-series coefficients must be numbers or expressions, got {x!r}")
    elif x.has(sp.Float):
        raise InputError(f"B-series coefficients must be exact, got {x}")
    else:
        x = as_expression(x, what="coefficient")
    if x.is_Rational:
        return Fraction(int(x.p), int(x.q))
    return x


def as_sympy(x):
    """A coefficient (Fraction or sympy expression) as a sympy expression.

    Examples
    --------
    >>> as_sympy(Fraction(1, 6))
    1/6
    """
    return sp.Rational(x.numerator, x.denominator) if isinstance(x, Fraction) else sp.expand(x)


@dataclass(frozen=True)
class BSeries:
    """A truncated B-series: exact coefficients of the trees up to ``order``.

    Attributes
    ----------
    coefficients : dict
        Tree → coefficient (missing trees up to ``order`` count as 0).
    empty : number
        The coefficient of the empty tree ∅ (1 for an integrator, 0 for a vector field).
    order : int
        Trees with more nodes are not represented.

    Examples
    --------
    >>> e = exact_flow(3)
    >>> e[((),)], e[((), ())]
    (1/2, 1/3)
    >>> print(e)
    B-series to order 3: ∅: 1, •: 1, [•]: 1/2, [[•]]: 1/6, [•, •]: 1/3
    """

    coefficients: dict
    empty: object
    order: int

    def __getitem__(self, t: Tree):
        """The coefficient of tree ``t`` as a sympy number or expression."""
        if order(t) > self.order:
            raise InputError(f"this B-series stops at order {self.order}, tree {tree_str(t)}")
        return as_sympy(self.coefficients.get(t, Fraction(0)))

    def raw(self, t: Tree):
        """The coefficient in the internal exact type (Fraction or sympy)."""
        return self.coefficients.get(t, Fraction(0))

    def __str__(self) -> str:
        parts = [f"∅: {as_sympy(self.empty)}"] + [
            f"{tree_str(t)}: {self[t]}" for t in trees_up_to(self.order)
        ]
        return f"B-series to order {self.order}: " + ", ".join(parts)

    def truncate(self, n: int) -> BSeries:
        """The same series up to order n ≤ ``order``."""
        if n > self.order:
            raise InputError(f"cannot extend a B-series of order {self.order} to {n}")
        return BSeries({t: v for t, v in self.coefficients.items() if order(t) <= n}, self.empty, n)


def from_values(values: dict, empty, n: int) -> BSeries:
    """A B-series to order n from tree → coefficient (zeros dropped).

    Examples
    --------
    >>> from_values({(): Fraction(1)}, 0, 1)[()]
    1
    """
    return BSeries({t: v for t, v in values.items() if v != 0}, exact_coefficient(empty), n)


def exact_flow(n: int) -> BSeries:
    """The exact flow's B-series, e(τ) = 1/γ(τ), to order n.

    Examples
    --------
    >>> exact_flow(2)[((),)]
    1/2
    """
    return from_values({t: Fraction(1, density(t)) for t in trees_up_to(n)}, 1, n)


# ---------------------------------------------------------------- labelled-tree enumerations
@lru_cache(maxsize=16384)
def _branches(t: Tree) -> tuple:
    """For each non-root node v of a labelled τ: (τ with v's subtree removed, v's subtree)."""
    out = []
    for i, c in enumerate(t):
        rest = t[:i] + t[i + 1 :]
        out.append((canonical(rest), c))
        for kept, branch in _branches(c):  # deeper nodes: remove inside child i
            out.append((canonical((*rest, kept)), branch))
    return tuple(out)


@lru_cache(maxsize=16384)
def _rooted_cuts(t: Tree) -> tuple:
    """All (kept subtree containing the root, removed forest) of a labelled τ."""
    options = [((), ())]  # (kept children, removed trees)
    for c in t:
        new = []
        for kept, removed in options:
            new.append((kept, (*removed, c)))  # the whole child removed
            for ck, cr in _rooted_cuts(c):
                new.append(((*kept, ck), (*removed, *cr)))
        options = new
    return tuple((canonical(k), tuple(sorted(r, reverse=True))) for k, r in options)


@lru_cache(maxsize=8192)
def _cuts(t: Tree) -> tuple:
    """Counter items ((kept or None for ∅, removed forest), multiplicity) for composition."""
    count = Counter(_rooted_cuts(t))
    count[(None, (t,))] += 1
    return tuple(count.items())


@lru_cache(maxsize=16384)
def _partitions_raw(t: Tree) -> tuple:
    """Edge partitions of a labelled τ: (root part, other parts, skeleton children)."""
    options = [((), (), ())]
    for c in t:
        new = []
        for root, others, skel in options:
            for croot, cothers, cskel in _partitions_raw(c):
                # keep the edge: c's root part merges into the root part
                new.append(((*root, croot), (*others, *cothers), (*skel, *cskel)))
                # cut the edge: c's root part is a new part, a skeleton child of the root part
                new.append((root, (*others, croot, *cothers), (*skel, canonical(cskel))))
        options = new
    return tuple((canonical(r), o, s) for r, o, s in options)


@lru_cache(maxsize=8192)
def _partitions(t: Tree) -> tuple:
    """Counter items ((parts, skeleton), multiplicity) for substitution."""
    count = Counter()
    for root, others, skel in _partitions_raw(t):
        parts = tuple(sorted((root, *others), reverse=True))
        count[(parts, canonical(skel))] += 1
    return tuple(count.items())


# ---------------------------------------------------------------- the laws
def _check(*series: BSeries) -> int:
    for s in series:
        if not isinstance(s, BSeries):
            raise InputError(f"expected a BSeries, got {type(s).__name__}")
    return min(s.order for s in series)


def compose(a: BSeries, b: BSeries) -> BSeries:
    """The B-series of "first a, then b": B(b, B(a, y)) = B(a·b, y) (b must have b(∅) = 1).

    Examples
    --------
    Two exact half steps make one exact full step:

    >>> half = BSeries({t: v / 2 ** order(t) for t, v in exact_flow(4).coefficients.items()},
    ...                1, 4)
    >>> compose(half, half).coefficients == exact_flow(4).coefficients
    True
    """
    n = _check(a, b)
    if b.empty != 1:
        raise InputError("compose(a, b) needs b(∅) = 1 (b an integrator)")
    out = {}
    for t in trees_up_to(n):
        total = Fraction(0)
        for (kept, removed), mult in _cuts(t):
            term = a.empty if kept is None else a.raw(kept)
            for r in removed:
                term = term * b.raw(r)
            total += mult * term
        out[t] = total
    return from_values(out, a.empty, n)


def substitute(b: BSeries, a: BSeries) -> BSeries:
    """The B-series of the integrator a applied to the vector field B-series b: (b ⋆ a).

    (b ⋆ a)(τ) = Σ over edge partitions of τ of Π b(parts) · a(skeleton); b(∅) must be 0.

    Examples
    --------
    The exact flow of explicit Euler's modified field is explicit Euler:

    >>> from bea.bseries.rk import EXPLICIT_EULER
    >>> a = EXPLICIT_EULER.bseries(4)
    >>> substitute(modified_equation(a, 4), exact_flow(4)).coefficients == a.coefficients
    True
    """
    n = _check(a, b)
    if b.empty != 0:
        raise InputError("substitute(b, a) needs b(∅) = 0 (b a vector field)")
    out = {}
    for t in trees_up_to(n):
        total = Fraction(0)
        for (parts, skel), mult in _partitions(t):
            term = a.raw(skel)
            if term == 0:
                continue
            for p in parts:
                term = term * b.raw(p)
            total += mult * term
        out[t] = total
    return from_values(out, a.empty, n)


def lie_derivative(a: BSeries, b: BSeries) -> BSeries:
    """∂_b a: the B-series of the derivative of B(a, y) along the field B(b, y)/h.

    (∂_b a)(τ) = a(∅) b(τ) + Σ over non-root nodes v of a(τ ∖ τ_v) b(τ_v).

    Examples
    --------
    >>> f = BSeries({(): Fraction(1)}, 0, 3)            # the field f itself
    >>> lie_derivative(exact_flow(3), f)[((),)]          # d/dh of the flow's h f'f/2 term
    1
    """
    n = _check(a, b)
    out = {}
    for t in trees_up_to(n):
        total = a.empty * b.raw(t)
        for rest, branch in _branches(t):
            total += a.raw(rest) * b.raw(branch)
        out[t] = total
    return from_values(out, 0, n)


def modified_equation(a: BSeries, n: int | None = None) -> BSeries:
    """The modified field's coefficients b: the exact flow of Σ h^{∣τ∣−1} b(τ)/σ(τ) F(τ) has
    the B-series a (HLW IX.9: a = Σ_k ∂_b^{k−1} b / k!, solved for b order by order).

    Examples
    --------
    Explicit Euler: b(•) = 1, b([•]) = −1/2, b([[•]]) = 1/3, b([•, •]) = 1/6.

    >>> from bea.bseries.rk import EXPLICIT_EULER
    >>> b = modified_equation(EXPLICIT_EULER.bseries(3))
    >>> [b[t] for t in trees_up_to(3)]
    [1, -1/2, 1/3, 1/6]
    """
    n = a.order if n is None else n
    if n > a.order:
        raise InputError(f"the method's B-series stops at order {a.order} < {n}")
    if a.empty != 1:
        raise InputError("modified_equation needs an integrator: a(∅) = 1")
    if a.raw(()) != 1:
        raise InputError("the method is not consistent: a(•) must be 1")
    b: dict = {}
    D: list[dict] = [b]  # D[j] = ∂_b^j b, filled order by order
    facts = [factorial(k) for k in range(n + 2)]
    for m in range(1, n + 1):
        for t in _trees_of(m):
            for j in range(1, m):
                if len(D) <= j:
                    D.append({})
                prev = D[j - 1]
                total = Fraction(0)
                for rest, branch in _branches(t):
                    x = prev.get(rest)
                    if x is not None:
                        y = b.get(branch)
                        if y is not None:
                            total += x * y
                if total != 0:
                    D[j][t] = total
            value = a.raw(t)
            for k in range(2, m + 1):
                d = D[k - 1].get(t) if len(D) > k - 1 else None
                if d is not None:
                    value -= d / facts[k] if isinstance(d, Fraction) else d / sp.Integer(facts[k])
            if value != 0:
                b[t] = value
    return from_values(b, 0, n)


def modifying_integrator(a: BSeries, n: int | None = None) -> BSeries:
    """The field c such that the method a applied to Σ h^{∣τ∣−1} c(τ)/σ(τ) F(τ) reproduces the
    exact flow of f up to order n (solves c ⋆ a = e order by order).

    Examples
    --------
    >>> from bea.bseries.rk import EXPLICIT_EULER
    >>> c = modifying_integrator(EXPLICIT_EULER.bseries(3))
    >>> [c[t] for t in trees_up_to(3)]
    [1, 1/2, 1/6, 1/3]
    """
    n = a.order if n is None else n
    if n > a.order:
        raise InputError(f"the method's B-series stops at order {a.order} < {n}")
    a1 = a.raw(())
    if a1 == 0:
        raise InputError("the method is not consistent: a(•) must be non-zero")
    c: dict = {}
    for t in trees_up_to(n):
        rest = Fraction(1, density(t))
        for (parts, skel), mult in _partitions(t):
            if skel == ():  # the single-part partition: c(τ) a(•)
                continue
            term = a.raw(skel)
            if term == 0:
                continue
            for p in parts:
                term = term * c.get(p, 0)
            rest -= mult * term
        value = rest / a1
        if value != 0:
            c[t] = value
    return from_values(c, 0, n)


def _trees_of(m: int):
    return trees(m)
