"""Runge–Kutta methods as B-series: elementary weights, a library of named tableaus, order and
symplecticity checks."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from .._checks import check_symbols
from ..errors import InputError
from ..parsing import as_expression, as_matrix
from ..step import StepMap
from .algebra import BSeries, exact_coefficient, exact_flow, from_values
from .trees import butcher_product, order, trees_up_to

__all__ = [
    "EXPLICIT_EULER",
    "EXPLICIT_MIDPOINT",
    "GAUSS4",
    "HEUN",
    "IMPLICIT_EULER",
    "IMPLICIT_MIDPOINT",
    "METHODS",
    "RK4",
    "TRAPEZOID",
    "RungeKutta",
    "order_of_accuracy",
    "symplecticity_order",
]


@dataclass(frozen=True)
class RungeKutta:
    """A Runge–Kutta method given by its Butcher tableau (A, b, c), exact or symbolic.

    Parameters
    ----------
    A : square matrix (nested lists or sympy Matrix)
    b : sequence
    c : sequence, optional
        Default: row sums of A.
    name : str

    Examples
    --------
    >>> rk = RungeKutta([[0, 0], [1, 0]], [sp.Rational(1, 2), sp.Rational(1, 2)], name="Heun")
    >>> rk.bseries(3)[((),)], order_of_accuracy(rk.bseries(4))
    (1/2, 2)
    """

    A: sp.Matrix
    b: sp.Matrix
    c: sp.Matrix | None = None
    name: str = "Runge-Kutta"

    def __post_init__(self):
        for part in (self.A, self.b, self.c if self.c is not None else ()):
            _refuse_floats(part)
        A = as_matrix(self.A, what="Butcher tableau")
        b = as_matrix(self.b, what="Butcher tableau")
        b = b.reshape(len(b), 1)
        s = b.shape[0]
        if A.shape != (s, s):
            raise InputError(f"A must be {s}x{s} to match b with {s} stages, got {A.shape}")
        for x in (*A, *b):
            exact_coefficient(x)  # floats are refused
        c = (
            sp.Matrix([sum(A.row(i)) for i in range(s)])
            if self.c is None
            else as_matrix(self.c, what="Butcher tableau")
        )
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", c.reshape(s, 1))

    @property
    def stages(self) -> int:
        """Number of stages s."""
        return self.b.shape[0]

    @property
    def explicit(self) -> bool:
        """Whether A is strictly lower triangular."""
        return all(self.A[i, j] == 0 for i in range(self.stages) for j in range(i, self.stages))

    def bseries(self, n: int) -> BSeries:
        """The method's B-series a(τ) = Φ(τ) = bᵀ φ(τ) with φ(•) = 𝟙,
        φ([τ₁, …, τ_k]) = Π (A φ(τᵢ)) (componentwise), up to order n.

        Examples
        --------
        >>> RK4.bseries(4)[(((),),)]
        1/6
        """
        s = self.stages
        A = [[exact_coefficient(self.A[i, j]) for j in range(s)] for i in range(s)]
        b = [exact_coefficient(x) for x in self.b]
        phi, Aphi, out = {}, {}, {}
        for t in trees_up_to(n):
            vec = [Fraction(1)] * s
            for child in t:
                w = Aphi[child]
                vec = [vec[i] * w[i] for i in range(s)]
            phi[t] = vec
            Aphi[t] = [sum((A[i][j] * vec[j] for j in range(s)), Fraction(0)) for i in range(s)]
            out[t] = _simplify(sum((b[i] * vec[i] for i in range(s)), Fraction(0)))
        return from_values(out, 1, n)

    def step_map(self, field, state, h: sp.Symbol):
        """The one-step map of an explicit method on ``field``, as a :class:`bea.step.StepMap`
        (for :func:`bea.verify_flow` and the Taylor route).

        Examples
        --------
        >>> y, h = sp.symbols("y h")
        >>> HEUN.step_map([y**2], [y], h).step
        Matrix([[h*(y**2/2 + (h*y**2 + y)**2/2) + y]])
        """
        if not self.explicit:
            raise InputError(f"{self.name} is implicit: its step is defined by an equation")
        state = check_symbols(state, "state")
        field = [as_expression(f, state, what="vector field") for f in field]
        if len(field) != len(state):
            raise InputError(f"the field needs {len(state)} components, got {len(field)}")
        ks: list[list[sp.Expr]] = []
        for i in range(self.stages):
            arg = [
                y + h * sum((self.A[i, j] * ks[j][c] for j in range(i)), sp.Integer(0))
                for c, y in enumerate(state)
            ]
            ks.append(
                [f.subs(dict(zip(state, arg, strict=True)), simultaneous=True) for f in field]
            )
        new = [
            y + h * sum((self.b[i] * ks[i][c] for i in range(self.stages)), sp.Integer(0))
            for c, y in enumerate(state)
        ]
        return StepMap(sp.Matrix(new), state, h, self.name)

    def is_symplectic(self) -> bool:
        """Whether bᵢaᵢⱼ + bⱼaⱼᵢ − bᵢbⱼ = 0 for all i, j (Sanz-Serna's condition).

        Examples
        --------
        >>> IMPLICIT_MIDPOINT.is_symplectic(), EXPLICIT_EULER.is_symplectic()
        (True, False)
        """
        s, A, b = self.stages, self.A, self.b
        return all(
            sp.simplify(b[i] * A[i, j] + b[j] * A[j, i] - b[i] * b[j]) == 0
            for i in range(s)
            for j in range(s)
        )


def _refuse_floats(value) -> None:
    """Tableau entries must be exact: floats (0.1 is not 1/10) are refused."""
    if isinstance(value, float | sp.Float):
        raise InputError(f"Butcher tableau entries must be exact, got the float {value!r}")
    if isinstance(value, sp.Basic):
        if value.has(sp.Float):
            raise InputError(f"Butcher tableau entries must be exact, got {value}")
        return
    if isinstance(value, list | tuple | sp.MatrixBase):
        for v in value:
            _refuse_floats(v)


def _simplify(x):
    return x if isinstance(x, Fraction) else exact_coefficient(sp.radsimp(sp.expand(x)))


def order_of_accuracy(a: BSeries) -> int:
    """The largest p with a(τ) = 1/γ(τ) for every tree with ∣τ∣ ≤ p (at most a.order).

    Examples
    --------
    >>> order_of_accuracy(RK4.bseries(6)), order_of_accuracy(EXPLICIT_EULER.bseries(3))
    (4, 1)
    """
    e = exact_flow(a.order)
    for t in trees_up_to(a.order):
        if sp.simplify(a[t] - e[t]) != 0:
            return order(t) - 1
    return a.order


def symplecticity_order(a: BSeries) -> int:
    """The largest p such that a(u∘v) + a(v∘u) = a(u)a(v) for all trees with ∣u∣ + ∣v∣ ≤ p —
    the condition for a B-series integrator to be symplectic (Calvo & Sanz-Serna), up to order p.
    Returns ``a.order`` if it holds throughout.

    Examples
    --------
    >>> symplecticity_order(IMPLICIT_MIDPOINT.bseries(6)), symplecticity_order(RK4.bseries(6))
    (6, 4)
    """
    ts = trees_up_to(a.order)
    for n in range(2, a.order + 1):
        for u in ts:
            for v in ts:
                if order(u) + order(v) != n:
                    continue
                lhs = a[butcher_product(u, v)] + a[butcher_product(v, u)]
                if sp.simplify(lhs - a[u] * a[v]) != 0:
                    return n - 1
    return a.order


_h = sp.Rational(1, 2)
_r3 = sp.sqrt(3) / 6
EXPLICIT_EULER = RungeKutta([[0]], [1], name="explicit Euler")
IMPLICIT_EULER = RungeKutta([[1]], [1], name="implicit Euler")
EXPLICIT_MIDPOINT = RungeKutta([[0, 0], [_h, 0]], [0, 1], name="explicit midpoint")
IMPLICIT_MIDPOINT = RungeKutta([[_h]], [1], name="implicit midpoint")
HEUN = RungeKutta([[0, 0], [1, 0]], [_h, _h], name="Heun")
TRAPEZOID = RungeKutta([[0, 0], [_h, _h]], [_h, _h], name="trapezoid")
RK4 = RungeKutta(
    [[0, 0, 0, 0], [_h, 0, 0, 0], [0, _h, 0, 0], [0, 0, 1, 0]],
    [sp.Rational(1, 6), sp.Rational(1, 3), sp.Rational(1, 3), sp.Rational(1, 6)],
    name="RK4",
)
GAUSS4 = RungeKutta(
    [[sp.Rational(1, 4), sp.Rational(1, 4) - _r3], [sp.Rational(1, 4) + _r3, sp.Rational(1, 4)]],
    [_h, _h],
    name="Gauss (order 4)",
)

#: Named methods.
METHODS = {
    m.name: m
    for m in (
        EXPLICIT_EULER,
        IMPLICIT_EULER,
        EXPLICIT_MIDPOINT,
        IMPLICIT_MIDPOINT,
        HEUN,
        TRAPEZOID,
        RK4,
        GAUSS4,
    )
}
