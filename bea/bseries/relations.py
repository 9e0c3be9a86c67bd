"""Methods defined by a linear relation between iterates, on trees: linear multistep methods,
momentum methods and their relatives.

A *linear relation* method on y' = f(y) is

    Σ_s α_s y_{n+s} = h Σ_j γ_j f( Σ_s μ_{j,s} y_{n+s} ),

with shifts s (… −1, 0, 1 …). Explicit and implicit Euler, the linear multistep methods (leapfrog,
Adams–Bashforth, BDF), heavy-ball momentum (α = (1, −(1+β), β), f at y_n) and Nesterov momentum
(f at (1+β)y_n − βy_{n−1}) are all of this form. After the transient its iterates lie on the flow
of one modified field (the *underlying one-step method*, Hairer, Lubich & Wanner XV.2), which is
a B-series field f̃ = Σ_τ h^{∣τ∣−1} b(τ)/σ(τ) F(τ). With y_{n+s} = exact flow of f̃ for time sh,
whose B-series is the substitution a_s = (s b) ⋆ e of the exact flow e, and h f(B(c, y)) the
B-series c′ (c′(•) = 1, c′([τ₁,…,τ_k]) = Π c(τᵢ)), the relation reads, tree by tree,

    Σ_s α_s a_s(τ) = Σ_j γ_j c_j′(τ),   c_j = Σ_s μ_{j,s} a_s.

b(τ) enters a_s(τ) only as s b(τ), so the coefficients are solved tree by tree, in order, exactly:

    b(τ) = (Σ_j γ_j c_j′(τ) − Σ_s α_s a_s(τ)|_{b(τ)=0}) / Σ_s s α_s.

(The parasitic solutions of a multistep method are not described: they are the transient that
a start on the underlying one-step method's flow avoids.)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from .._checks import check_order
from ..errors import InputError
from .algebra import BSeries, as_sympy, exact_coefficient, exact_flow, from_values, substitute
from .trees import trees

__all__ = [
    "LinearRelation",
    "adams_bashforth2",
    "bdf2",
    "heavy_ball",
    "leapfrog",
    "nesterov",
    "relation_modified_equation",
]


def _is_zero(value) -> bool:
    """Exact zero test of a coefficient: rationals directly, symbolic ones by simplification."""
    value = as_sympy(value)
    return value == 0 if value.is_Rational else sp.simplify(value) == 0


@dataclass(frozen=True)
class LinearRelation:
    """Σ_s α_s y_{n+s} = h Σ_j γ_j f(Σ_s μ_{j,s} y_{n+s}) (see the module docstring).

    Parameters
    ----------
    alpha : dict int → number or sympy expression
        α_s by shift s; Σ α_s = 0 (consistency).
    evaluations : sequence of (γ_j, dict int → μ_{j,s})
        Each evaluation of f: its weight γ_j and the combination of iterates it is taken at
        (Σ_s μ_{j,s} = 1).
    name : str

    Examples
    --------
    Explicit Euler y_{n+1} − y_n = h f(y_n):

    >>> euler = LinearRelation({1: 1, 0: -1}, [(1, {0: 1})], "explicit Euler")
    >>> relation_modified_equation(euler, 3)[((),)]
    -1/2
    """

    alpha: dict
    evaluations: tuple
    name: str = "linear relation"

    def __post_init__(self):
        alpha = {int(s): exact_coefficient(a) for s, a in dict(self.alpha).items()}
        evals = []
        for gamma, mu in self.evaluations:
            mu = {int(s): exact_coefficient(m) for s, m in dict(mu).items()}
            if not _is_zero(sum(mu.values(), Fraction(0)) - 1):
                raise InputError(
                    f"{self.name}: each evaluation point must be Σ μ_s y_(n+s) with Σ μ_s = 1"
                )
            evals.append((exact_coefficient(gamma), mu))
        if not evals:
            raise InputError(f"{self.name}: the relation needs at least one evaluation of f")
        if not _is_zero(sum(alpha.values(), Fraction(0))):
            raise InputError(f"{self.name} is not consistent: Σ α_s must be 0")
        speed = sum((s * a for s, a in alpha.items()), Fraction(0))
        if _is_zero(speed):
            raise InputError(f"{self.name}: Σ s α_s must be non-zero (the relation fixes no flow)")
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "evaluations", tuple(evals))

    @property
    def shifts(self) -> tuple[int, ...]:
        """Every shift the relation uses."""
        used = set(self.alpha)
        for _, mu in self.evaluations:
            used |= set(mu)
        return tuple(sorted(used))


def _scaled(b: BSeries, s: int) -> BSeries:
    return BSeries({t: v * s for t, v in b.coefficients.items()}, 0, b.order)


def relation_modified_equation(method: LinearRelation, n: int) -> BSeries:
    """The B-series b of the underlying one-step method's modified field, trees up to n nodes.

    Parameters
    ----------
    method : LinearRelation
    n : int
        Largest tree order (the field to order h^{n−1}).

    Returns
    -------
    BSeries
        With b(∅) = 0.

    Examples
    --------
    Heavy ball with β = 1/2 (step time): b(•) = 1/(1 − β) = 2, and f₁ = −(1+β)/(2(1−β)²)·f′f/…:

    >>> b = relation_modified_equation(heavy_ball(sp.Rational(1, 2)), 2)
    >>> b[()], b[((),)]
    (2, -6)
    """
    if not isinstance(method, LinearRelation):
        raise InputError(f"expected a LinearRelation, got {type(method).__name__}")
    n = check_order(n, what="tree order")
    alpha, evals = method.alpha, method.evaluations
    speed = sum((s * a for s, a in alpha.items()), Fraction(0))
    b: dict = {}
    for k in range(1, n + 1):
        current = from_values(b, 0, k)
        e = exact_flow(k)
        flows = {s: substitute(_scaled(current, s), e) for s in method.shifts}
        for t in trees(k):
            rhs = Fraction(0)
            for gamma, mu in evals:
                term = Fraction(1)
                for child in t:  # c′([τ₁..τ_m]) = Π c(τᵢ), c = Σ μ_s a_s
                    c = sum((m * flows[s].raw(child) for s, m in mu.items()), Fraction(0))
                    term = term * c
                rhs = rhs + gamma * term
            lhs = sum((a * flows[s].raw(t) for s, a in alpha.items()), Fraction(0))
            value = (rhs - lhs) / speed
            if not isinstance(value, Fraction):
                value = sp.factor(sp.cancel(value))
            if value != 0:
                b[t] = value
    return from_values(b, 0, n)


def _relation(alpha, evaluations, name) -> LinearRelation:
    return LinearRelation(alpha, tuple(evaluations), name)


def heavy_ball(beta, time: str = "step") -> LinearRelation:
    """Heavy-ball momentum on y' = f: y_{n+1} − y_n − β(y_n − y_{n−1}) = h f(y_n) (with f = −∇E
    this is :class:`bea.optim.HeavyBall`); in effective time the right side is h(1 − β)f(y_n).

    Examples
    --------
    >>> heavy_ball(sp.Rational(9, 10)).alpha
    {1: Fraction(1, 1), 0: Fraction(-19, 10), -1: Fraction(9, 10)}
    """
    beta = exact_coefficient(beta)
    rate = 1 if time == "step" else 1 - beta
    if time not in ("step", "effective"):
        raise InputError(f"time must be 'step' or 'effective', got {time!r}")
    return _relation({1: 1, 0: -1 - beta, -1: beta}, [(rate, {0: 1})], "heavy ball")


def nesterov(beta, time: str = "step") -> LinearRelation:
    """Nesterov momentum: f at the look-ahead point (1 + β)y_n − βy_{n−1}.

    Examples
    --------
    >>> nesterov(sp.Rational(1, 2)).evaluations
    ((Fraction(1, 1), {0: Fraction(3, 2), -1: Fraction(-1, 2)}),)
    """
    beta = exact_coefficient(beta)
    if time not in ("step", "effective"):
        raise InputError(f"time must be 'step' or 'effective', got {time!r}")
    rate = 1 if time == "step" else 1 - beta
    return _relation({1: 1, 0: -1 - beta, -1: beta}, [(rate, {0: 1 + beta, -1: -beta})], "Nesterov")


def leapfrog() -> LinearRelation:
    """The leapfrog (explicit midpoint two-step) method y_{n+1} − y_{n−1} = 2h f(y_n).

    Examples
    --------
    >>> b = relation_modified_equation(leapfrog(), 3)
    >>> b[((),)], b[((), ())], b[(((),),)]     # f₁ = 0, f₂ = −(f″(f,f) + f′f′f)/6
    (0, -1/3, -1/6)
    """
    return _relation({1: 1, -1: -1}, [(2, {0: 1})], "leapfrog")


def adams_bashforth2() -> LinearRelation:
    """The two-step Adams–Bashforth method y_{n+1} − y_n = h(3f(y_n) − f(y_{n−1}))/2.

    Examples
    --------
    >>> relation_modified_equation(adams_bashforth2(), 3)[((),)]     # second order: f₁ = 0
    0
    """
    return _relation({1: 1, 0: -1}, [(Fraction(3, 2), {0: 1}), (Fraction(-1, 2), {-1: 1})], "AB2")


def bdf2() -> LinearRelation:
    """The two-step backward differentiation formula
    (3/2)y_{n+1} − 2y_n + (1/2)y_{n−1} = h f(y_{n+1}).

    Examples
    --------
    >>> relation_modified_equation(bdf2(), 3)[((),)]
    0
    """
    return _relation({1: Fraction(3, 2), 0: -2, -1: Fraction(1, 2)}, [(1, {1: 1})], "BDF2")
